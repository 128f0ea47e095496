#pragma once
// The run second by second: what the charts and the CSV time series are drawn from.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsload::stats {

/// One second of the run: gauges at its end, counts during it, and the round trips that
/// completed in it (percentiles from that second's own histogram, merged over threads).
struct second {
    std::uint32_t t = 0;  ///< seconds since the start, at the end of this second
    std::uint64_t active = 0;
    std::uint64_t new_connections = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t round_trips = 0;
    std::uint64_t round_trip_p50_ns = 0;
    std::uint64_t round_trip_p99_ns = 0;
    // The generator's own health in the second (stats/generator.hpp): sends later than intended
    // (summed over workers), the latest timer of any worker, the busiest worker's CPU share, and
    // 1 when some worker was over a limit (busy or lag): the generator, not the server, may have
    // shaped the second's latency.
    std::uint64_t late_sends = 0;
    std::uint64_t event_loop_lag_max_ns = 0;
    std::uint64_t busiest_worker_pct = 0;
    std::uint64_t generator_limited = 0;
};

/// Column names, in the order of second's fields (CSV header, JSON "columns").
inline constexpr std::array<std::string_view, 16> second_columns{
    "t",          "active",   "new_connections", "connect_failures", "disconnects",       "messages_sent",
    "messages_received", "bytes_sent", "bytes_received", "round_trips", "round_trip_p50_ns", "round_trip_p99_ns",
    "late_sends", "event_loop_lag_max_ns", "busiest_worker_pct", "generator_limited"};

/// The columns every result file has had; those after them came later and may be absent.
inline constexpr std::size_t original_second_columns = 12;

/// The fields of `s` in column order.
inline std::array<std::uint64_t, second_columns.size()> values(const second& s) noexcept
{
    return {s.t,           s.active,         s.new_connections,    s.connect_failures,
            s.disconnects, s.messages_sent,  s.messages_received,  s.bytes_sent,
            s.bytes_received, s.round_trips, s.round_trip_p50_ns, s.round_trip_p99_ns,
            s.late_sends,  s.event_loop_lag_max_ns, s.busiest_worker_pct, s.generator_limited};
}

/// The second whose fields in column order are `x` (the inverse of values()).
inline second from_values(const std::array<std::uint64_t, second_columns.size()>& x) noexcept
{
    return {static_cast<std::uint32_t>(x[0]), x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11],
            x[12], x[13], x[14], x[15]};
}

/// Adds `from`, a row of the same second from another source (a thread, a file): counts add,
/// the active gauge adds, the generator's figures take the worst (lag, busy) and either's mark.
/// The percentiles are left alone: they come from the merged histogram.
inline void add_counts(second& into, const second& from) noexcept
{
    into.active += from.active;
    into.new_connections += from.new_connections;
    into.connect_failures += from.connect_failures;
    into.disconnects += from.disconnects;
    into.messages_sent += from.messages_sent;
    into.messages_received += from.messages_received;
    into.bytes_sent += from.bytes_sent;
    into.bytes_received += from.bytes_received;
    into.late_sends += from.late_sends;
    into.event_loop_lag_max_ns = into.event_loop_lag_max_ns > from.event_loop_lag_max_ns ? into.event_loop_lag_max_ns
                                                                                         : from.event_loop_lag_max_ns;
    into.busiest_worker_pct = into.busiest_worker_pct > from.busiest_worker_pct ? into.busiest_worker_pct
                                                                               : from.busiest_worker_pct;
    into.generator_limited = (into.generator_limited | from.generator_limited) ? 1 : 0;
}

}  // namespace wsload::stats
