#pragma once
// The per-phase table (a stage, a step's level), computed once so that the console, the CSV
// file and the HTML report show the same rows; and whether the phases are seed 001's levels,
// which the reports then compare side by side.

#include <wsload/report/summary.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/run_result.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace wsload::report {

/// One phase's figures; latencies in milliseconds (0 when nothing was timed), rates over the
/// phase's own length.
struct phase_row {
    std::string_view name;
    std::uint64_t users = 0;  ///< the phase's target
    double start_s = 0, end_s = 0, duration_s = 0;
    std::uint64_t users_started = 0;
    std::uint64_t connects_ok = 0, connects_failed = 0;
    std::uint64_t requests_sent = 0, requests_answered = 0;
    std::uint64_t requests_failed = 0;  ///< timed out, failed and rejected
    double connect_success = 0;  ///< % of connect attempts that succeeded
    double request_success = 0;  ///< % of the requests that ended in the phase that were answered
    double requests_per_s = 0;   ///< answered requests
    double rtt_p50 = 0, rtt_p95 = 0, rtt_p99 = 0, rtt_max = 0;
    double connect_avg = 0, connect_max = 0;
    std::uint64_t messages_sent = 0, messages_received = 0;
    double sent_per_s = 0, received_per_s = 0;
    double sent_per_user = 0;  ///< messages sent over the phase's target users (seed 001's "per client")
};

inline phase_row make_phase_row(const stats::phase_result& p)
{
    using stats::counter_id;
    using stats::histogram_id;
    constexpr double ms = 1e6;
    const auto& t = *p.totals;
    phase_row row;
    row.name = p.name;
    row.users = p.users;
    row.start_s = std::chrono::duration<double>(p.start).count();
    row.end_s = std::chrono::duration<double>(p.end).count();
    row.duration_s = row.end_s - row.start_s;
    row.users_started = t[counter_id::users_started];
    row.connects_ok = t[counter_id::connect_successes];
    row.connects_failed = t.failures();
    row.requests_sent = t[counter_id::requests_sent];
    row.requests_answered = t[counter_id::requests_answered];
    row.requests_failed =
        t[counter_id::requests_timed_out] + t[counter_id::requests_failed] + t[counter_id::requests_rejected];
    row.connect_success = percent(row.connects_ok, t[counter_id::connect_attempts]);
    // Over the requests that ended in the phase, not those sent in it: a request sent just
    // before a phase's end is answered in the next, and "sent" would then read over 100%.
    row.request_success = percent(row.requests_answered, row.requests_answered + row.requests_failed);
    row.requests_per_s = per_second(row.requests_answered, p.length());
    if (const auto& h = t[histogram_id::round_trip]; !h.empty()) {
        row.rtt_p50 = static_cast<double>(h.percentile(50)) / ms;
        row.rtt_p95 = static_cast<double>(h.percentile(95)) / ms;
        row.rtt_p99 = static_cast<double>(h.percentile(99)) / ms;
        row.rtt_max = static_cast<double>(h.max()) / ms;
    }
    if (const auto& h = t[histogram_id::connect]; !h.empty()) {
        row.connect_avg = h.mean() / ms;
        row.connect_max = static_cast<double>(h.max()) / ms;
    }
    row.messages_sent = t[counter_id::messages_sent];
    row.messages_received = t[counter_id::messages_received];
    row.sent_per_s = per_second(row.messages_sent, p.length());
    row.received_per_s = per_second(row.messages_received, p.length());
    row.sent_per_user = p.users == 0 ? 0.0 : static_cast<double>(row.messages_sent) / static_cast<double>(p.users);
    return row;
}

/// A row per phase reached, in order; rows point into `r`.
inline std::vector<phase_row> phase_table(const stats::run_result& r)
{
    std::vector<phase_row> rows;
    for (const auto& p : r.phases) rows.push_back(make_phase_row(p));
    return rows;
}

/// True when the phases are the steps shape's levels ("warm-up", "level N"): the reports then
/// add seed 001's comparison across levels.
inline bool phases_are_levels(const stats::run_result& r)
{
    return !r.phases.empty() && std::all_of(r.phases.begin(), r.phases.end(), [](const stats::phase_result& p) {
        return p.name == "warm-up" || std::string_view(p.name).starts_with("level ");
    });
}

}  // namespace wsload::report
