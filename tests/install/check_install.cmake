# Installs core and data into a scratch prefix, then builds and runs the consumers.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
macro(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endmacro()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component Unspecified)
# 1. CMake: find_package(memlife) and memlife::core.
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer_cxx)
# 2. Plain C: #include <memlife/memlife.h>, -lmemlife_core.
run(${C_COMPILER} -std=c99 -Wall -Werror -I${prefix}/include ${CONSUMER_DIR}/consumer.c
    -L${prefix}/lib -lmemlife_core -Wl,-rpath,${prefix}/lib -o ${WORK_DIR}/consumer_c)
run(${WORK_DIR}/consumer_c)
# 3. Recording from C (memlife/trace.h): built by CMake against memlife::data, and by hand.
if(NOT EXISTS ${prefix}/lib/libmemlife_data.a)
  message(STATUS "installed core usable from CMake and from C (data/ not built)")
  return()
endif()
run(${WORK_DIR}/consumer/consumer_trace ${WORK_DIR}/cmake.mltrace)
run(${C_COMPILER} -std=c99 -Wall -Werror -I${prefix}/include ${CONSUMER_DIR}/consumer_trace.c
    -L${prefix}/lib -lmemlife_data -lmemlife_core -lsqlite3 -ldw -lelf -lstdc++ -lpthread -lm
    -Wl,-rpath,${prefix}/lib -o ${WORK_DIR}/consumer_trace_c)
run(${WORK_DIR}/consumer_trace_c ${WORK_DIR}/c.mltrace)
# The traces are real: the command line reads them (one session, three requests).
if(EXISTS ${BUILD_DIR}/app/memlife)
  foreach(trace cmake.mltrace c.mltrace)
    execute_process(COMMAND ${BUILD_DIR}/app/memlife report --json ${WORK_DIR}/${trace}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE report ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT report MATCHES "\"requests\": 3")
      message(FATAL_ERROR "memlife report ${trace} (${rc}): ${report} ${err}")
    endif()
  endforeach()
endif()
# 4. memlife record finds the installed libmemlife_preload.so (bin/../lib), and the library
#    on its own finds the installed memlife (lib/../bin) to receive its trace.
if(EXISTS ${prefix}/bin/memlife AND EXISTS ${prefix}/lib/libmemlife_preload.so)
  run(${prefix}/bin/memlife record -o ${WORK_DIR}/record.mltrace -- ${CMAKE_COMMAND} -E true)
  run(${CMAKE_COMMAND} -E env LD_PRELOAD=${prefix}/lib/libmemlife_preload.so
      MEMLIFE_TRACE=${WORK_DIR}/standalone.mltrace ${CMAKE_COMMAND} -E true)
  foreach(trace record.mltrace standalone.mltrace)
    execute_process(COMMAND ${prefix}/bin/memlife report --json ${WORK_DIR}/${trace}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE report ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT report MATCHES "\"source\": \"record\"")
      message(FATAL_ERROR "memlife report ${trace} (${rc}): ${report} ${err}")
    endif()
  endforeach()
endif()
message(STATUS "installed core and data usable from CMake and from C, recording included")
