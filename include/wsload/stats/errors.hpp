#pragma once
// Exceptions by message, as Locust's errors table shows them: "iteration: login refused" 12
// times. Behaviours throw rarely (a thrown exception costs microseconds anyway), so one thread's
// table is a map behind a lock, which snapshots from other threads read too. At most
// `error_message_limit` distinct messages are kept per table; the rest count under one line, so
// that a message carrying a user id or a time cannot grow memory without bound.

#include <wsload/stats/labelled.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace wsload::stats {

inline constexpr std::size_t error_message_limit = 100;
inline constexpr std::string_view other_errors = "(other messages, beyond the first 100)";
inline constexpr std::size_t error_message_bytes = 300;  ///< longer messages are cut (and marked)

/// Messages and their counts, merged by message: what totals and result files carry.
using error_counts = label_counts;

/// Adds `from` into `into` with the same bound as a thread's table: at most
/// error_message_limit messages, besides the line the others count under.
inline void merge_errors(error_counts& into, const error_counts& from)
{
    for (const auto& [message, n] : from) add_bounded(into, message, n, error_message_limit, other_errors);
}

/// One thread's table: written by its thread, read by snapshots.
class error_table {
public:
    /// Counts one exception: `where` ("iteration", "behaviour") and its message.
    void count(std::string_view where, std::string_view what)
    {
        std::string key;
        key.reserve(where.size() + 2 + std::min(what.size(), error_message_bytes + 3));
        key.append(where).append(": ");
        if (what.size() > error_message_bytes) key.append(what.substr(0, error_message_bytes)).append("...");
        else key.append(what);
        std::lock_guard lock(mutex_);
        error_counts one{{std::move(key), 1}};
        merge_errors(counts_, one);
    }
    void add_to(error_counts& into) const
    {
        std::lock_guard lock(mutex_);
        merge_errors(into, counts_);
    }

private:
    mutable std::mutex mutex_;
    error_counts counts_;
};

}  // namespace wsload::stats
