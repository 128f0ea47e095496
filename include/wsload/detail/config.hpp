#pragma once
// Header-only or separately compiled, as Boost.Asio does it. By default every function is
// defined in the headers (`inline`), so including <wsload/wsload.hpp> is all a program needs.
// With WSLOAD_SEPARATE_COMPILATION defined, the headers a scenario includes only declare the
// functions that pull in the engine, the connection layers and the reports; they are defined
// once in a translation unit that includes <wsload/impl/src.hpp>. wsload_add_scenario (CMake)
// sets this up: the runtime is compiled once per build tree, and a scenario translation unit
// then compiles in seconds instead of a minute.

#if defined(WSLOAD_SEPARATE_COMPILATION)
#define WSLOAD_DECL
#else
#define WSLOAD_DECL inline
#endif
