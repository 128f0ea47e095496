#pragma once
// What the libFuzzer targets share: a check that names what broke and aborts, so that
// libFuzzer keeps the input (scripts/fuzz.sh prints how to replay it).

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace wsload::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line, std::string_view detail = {})
{
    std::fprintf(stderr, "\nfuzz check failed at %s:%d: %s\n", file, line, what);
    if (!detail.empty())
        std::fprintf(stderr, "  detail: \"%.*s\"\n", static_cast<int>(detail.size()), detail.data());
    std::abort();
}

inline bool one_line(std::string_view text) { return text.find('\n') == std::string_view::npos; }

/// WSLOAD_FUZZ_VERBOSE=1 in the environment: targets say what each input led to (when
/// replaying a seed or a finding by hand).
inline bool verbose()
{
    static const bool on = std::getenv("WSLOAD_FUZZ_VERBOSE") != nullptr;
    return on;
}

}  // namespace wsload::fuzz

/// Aborts with the condition's text (and an optional string that shows the offending value).
#define WSLOAD_FUZZ_CHECK(cond, ...) \
    ((cond) ? (void)0 : ::wsload::fuzz::fail(#cond, __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__))
