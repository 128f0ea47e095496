#pragma once
// The run second by second: what the charts and the CSV time series are drawn from.

#include <array>
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
};

/// Column names, in the order of second's fields (CSV header, JSON "columns").
inline constexpr std::array<std::string_view, 12> second_columns{
    "t",          "active",   "new_connections", "connect_failures", "disconnects",       "messages_sent",
    "messages_received", "bytes_sent", "bytes_received", "round_trips", "round_trip_p50_ns", "round_trip_p99_ns"};

/// The fields of `s` in column order.
inline std::array<std::uint64_t, second_columns.size()> values(const second& s) noexcept
{
    return {s.t,           s.active,         s.new_connections,    s.connect_failures,
            s.disconnects, s.messages_sent,  s.messages_received,  s.bytes_sent,
            s.bytes_received, s.round_trips, s.round_trip_p50_ns, s.round_trip_p99_ns};
}

}  // namespace wsload::stats
