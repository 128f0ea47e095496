#pragma once
// The separately compiled part of wsload: include this in exactly one translation unit of a
// program built with WSLOAD_SEPARATE_COMPILATION (wsload_add_scenario does it: see
// cmake/wsloadScenario.cmake and detail/config.hpp). It holds the engine, the connection layers
// and the reports, i.e. nearly all of what a scenario's build would otherwise compile again.

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#error "wsload/impl/src.hpp is for builds with WSLOAD_SEPARATE_COMPILATION; a header-only build needs no source file"
#endif

#include <wsload/dsl/impl/scenario.ipp>
#include <wsload/net/websocket/impl/websocket.ipp>
#include <wsload/net/tcp/impl/connection.ipp>
#include <wsload/net/http/impl/client.ipp>
#include <wsload/net/socketio/impl/client.ipp>
#include <wsload/runtime/impl/user.ipp>
