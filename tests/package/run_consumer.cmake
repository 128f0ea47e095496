# A consumer project builds tests/package/consumer/echo_scenario.cpp and runs it against a real
# im_server, one way in per HOW:
#   find_package      wsload installed into a prefix (with its prebuilt runtime): the consumer
#                     must link the prebuilt runtime and compile nothing of wsload's; also
#                     checks that WSLOAD_PREBUILT_RUNTIME=OFF turns it down (configure only)
#   add_subdirectory  wsload's source tree added to the consumer's build
#   fetchcontent      FetchContent from a clone of this repository (its HEAD commit)
# Prints how long configure + build took.
# -D: HOW, WSLOAD_SOURCE_DIR, WSLOAD_BINARY_DIR (find_package), WORK_DIR, IM_SERVER, CMAKE_CXX_COMPILER.
cmake_minimum_required(VERSION 3.21)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

set(configure ${CMAKE_COMMAND} -B ${WORK_DIR}/build -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
if(HOW STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${WSLOAD_BINARY_DIR} --prefix ${prefix})
  list(APPEND configure -S ${WSLOAD_SOURCE_DIR}/tests/package/consumer -DCMAKE_PREFIX_PATH=${prefix})
elseif(HOW STREQUAL "add_subdirectory")
  list(APPEND configure -S ${WSLOAD_SOURCE_DIR}/tests/package/source_consumer
    -DWSLOAD_HOW=add_subdirectory -DWSLOAD_SOURCE=${WSLOAD_SOURCE_DIR})
elseif(HOW STREQUAL "fetchcontent")
  execute_process(COMMAND git -C ${WSLOAD_SOURCE_DIR} rev-parse HEAD
    RESULT_VARIABLE rc OUTPUT_VARIABLE commit ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package_fetchcontent clones ${WSLOAD_SOURCE_DIR}, which is not a git repository: ${err}")
  endif()
  list(APPEND configure -S ${WSLOAD_SOURCE_DIR}/tests/package/source_consumer
    -DWSLOAD_HOW=fetchcontent -DWSLOAD_SOURCE=${WSLOAD_SOURCE_DIR} -DWSLOAD_COMMIT=${commit})
else()
  message(FATAL_ERROR "HOW is \"${HOW}\": use find_package, add_subdirectory or fetchcontent")
endif()

string(TIMESTAMP t0 "%s")
run(${configure})
set(configured "${out}")
# The runtime and the scenario are two translation units of ~25 s each: built side by side.
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel ${cores})
string(TIMESTAMP t1 "%s")
math(EXPR build_s "${t1} - ${t0}")

# Which runtime the scenario was linked with.
file(GLOB_RECURSE runtimes ${WORK_DIR}/build/*libwsload_runtime.a)
set(built_runtime FALSE)
if(runtimes)
  set(built_runtime TRUE)
endif()
if(HOW STREQUAL "find_package")
  if(NOT configured MATCHES "wsload: scenarios link the prebuilt runtime ${prefix}/lib[^/]*/libwsload_runtime\\.a")
    message(FATAL_ERROR "the consumer did not say it links the installed runtime:\n${configured}")
  endif()
  if(built_runtime)
    message(FATAL_ERROR "the consumer built a runtime of its own beside the installed one: ${runtimes}")
  endif()
  # Turned down on request: configure only (building it is what add_subdirectory checks).
  run(${CMAKE_COMMAND} -S ${WSLOAD_SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/build-own
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DWSLOAD_PREBUILT_RUNTIME=OFF)
  if(NOT out MATCHES "not using the prebuilt runtime \\(WSLOAD_PREBUILT_RUNTIME is OFF\\)")
    message(FATAL_ERROR "WSLOAD_PREBUILT_RUNTIME=OFF was not honoured:\n${out}")
  endif()
elseif(NOT built_runtime)
  message(FATAL_ERROR "the ${HOW} consumer built no wsload_runtime")
endif()

# The server prints its port on its first line; the script waits for it, runs the
# scenario, and stops the server it started (by PID).
run(bash ${WSLOAD_SOURCE_DIR}/tests/package/run_against_server.sh
    ${IM_SERVER} ${WORK_DIR}/build/echo_scenario ${WORK_DIR}/result.json)
file(READ ${WORK_DIR}/result.json doc)
string(JSON attempted GET "${doc}" connections attempted)
string(JSON succeeded GET "${doc}" connections succeeded)
string(JSON sent GET "${doc}" request_totals sent)
string(JSON answered GET "${doc}" request_totals answered)
if(NOT attempted EQUAL 10 OR NOT succeeded EQUAL 10 OR answered LESS 10 OR NOT answered EQUAL sent)
  message(FATAL_ERROR "${HOW} consumer run: attempted ${attempted}, succeeded ${succeeded}, "
    "sent ${sent}, answered ${answered}")
endif()
message(STATUS "${HOW} consumer: configure + build ${build_s} s; 10/10 connected, ${answered}/${sent} requests answered")
