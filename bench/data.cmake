# The trace store's benchmarks (the recorder's hot path, persistence rate, sustained load).
if(TARGET memlife_data)
  find_package(SQLite3 REQUIRED)
  memlife_bench(bench_recorder LIBS memlife::data SQLite::SQLite3)
endif()
# Call stacks: recording with and without them, against heaptrack and plain malloc.
if(TARGET memlife_data)
  memlife_bench(bench_stacks LIBS memlife::data)
endif()
