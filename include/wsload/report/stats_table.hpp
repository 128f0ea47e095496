#pragma once
// The Locust-style request table (name, requests, failures, median, P90, P99, average, min,
// max, requests/s), computed once so that the CSV file and the HTML report show the same rows.

#include <wsload/report/summary.hpp>
#include <wsload/stats/catalogue.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/run_result.hpp>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace wsload::report {

/// One row of the table; latencies in milliseconds (0 when nothing was timed).
struct stats_row {
    std::string_view type;  ///< a request's transport (WS, TCP), CONNECT, PING, or empty for the aggregate
    std::string_view name;
    std::uint64_t requests = 0;  ///< timed events: the histogram's count
    std::uint64_t failures = 0;  ///< events of the same kind that failed (never timed)
    double median = 0, p90 = 0, p99 = 0, average = 0, min = 0, max = 0;
    double per_second = 0;  ///< requests over the run's elapsed time
};

namespace detail {

inline stats_row make_row(std::string_view type, std::string_view name, const stats::histogram& h,
                          std::uint64_t failures, std::chrono::nanoseconds elapsed)
{
    constexpr double ms = 1e6;
    stats_row row;
    row.type = type;
    row.name = name;
    row.requests = h.count();
    row.failures = failures;
    row.per_second = per_second(row.requests, elapsed);
    if (row.requests == 0) return row;
    row.median = static_cast<double>(h.percentile(50)) / ms;
    row.p90 = static_cast<double>(h.percentile(90)) / ms;
    row.p99 = static_cast<double>(h.percentile(99)) / ms;
    row.average = h.mean() / ms;
    row.min = static_cast<double>(h.min()) / ms;
    row.max = static_cast<double>(h.max()) / ms;
    return row;
}

}  // namespace detail

/// A row per histogram with something to show (timed events, or failures: a run whose every
/// connect was refused still gets its `connect` row), the round trips as a row per request
/// name (unnamed requests are the row "round trip"), then the aggregate of connect, round
/// trips and ping (the parts of a connect are already inside `connect`, and an upload inside
/// its request's round trip), always present. Rows point into `r`.
inline std::vector<stats_row> stats_table(const stats::run_result& r)
{
    const auto& t = *r.totals;
    std::vector<stats_row> rows;
    stats::histogram all;
    std::uint64_t all_failures = 0;
    for (const auto& e : stats::histogram_catalogue) {
        if (e.group == stats::histogram_group::generator) continue;  // not events of the server: the generator section
        const auto& h = t[e.id];
        const auto failures = stats::failures_of(e.id, t);
        const bool round_trips = e.id == stats::histogram_id::round_trip;
        if (round_trips && !t.requests.empty()) {
            for (const auto& [key, named] : t.requests)
                if (named.round_trip.count() != 0 || named.failures() != 0)
                    rows.push_back(detail::make_row(key.type, key.name, named.round_trip, named.failures(), r.elapsed));
        } else if (h.count() != 0 || failures != 0) {
            // Round trips without names come from result files written before names, all WebSocket.
            const auto type = round_trips ? std::string_view("WS") : stats::row_type(e.group);
            rows.push_back(detail::make_row(type, e.row, h, failures, r.elapsed));
        }
        if (e.id == stats::histogram_id::connect || round_trips || e.group == stats::histogram_group::heartbeat) {
            all.merge(h);  // exact: the aggregate's percentiles are those of every sample together
            all_failures += failures;
        }
    }
    rows.push_back(detail::make_row("", "Aggregated", all, all_failures, r.elapsed));
    return rows;
}

}  // namespace wsload::report
