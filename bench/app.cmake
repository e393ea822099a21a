# Benchmarks of the executables.
if(TARGET memlife)
  add_executable(bench_serve bench_serve.cpp)
  target_include_directories(bench_serve PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(bench_serve PRIVATE benchmark::benchmark)
  target_compile_definitions(bench_serve PRIVATE MEMLIFE_CLI="$<TARGET_FILE:memlife>")
  add_dependencies(bench_serve memlife)
endif()
