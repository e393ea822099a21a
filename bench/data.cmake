# The trace store's benchmarks (the recorder's hot path, persistence rate, sustained load).
if(TARGET memlife_data)
  find_package(SQLite3 REQUIRED)
  memlife_bench(bench_recorder LIBS memlife::data SQLite::SQLite3)
endif()
# Call stacks: recording with and without them, against heaptrack and plain malloc.
# The unwinders are measured too (libunwind, glibc's backtrace, frame pointers).
if(TARGET memlife_data)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)
  memlife_bench(bench_stacks LIBS memlife::data PkgConfig::LIBUNWIND)
  target_sources(bench_stacks PRIVATE stack_chain.cpp)
  set_source_files_properties(stack_chain.cpp PROPERTIES COMPILE_OPTIONS -fno-omit-frame-pointer)
endif()
