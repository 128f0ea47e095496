# What can be checked of the vcpkg overlay port (ports/wsload) without vcpkg, which downloads
# its tool and its ports: the configure options and the install of portfile.cmake, run with
# plain CMake into a packages directory as vcpkg's; the layout the port promises there; and a
# consumer made of the usage file's lines, configured against it, built and run.
file(REMOVE_RECURSE ${WORK_DIR})
set(port ${WSLOAD_SOURCE_DIR}/ports/wsload)
set(packages ${WORK_DIR}/packages/wsload)  # vcpkg's CURRENT_PACKAGES_DIR

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(require_file path what)
  if(NOT EXISTS ${path} OR IS_DIRECTORY ${path})
    message(FATAL_ERROR "vcpkg port: ${what}: no file ${path}")
  endif()
  file(SIZE ${path} size)
  if(size EQUAL 0)
    message(FATAL_ERROR "vcpkg port: ${what}: ${path} is empty")
  endif()
endfunction()

# The portfile's calls, read from it so that the test follows the port.
file(READ ${port}/portfile.cmake portfile)
string(REGEX MATCH "vcpkg_cmake_configure\\(([^)]*)\\)" configure_call "${portfile}")
string(REGEX MATCHALL "-D[A-Za-z0-9_]+=[^ \t\r\n)]+" options "${CMAKE_MATCH_1}")
string(REGEX MATCH "vcpkg_cmake_config_fixup\\(([^)]*)\\)" fixup_call "${portfile}")
string(REGEX MATCH "CONFIG_PATH[ \t\r\n]+([^ \t\r\n)]+)" config_path "${CMAKE_MATCH_1}")
set(config_path ${CMAKE_MATCH_1})
string(REGEX MATCH "vcpkg_install_copyright\\(FILE_LIST([^)]*)\\)" copyright_call "${portfile}")
string(REGEX MATCHALL "[^ \t\r\n\"]+" copyright_files "${CMAKE_MATCH_1}")
if(NOT configure_call OR NOT options OR NOT config_path OR NOT copyright_files)
  message(FATAL_ERROR "vcpkg port: portfile.cmake lacks vcpkg_cmake_configure(... OPTIONS -D...), "
    "vcpkg_cmake_config_fixup(CONFIG_PATH ...) or vcpkg_install_copyright(FILE_LIST ...)")
endif()
if(NOT config_path STREQUAL "share/wsload")
  message(FATAL_ERROR "vcpkg port: this test expects the install to put the config where the "
    "fixup leaves it (share/wsload), not ${config_path}")
endif()
message(STATUS "portfile options: ${options}")

# vcpkg_cmake_configure + vcpkg_cmake_install (VCPKG_BUILD_TYPE release: one configuration).
run(${CMAKE_COMMAND} -S ${WSLOAD_SOURCE_DIR} -B ${WORK_DIR}/build ${options}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=${packages}
    -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/build)
# The portfile's file(INSTALL) of the usage file.
file(COPY ${port}/usage DESTINATION ${packages}/share/wsload)

# The layout: the package files where vcpkg_cmake_config_fixup looks for them (the fixup then
# only rewrites paths), the headers and the usage file; nothing compiled.
foreach(name wsloadConfig wsloadConfigVersion wsloadTargets wsloadDependencies wsloadScenario)
  require_file(${packages}/share/wsload/${name}.cmake "config files under share/wsload")
endforeach()
require_file(${packages}/share/wsload/usage "the usage file")
file(GLOB_RECURSE source_headers RELATIVE ${WSLOAD_SOURCE_DIR}/include ${WSLOAD_SOURCE_DIR}/include/*)
file(GLOB_RECURSE installed_headers RELATIVE ${packages}/include ${packages}/include/*)
list(FILTER installed_headers EXCLUDE REGEX "^wsload/")
if(installed_headers)
  message(FATAL_ERROR "vcpkg port: files outside include/wsload: ${installed_headers}")
endif()
foreach(header IN LISTS source_headers)
  require_file(${packages}/include/${header} "headers under include/wsload")
endforeach()
list(LENGTH source_headers header_count)
foreach(dir lib bin debug tools)
  if(EXISTS ${packages}/${dir})
    message(FATAL_ERROR "vcpkg port: a header-only port installs no ${dir}/, found ${packages}/${dir}")
  endif()
endforeach()
# vcpkg rejects a package whose files name the directories it was built in.
file(GLOB_RECURSE cmake_files ${packages}/share/wsload/*.cmake)
foreach(file IN LISTS cmake_files)
  file(READ ${file} text)
  foreach(dir ${WORK_DIR} ${WSLOAD_SOURCE_DIR})
    string(FIND "${text}" "${dir}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "vcpkg port: ${file} names the absolute path ${dir}")
    endif()
  endforeach()
endforeach()

# A consumer made of the usage file's indented lines: the CMake a user copies from it.
file(STRINGS ${port}/usage usage_lines REGEX "^    [^ ]")
list(TRANSFORM usage_lines STRIP)
list(JOIN usage_lines "\n" usage_cmake)
set(consumer ${WORK_DIR}/consumer)
file(WRITE ${consumer}/CMakeLists.txt
  "cmake_minimum_required(VERSION 3.21)\nproject(vcpkg_usage LANGUAGES CXX)\n"
  "add_executable(main main.cpp)\n${usage_cmake}\n")
file(WRITE ${consumer}/main.cpp
  "#include <wsload/version.hpp>\n#include <cstdio>\nint main() { std::puts(WSLOAD_VERSION_STRING); }\n")
# Configured (wsload_add_scenario needs its source), not built: package_find_package builds
# and runs a scenario against an installed wsload.
file(COPY ${WSLOAD_SOURCE_DIR}/tests/package/consumer/echo_scenario.cpp DESTINATION ${consumer})
file(RENAME ${consumer}/echo_scenario.cpp ${consumer}/my_scenario.cpp)
run(${CMAKE_COMMAND} -S ${consumer} -B ${consumer}/build -DCMAKE_PREFIX_PATH=${packages}
    -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${consumer}/build --target main)
run(${consumer}/build/main)
string(STRIP "${run_output}" run_output)
file(STRINGS ${WSLOAD_SOURCE_DIR}/include/wsload/version.hpp version_line REGEX "WSLOAD_VERSION_STRING")
if(NOT run_output OR NOT version_line MATCHES "\"${run_output}\"")
  message(FATAL_ERROR "vcpkg port: the consumer printed \"${run_output}\", not the version of ${version_line}")
endif()
message(STATUS "vcpkg layout: ${header_count} headers under include/wsload, config and usage "
  "under share/wsload; the usage's find_package found wsload ${run_output}")

# Last, so that everything above has been checked when it fails: vcpkg_install_copyright
# (share/wsload/copyright from the project's licence).
foreach(file IN LISTS copyright_files)
  string(REPLACE "\${SOURCE_PATH}" "${WSLOAD_SOURCE_DIR}" file "${file}")
  require_file(${file} "vcpkg_install_copyright's FILE_LIST (the project's licence, installed as share/wsload/copyright; vcpkg requires one)")
  file(READ ${file} text)
  file(APPEND ${packages}/share/wsload/copyright "${text}")
endforeach()
require_file(${packages}/share/wsload/copyright "the copyright file")
message(STATUS "vcpkg layout: share/wsload/copyright from ${copyright_files}")
