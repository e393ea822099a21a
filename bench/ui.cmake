# The GUI's benchmark: process start to first painted chart on a 10-million-event trace,
# and the peak memory, against reading the same sessions table with the sqlite3 shell; and a
# zoom against that first paint. The trace version names the trace format the cached trace
# was made with (gui-3: event batches carry live_bytes_at_start, for windowed series).
if(TARGET memlife_ui AND TARGET memlife-gui AND TARGET memlife)
  memlife_bench(bench_gui LIBS memlife::data)
  target_compile_definitions(bench_gui PRIVATE
    MEMLIFE_GUI_PATH="$<TARGET_FILE:memlife-gui>"
    MEMLIFE_CLI_PATH="$<TARGET_FILE:memlife>"
    MEMLIFE_BENCH_TRACE_VERSION="${PROJECT_VERSION}-gui-3")
  add_dependencies(bench_gui memlife-gui memlife)
endif()

# Following a recording (issue 16): a recorder child at about 1M events/s, the window
# following in this process (offscreen).
if(TARGET memlife_ui)
  memlife_bench(bench_follow LIBS memlife::ui memlife::data)
endif()
