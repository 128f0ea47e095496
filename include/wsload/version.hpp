#pragma once
// wsload's version; CMake's project(VERSION) and this file must agree (checked by the build).

#define WSLOAD_VERSION_MAJOR 0
#define WSLOAD_VERSION_MINOR 1
#define WSLOAD_VERSION_PATCH 0
#define WSLOAD_VERSION_STRING "0.1.0"
