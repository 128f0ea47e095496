# What wsload needs, found the same way by wsload's own build and by consumers
# (wsloadConfig.cmake includes this file after find_dependency is available).
if(COMMAND find_dependency)
  set(_wsload_find find_dependency)
else()
  set(_wsload_find find_package)
endif()
set(THREADS_PREFER_PTHREAD_FLAG ON)
cmake_language(CALL ${_wsload_find} Threads)
cmake_language(CALL ${_wsload_find} OpenSSL 1.1.1)
cmake_language(CALL ${_wsload_find} Boost 1.81 CONFIG COMPONENTS json program_options)
unset(_wsload_find)
