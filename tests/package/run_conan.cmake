# `conan create` of conan/ (the recipe, then its test_package: a scenario built with
# wsload_add_scenario, run against a Beast echo server on 127.0.0.1). Conan 2 runs from
# ../shared/tools/conan beside the repository, with its home under WORK_DIR (nothing goes to
# ~/.conan2), no remote, and Boost and OpenSSL declared as the system's by
# conan/profiles/debian-system.
if(NOT EXISTS ${CONAN})
  message(FATAL_ERROR "package_conan: no Conan at ${CONAN}: the test runs Conan 2 from "
    "../shared/tools/conan beside the repository (README, \"Packaging\")")
endif()
# Conan's own imports (scripts/setup.sh installs them): said here rather than as a traceback.
execute_process(COMMAND /usr/bin/python3 -c
    "import requests, urllib3, colorama, yaml, patch_ng, fasteners, distro, jinja2, dateutil"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "package_conan: Conan needs Debian's python3-requests python3-urllib3 "
    "python3-colorama python3-yaml python3-patch-ng python3-fasteners python3-distro "
    "python3-jinja2 python3-dateutil (bash scripts/setup.sh installs them): ${err}")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
set(ENV{CONAN_HOME} ${WORK_DIR}/home)
execute_process(
  COMMAND ${CONAN} create ${WSLOAD_SOURCE_DIR}/conan
    --profile:all=${WSLOAD_SOURCE_DIR}/conan/profiles/debian-system
    --build=missing --no-remote
    # The test package builds here, not in conan/test_package/build.
    --conf:all=tools.cmake.cmake_layout:test_folder=${WORK_DIR}/test_package
  COMMAND_ECHO STDOUT
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "package_conan: conan create failed (${rc}); its output is above")
endif()
