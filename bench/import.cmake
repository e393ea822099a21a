# Benchmarks of the importers (data/src/import/).
if(TARGET memlife_data)
  memlife_bench(bench_import LIBS memlife::data)
  target_compile_definitions(bench_import PRIVATE MEMLIFE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
