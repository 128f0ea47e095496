# Installs wsload into a prefix, builds tests/package/consumer against it with
# find_package(wsload), and runs the consumer's scenario against a real im_server.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${WSLOAD_BINARY_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${WSLOAD_SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)

# The server prints its port on its first line; the script waits for it, runs the
# scenario, and stops the server it started (by PID).
run(bash ${WSLOAD_SOURCE_DIR}/tests/package/run_against_server.sh
    ${IM_SERVER} ${WORK_DIR}/build/echo_scenario ${WORK_DIR}/result.json)
file(READ ${WORK_DIR}/result.json doc)
string(JSON attempted GET "${doc}" connections attempted)
string(JSON succeeded GET "${doc}" connections succeeded)
string(JSON answered GET "${doc}" counters requests_answered)
if(NOT attempted EQUAL 10 OR NOT succeeded EQUAL 10 OR answered LESS 10)
  message(FATAL_ERROR "consumer run: attempted ${attempted}, succeeded ${succeeded}, answered ${answered}")
endif()
message(STATUS "consumer: 10/10 connected, ${answered} requests answered")
