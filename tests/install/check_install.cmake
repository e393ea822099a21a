# Installs the core into a scratch prefix, then builds and runs two consumers.
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
message(STATUS "installed core usable from CMake and from C")
