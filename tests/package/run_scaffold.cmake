# package_scaffold: wsload-new as a user meets it. Installs wsload into a prefix, then with the
# INSTALLED bin/wsload-new, for each transport (ws, tcp, http): writes a project into an empty
# directory, runs its README's first command (configure + build against the prefix) as written,
# and its second (the scenario against the bundled server) with the URL's port replaced by the
# one the server picked and a 2 s run's flags added; then checks the result file: every request
# answered, none rejected, timed out or failed. Also checks wsload-new's usage errors.
# Prints (and writes to WORK_DIR/times.txt) the wall time from an empty directory to the end of
# the first run, for each project: each one's first build links the prebuilt runtime the install
# carries (and compiles no runtime of its own: checked).
#
# -D: WSLOAD_SOURCE_DIR, WSLOAD_BINARY_DIR, WORK_DIR, IM_SERVER, CHAT_SERVER, UPLOAD_SERVER,
#     CMAKE_CXX_COMPILER.
cmake_minimum_required(VERSION 3.21)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(new ${prefix}/bin/wsload-new)
set(report "")

function(now var)
  string(TIMESTAMP t "%s.%f" UTC)
  set(${var} ${t} PARENT_SCOPE)
endfunction()
# math() has no fractions: times are kept in milliseconds.
function(millis var)
  string(REGEX REPLACE "^([0-9]+)\\.([0-9][0-9][0-9]).*" "\\1\\2" ms "${${var}}")
  set(${var} ${ms} PARENT_SCOPE)
endfunction()
# since(var from_ms): seconds since from_ms, two decimals.
function(since var from_ms)
  now(t)
  millis(t)
  math(EXPR d "${t} - ${from_ms}")
  math(EXPR whole "${d} / 1000")
  math(EXPR hundredths "(${d} % 1000) / 10")
  if(hundredths LESS 10)
    set(hundredths 0${hundredths})
  endif()
  set(${var} "${whole}.${hundredths}" PARENT_SCOPE)
endfunction()
function(say)  # (no ";" in the text: it would split the arguments)
  string(JOIN "" text ${ARGN})
  message(STATUS "${text}")
  set(report "${report}${text}\n" PARENT_SCOPE)
endfunction()

# run(<timeout s> <dir> command...): the command must succeed within the time.
function(run timeout dir)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${dir} TIMEOUT ${timeout}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

file(READ /proc/loadavg load)
string(REGEX MATCH "^[^ ]+ [^ ]+ [^ ]+" load "${load}")
now(t0)
millis(t0)
run(300 ${WORK_DIR} ${CMAKE_COMMAND} --install ${WSLOAD_BINARY_DIR} --prefix ${prefix})
since(install_s ${t0})
if(NOT EXISTS ${new})
  message(FATAL_ERROR "cmake --install did not put wsload-new in ${prefix}/bin")
endif()

# ---- usage: --help, and every refusal is one line on stderr with exit status 2 -----------------

execute_process(COMMAND ${new} --help RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 10)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^Usage: wsload-new NAME" OR NOT err STREQUAL "")
  message(FATAL_ERROR "wsload-new --help: status ${rc}\n${out}${err}")
endif()
file(MAKE_DIRECTORY ${WORK_DIR}/usage/taken)
file(WRITE ${WORK_DIR}/usage/taken/keep.txt "not empty\n")
foreach(case
    "1bench|is not a project name"
    "my.bench|is not a project name"
    "test|a name CMake or wsload uses"
    "taken|exists and is not empty"
    "ok_name;--transport;udp|\"udp\" is not a transport"
    "ok_name;--transport;socketio|Socket.IO is not supported yet"
    "ok_name;--transport|needs a value"
    "ok_name;--frobnicate|unknown option"
    "|give the project's NAME")
  string(REPLACE "|" ";" parts "${case}")
  list(POP_BACK parts expected)
  execute_process(COMMAND ${new} --dir ${WORK_DIR}/usage ${parts} WORKING_DIRECTORY ${WORK_DIR}/usage
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 10)
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines lines)
  if(NOT rc EQUAL 2 OR NOT lines EQUAL 1 OR NOT err MATCHES "^wsload-new: .*${expected}" OR NOT out STREQUAL "")
    message(FATAL_ERROR "wsload-new ${parts}: expected status 2 and one line saying \"${expected}\", "
      "got status ${rc}, stdout \"${out}\", stderr \"${err}\"")
  endif()
