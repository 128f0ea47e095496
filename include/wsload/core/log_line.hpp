#pragma once
// What a line of the log file looks like, as Locust's users read it:
//     [2025-09-06 16:37:17,300] INFO/websocket: user_1 connected to ws://127.0.0.1:8080/ in 1.2 ms
// local time to the millisecond, the level (DEBUG, INFO, WARNING, ERROR), the component, the
// text. And how a message's content is shown in one: masked, cut to a bound, on one line.

#include <wsload/core/mask.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace wsload {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

/// `warn`: the short form of stderr lines (`wsload: warn: ...`) and of --log-level.
inline constexpr std::string_view short_name(log_level l) noexcept
{
    constexpr std::string_view names[] = {"error", "warn", "info", "debug"};
    return names[static_cast<int>(l)];
}

/// `WARNING`: the form of log file lines.
inline constexpr std::string_view file_name(log_level l) noexcept
{
    constexpr std::string_view names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};
    return names[static_cast<int>(l)];
}

/// `[2025-09-06 16:37:17,300] ` for `at`, in local time (what the machine's clock shows).
inline std::string format_log_time(std::chrono::system_clock::time_point at)
{
    const auto since = at.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
    std::time_t t = seconds.count();
    if (millis < 0) millis += 1000, --t;  // before 1970: the floor, as the clock shows it
    std::tm local{};
    localtime_r(&t, &local);
    char buffer[40];
    const auto n = std::snprintf(buffer, sizeof buffer, "[%04d-%02d-%02d %02d:%02d:%02d,%03d] ", local.tm_year + 1900,
                                 local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
                                 static_cast<int>(millis));
    return std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
}

/// One log file line, without its line break:
/// `[YYYY-MM-DD HH:MM:SS,mmm] LEVEL/component: text`.
inline std::string format_log_line(std::chrono::system_clock::time_point at, log_level level, std::string_view component,
                                   std::string_view text)
{
    auto line = format_log_time(at);
    line += file_name(level);
    line += '/';
    line += component;
    line += ": ";
    line += text;
    return line;
}

/// Control bytes (and, for binary content, every byte outside printable ASCII) as `\n`, `\r`,
/// `\t` or `\xNN`, so that a line stays one line.
inline void append_escaped(std::string& out, std::string_view text, bool binary)
{
    static constexpr char hex[] = "0123456789abcdef";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (u < 0x20 || u == 0x7f || (binary && u >= 0x80)) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
}

/// How much of a message a traced line shows.
inline constexpr std::size_t log_content_limit = 256;

/// A message's content as a traced line shows it: its first `limit` bytes (not cutting a UTF-8
/// character of a text message), secrets masked (mask_secrets), on one line, then
/// `... (N bytes)` when it was longer.
inline std::string log_content(std::string_view data, bool binary = false, std::size_t limit = log_content_limit)
{
    auto shown = data.substr(0, limit);
    if (!binary && shown.size() < data.size())
        for (int back = 0; back < 4 && !shown.empty(); ++back) {
            // Back off to the start of the character the cut falls in.
            const auto next = static_cast<unsigned char>(data[shown.size()]);
            if ((next & 0xc0) != 0x80) break;
            shown.remove_suffix(1);
        }
    std::string out;
    out.reserve(shown.size() + 24);
    append_escaped(out, mask_secrets(shown), binary);
    if (shown.size() < data.size()) out += "... (" + std::to_string(data.size()) + " bytes)";
    return out;
}

}  // namespace wsload
