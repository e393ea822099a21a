# Benchmarks of the executables.
if(TARGET memlife)
  add_executable(bench_serve bench_serve.cpp)
  target_include_directories(bench_serve PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(bench_serve PRIVATE benchmark::benchmark)
  target_compile_definitions(bench_serve PRIVATE MEMLIFE_CLI="$<TARGET_FILE:memlife>")
  add_dependencies(bench_serve memlife)
endif()
# memlife record around a real nginx under wrk, against nginx alone and under heaptrack.
if(TARGET memlife AND TARGET memlife_preload)
  add_executable(bench_record bench_record.cpp)
  target_include_directories(bench_record PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                             ${PROJECT_SOURCE_DIR}/tests/record) # nginx_prefix.hpp
  target_link_libraries(bench_record PRIVATE benchmark::benchmark)
  target_compile_definitions(bench_record PRIVATE MEMLIFE_CLI="$<TARGET_FILE:memlife>")
  add_dependencies(bench_record memlife memlife_preload)
endif()
