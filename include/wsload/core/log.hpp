#pragma once
// Diagnostics, off the hot path: connection failures at debug, run events at info. Lines at or
// above --log-level go to stderr (`wsload: warn: ...`) and, with --log-file, to the file in
// Locust's form (core/log_line.hpp) through a queue no I/O thread waits on (core/log_queue.hpp).
// Users chosen with --log-users add their traffic at debug (log_traced). Secrets are masked.
// A level that is off costs one relaxed atomic load: nothing is formatted or allocated.

#include <wsload/core/error.hpp>
#include <wsload/core/log_line.hpp>
#include <wsload/core/log_queue.hpp>
#include <wsload/core/mask.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace wsload {

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

/// The run's --log-file writer, null without one (log_file installs it).
inline std::atomic<log_writer*>& current_log_writer() noexcept
{
    static std::atomic<log_writer*> writer{nullptr};
    return writer;
}

namespace detail {

inline void write_stderr_line(log_level level, std::string_view text)
{
    static std::mutex mutex;
    const auto name = short_name(level);
    std::lock_guard lock(mutex);
    std::fprintf(stderr, "wsload: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
                 static_cast<int>(text.size()), text.data());
}

inline void queue_line(log_writer& w, log_level level, std::string_view component, std::string_view text)
{
    std::string body;
    body.reserve(component.size() + 2 + text.size());
    body += component;
    body += ": ";
    body += text;
    w.push({std::chrono::system_clock::now(), level, std::move(body)});
}

}  // namespace detail

/// Logs `text` from `component` at `level`: stderr's one line `wsload: <level>: <text>` (lines
/// from threads never interleave) and, with --log-file, the file's. Secrets in `text` are masked.
inline void log(log_level level, std::string_view component, std::string_view text)
{
    if (!log_enabled(level)) return;
    const auto masked = mask_secrets(text);
    detail::write_stderr_line(level, masked);
    if (auto* w = current_log_writer().load(std::memory_order_acquire)) detail::queue_line(*w, level, component, masked);
}

/// log() from wsload itself (the engine, the command line, the reports).
inline void log(log_level level, std::string_view text) { log(level, "wsload", text); }

/// A traced user's line (--log-users), at debug whatever --log-level says: choosing the users is
/// asking for their lines. `tag` names the user (`user_3`); `text` must show its contents through
/// log_content() (masked, bounded). To the log file when there is one, else to stderr.
inline void log_traced(std::string_view component, std::string_view tag, std::string_view text)
{
    std::string line;
    line.reserve(tag.size() + 1 + text.size());
    line += tag;
    line += ' ';
    line += text;
    if (auto* w = current_log_writer().load(std::memory_order_acquire))
        detail::queue_line(*w, log_level::debug, component, line);
    else
        detail::write_stderr_line(log_level::debug, std::string(component) + ": " + line);
}

/// The run's --log-file for as long as it lives: opens the file (throws usage_error when it
/// cannot), installs its writer for log() and log_traced(), and at the end (close() or the
/// destructor: after the run's threads are joined) writes what is queued, flushes and reports
/// the lines dropped. Without a path it does nothing.
class log_file {
public:
    explicit log_file(const std::string& path, std::size_t capacity = 65536)
    {
        if (path.empty()) return;
        writer_ = std::make_unique<log_writer>(path, capacity);
        current_log_writer().store(writer_.get(), std::memory_order_release);
    }
    log_file(const log_file&) = delete;
    log_file& operator=(const log_file&) = delete;
    ~log_file() { close(); }

    void close()
    {
        if (!writer_) return;
        current_log_writer().store(nullptr, std::memory_order_release);
        writer_->close();
    }

private:
    std::unique_ptr<log_writer> writer_;
};

/// Writes what the --log-file writer has queued and closes it, for an exit that skips the
/// destructors (a second Ctrl-C). Lines logged afterwards are dropped. From the main thread.
inline void close_log_file_now() noexcept
{
    if (auto* w = current_log_writer().load(std::memory_order_acquire)) w->close();
}

}  // namespace wsload
