#pragma once
// Diagnostics on stderr, off the hot path: connection failures at debug, run events at info.

#include <wsload/core/error.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace wsload {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

inline std::atomic<log_level>& current_log_level() noexcept
{
    static std::atomic<log_level> level{log_level::warn};
    return level;
}

inline log_level parse_log_level(std::string_view text)
{
    if (text == "error") return log_level::error;
    if (text == "warn" || text == "warning") return log_level::warn;
    if (text == "info") return log_level::info;
    if (text == "debug") return log_level::debug;
    throw usage_error(detail::quoted(text) + " is not a log level (use error, warn, info or debug)");
}

inline bool log_enabled(log_level level) noexcept
{
    return level <= current_log_level().load(std::memory_order_relaxed);
}

/// Writes one line `wsload: <level>: <text>` to stderr; lines from threads never interleave.
inline void log(log_level level, std::string_view text)
{
    if (!log_enabled(level)) return;
    static constexpr const char* names[] = {"error", "warn", "info", "debug"};
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fprintf(stderr, "wsload: %s: %.*s\n", names[static_cast<int>(level)],
                 static_cast<int>(text.size()), text.data());
}

}  // namespace wsload
