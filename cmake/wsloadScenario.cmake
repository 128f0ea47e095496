# wsload_add_scenario(<name> <source>...)
#
# One line per scenario in a consumer's CMakeLists.txt: an executable linked to wsload::wsload,
# built with optimisation when no build type was chosen (a load generator at -O0 measures
# itself, not the server).
function(wsload_add_scenario name)
  if(NOT ARGN)
    message(FATAL_ERROR "wsload_add_scenario(${name}): give at least one source file")
  endif()
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE wsload::wsload)
  get_property(_multi GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(NOT _multi AND NOT CMAKE_BUILD_TYPE)
    target_compile_options(${name} PRIVATE -O2)
  endif()
endfunction()
