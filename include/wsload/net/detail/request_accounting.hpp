#pragma once
// How one request is counted, whatever carries it (a WebSocket or TCP message and its reply, an
// HTTP exchange): the thread's counters and the row of its (type, name), each outcome in exactly
// one place. Every request ends in exactly one of answered, rejected, timed out or failed (in
// its class), so those always sum to the requests sent.

#include <wsload/core/log.hpp>
#include <wsload/core/task.hpp>
#include <wsload/stats/metrics.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// The row of requests of `type` named `name` (unnamed ones share one row) in a thread's shard.
inline stats::named_request& named_figures(stats::shard& shard, std::string_view type, std::string_view name)
{
    bool overflowed = false;
    auto& figures = shard.requests.find(type, name.empty() ? stats::unnamed_request : name, &overflowed);
    if (overflowed)
        log(log_level::warn, "more than " + std::to_string(stats::named_table::capacity - 1) +
                                 " request names on one thread: the rest are counted as " +
                                 std::string(stats::overflow_request));
    return figures;
}

/// The time a request counts from: its intended send time when it has one, else now. A send
/// later than intended by over stats::late_send_threshold is counted late in `shard`, with its
/// lateness: a clock read and a compare, the whole cost on the send path.
inline clock::time_point send_time(stats::shard& shard, const std::optional<clock::time_point>& intended) noexcept
{
    const auto now = clock::now();
    if (!intended) return now;
    if (const auto late = now - *intended; late > stats::late_send_threshold) [[unlikely]]
        shard.count_late_send(static_cast<std::uint64_t>(std::chrono::nanoseconds(late).count()));
    return *intended;
}

/// One request's figures: its thread's shard and its name's row there.
class request_accounting {
public:
    request_accounting(stats::shard& shard, stats::named_request& named) noexcept : shard_(shard), named_(&named) {}

    stats::named_request& named() noexcept { return *named_; }

    void sent() noexcept
    {
        shard_[stats::counter_id::requests_sent].add();
        named_->sent.add();
    }
    /// Its reply came `round_trip` ns after the (intended) send.
    void answered(std::uint64_t round_trip) noexcept
    {
        shard_[stats::histogram_id::round_trip].record(round_trip);
        shard_.round_trip_this_second.record(round_trip);
        shard_[stats::counter_id::requests_answered].add();
        named_->round_trip.record(round_trip);
        named_->answered.add();
    }
    /// Its reply said it failed (a matcher's reject, an HTTP error status).
    void rejected() noexcept
    {
        shard_[stats::counter_id::requests_rejected].add();
        named_->rejected.add();
    }
    void timed_out() noexcept
    {
        shard_[stats::counter_id::requests_timed_out].add();
        named_->timed_out.add();
    }
    void failed(stats::request_failure why) noexcept
    {
        shard_.count_request_failure(why);
        named_->failed.add();
    }

    /// Nanoseconds from `since` to now (0 if the clock says earlier).
    static std::uint64_t elapsed_ns(clock::time_point since) noexcept
    {
        const auto d = clock::now() - since;
        return d.count() > 0 ? static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count())
                             : 0;
    }

private:
    stats::shard& shard_;
    stats::named_request* named_;
};

}  // namespace wsload::net::detail