endforeach()
file(GLOB left RELATIVE ${WORK_DIR}/usage ${WORK_DIR}/usage/*)
if(NOT left STREQUAL "taken")
  message(FATAL_ERROR "a refused wsload-new left something behind in ${WORK_DIR}/usage: ${left}")
endif()
say("wsload-new: --help and 9 usage errors (status 2, one line each) as documented")

# ---- one project per transport -------------------------------------------------------------------

set(server_ws ${IM_SERVER})
set(server_tcp ${CHAT_SERVER})
set(server_http ${UPLOAD_SERVER})
set(rows_ws "WS echo")
set(rows_tcp "TCP echo;TCP login")
set(rows_http "GET hello;POST echo")
set(users 10)  # the scenarios' .users(10)

foreach(transport ws tcp http)
  set(name bench_${transport})
  set(parent ${WORK_DIR}/${transport})
  set(dir ${parent}/${name})
  file(MAKE_DIRECTORY ${parent})
  file(GLOB before ${parent}/*)
  if(before)
    message(FATAL_ERROR "${parent} is not empty")
  endif()

  # From here: an empty directory, wsload installed, wsload's example servers built.
  now(start)
  millis(start)
  run(30 ${parent} ${new} ${name} --transport ${transport} --dir ${parent})
  since(generate_s ${start})
  foreach(f CMakeLists.txt ${name}.cpp README.md .gitignore)
    if(NOT EXISTS ${dir}/${f})
      message(FATAL_ERROR "wsload-new ${name} --transport ${transport} wrote no ${f}")
    endif()
  endforeach()
  file(READ ${dir}/CMakeLists.txt cml)
  if(NOT cml MATCHES "find_package\\(wsload [0-9]+\\.[0-9]+ REQUIRED\\)" OR
     NOT cml MATCHES "wsload_add_scenario\\(${name} ${name}\\.cpp\\)")
    message(FATAL_ERROR "${dir}/CMakeLists.txt:\n${cml}")
  endif()

  # The README's commands are its lines indented by four spaces: exactly two.
  file(STRINGS ${dir}/README.md commands REGEX "^    [^ ]")
  list(LENGTH commands count)
  if(NOT count EQUAL 2)
    message(FATAL_ERROR "${dir}/README.md has ${count} commands, not 2: ${commands}")
  endif()
  list(GET commands 0 build_command)
  list(GET commands 1 run_command)
  string(STRIP "${build_command}" build_command)
  string(STRIP "${run_command}" run_command)
  if(NOT build_command MATCHES "CMAKE_PREFIX_PATH=${prefix} ")
    message(FATAL_ERROR "${name}'s build command does not point at the prefix ${prefix}: ${build_command}")
  endif()

  # 1. Configure and build, as written (CXX: the compiler wsload itself was built with); the
  # two halves of "configure && build" one after the other, to time each.
  string(REPLACE " && " ";" halves "${build_command}")
  list(LENGTH halves count)
  if(NOT count EQUAL 2)
    message(FATAL_ERROR "${name}'s build command is not \"configure && build\": ${build_command}")
  endif()
  set(times "")
  foreach(half IN LISTS halves)
    now(t)
    millis(t)
    run(900 ${dir} ${CMAKE_COMMAND} -E env CXX=${CMAKE_CXX_COMPILER} sh -c "${half}")
    since(s ${t})
    list(APPEND times ${s})
  endforeach()
  list(GET times 0 configure_s)
  list(GET times 1 build_s)
  file(GLOB_RECURSE own_runtime ${dir}/build/*libwsload_runtime.a)
  if(own_runtime)
    message(FATAL_ERROR "${name} compiled a runtime of its own instead of linking the installed one: ${own_runtime}")
  endif()

  # 2. Run against the bundled server on the port it picked, for 2 s, with a result file.
  string(REGEX REPLACE "127\\.0\\.0\\.1:[0-9]+" "127.0.0.1:@PORT@" run_command "${run_command}")
  if(NOT run_command MATCHES "^build/${name} --target [a-z]+://127\\.0\\.0\\.1:@PORT@")
    message(FATAL_ERROR "${name}'s run command is not build/${name} --target <url of 127.0.0.1>: ${run_command}")
  endif()
  separate_arguments(run_args UNIX_COMMAND "${run_command}")
  now(t)
  millis(t)
  execute_process(
    COMMAND bash ${WSLOAD_SOURCE_DIR}/tests/package/run_with_server.sh ${server_${transport}}
      ${run_args} --ramp 500ms --duration 2s --quiet --json ${dir}/result.json
    WORKING_DIRECTORY ${dir} TIMEOUT 180 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  since(run_s ${t})
  since(total_s ${start})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} against ${server_${transport}}: exit status ${rc}\n${out}\n${err}")
  endif()

  # 3. The result file: every request answered.
  file(READ ${dir}/result.json doc)
  foreach(field sent answered rejected timed_out failed)
    string(JSON ${field} GET "${doc}" request_totals ${field})
  endforeach()
  string(JSON attempted GET "${doc}" connections attempted)
  string(JSON connect_failed GET "${doc}" connections failed)
  string(JSON errors GET "${doc}" counters behaviour_errors)
  string(JSON started GET "${doc}" counters users_started)
  if(sent EQUAL 0 OR NOT answered EQUAL sent OR NOT rejected EQUAL 0 OR NOT timed_out EQUAL 0 OR
     NOT failed EQUAL 0 OR NOT connect_failed EQUAL 0 OR NOT errors EQUAL 0 OR NOT started EQUAL users)
    message(FATAL_ERROR "${name}: ${started} users, ${attempted} connects (${connect_failed} failed), "
      "requests ${sent} sent, ${answered} answered, ${rejected} rejected, ${timed_out} timed out, "
      "${failed} failed; ${errors} behaviour errors\n${out}\n${err}")
  endif()
  string(JSON n LENGTH "${doc}" requests)
  math(EXPR last "${n} - 1")
  set(rows "")
  set(shown "")
  foreach(i RANGE ${last})
    string(JSON type GET "${doc}" requests ${i} type)
    string(JSON row GET "${doc}" requests ${i} name)
    string(JSON row_sent GET "${doc}" requests ${i} sent)
    string(JSON row_answered GET "${doc}" requests ${i} answered)
    if(row_sent EQUAL 0 OR NOT row_answered EQUAL row_sent)
      message(FATAL_ERROR "${name}: ${type} ${row}: ${row_answered} of ${row_sent} answered")
    endif()
    list(APPEND rows "${type} ${row}")
    string(APPEND shown " ${type} ${row} ${row_answered}/${row_sent},")
  endforeach()
  list(SORT rows)
  if(NOT rows STREQUAL rows_${transport})
    message(FATAL_ERROR "${name}: request rows ${rows}, expected ${rows_${transport}}")
  endif()
  if(transport STREQUAL "tcp")  # every user logged in once
    string(JSON logins GET "${doc}" requests 1 answered)
    string(JSON login_row GET "${doc}" requests 1 name)
    if(NOT login_row STREQUAL "login" OR NOT logins EQUAL users)
      message(FATAL_ERROR "${name}: ${logins} logins answered (row ${login_row}), expected ${users}")
    endif()
  endif()
  string(REGEX REPLACE ",$" "" shown "${shown}")
  say("${name}: ${users} users, every request answered:${shown}")
  say("${name}: empty directory to the first run finished: ${total_s} s (wsload-new ${generate_s} s, "
    "configure ${configure_s} s, build ${build_s} s, run with the server's start and stop ${run_s} s)")

  if(transport STREQUAL "ws")
    # The loop after the first build: an edit recompiles only the scenario.
    file(TOUCH ${dir}/${name}.cpp)
    now(t)
    millis(t)
    run(300 ${dir} ${CMAKE_COMMAND} --build build)
    since(rebuild_s ${t})
    say("${name}: rebuild after an edit of ${name}.cpp: ${rebuild_s} s")
  endif()
endforeach()
say("(load average ${load} when the test started, wsload installed in ${install_s} s)")
file(WRITE ${WORK_DIR}/times.txt "${report}")
