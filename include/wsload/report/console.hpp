#pragma once
// Text output: the live line once a second on stderr and the final report (the layout of
// wsbench's report in seed 002, section 6.1, grown with failure and disconnect classes).

#include <wsload/core/duration.hpp>
#include <wsload/report/outcome.hpp>
#include <wsload/report/phase_table.hpp>
#include <wsload/report/summary.hpp>
#include <wsload/stats/catalogue.hpp>
#include <wsload/stats/generator.hpp>
#include <wsload/stats/run_info.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace wsload::report {

/// One line: elapsed, open/target connections, new connections/s, failures, messages/s.
inline void print_progress(std::FILE* out, const stats::progress& p, const stats::run_info& config)
{
    using stats::counter_id;
    const auto delta = [&](counter_id id) { return p.now[id] - p.before[id]; };
    std::fprintf(out,
                 "[%6.1fs] conns %llu/%llu  new %llu/s  failed %llu  closed %llu  msgs sent %llu/s recv %llu/s\n",
                 std::chrono::duration<double>(p.elapsed).count(),
                 static_cast<unsigned long long>(p.now[counter_id::active_connections]),
                 static_cast<unsigned long long>(config.users),
                 static_cast<unsigned long long>(delta(counter_id::connect_successes)),
                 static_cast<unsigned long long>(p.now.failures()),
                 static_cast<unsigned long long>(p.now.disconnect_total()),
                 static_cast<unsigned long long>(delta(counter_id::messages_sent)),
                 static_cast<unsigned long long>(delta(counter_id::messages_received)));
    // Under it, a line per worker over a limit: the figures above may be the client's.
    for (std::size_t w = 0; w < p.workers.size(); ++w)
        if (const auto warning = stats::second_warning(static_cast<unsigned>(w), p.workers[w]); !warning.empty())
            std::fprintf(out, "[%6.1fs] WARNING %s\n", std::chrono::duration<double>(p.elapsed).count(), warning.c_str());
    std::fflush(out);
}

namespace detail {

inline void line(std::FILE* out, const char* label, unsigned long long v)
{
    std::fprintf(out, "%-22s %llu\n", label, v);
}

inline void latency_header(std::FILE* out)
{
    std::fprintf(out, "%-10s %8s %9s %9s %9s %9s %9s %9s %9s %9s\n", "", "count", "min", "p50", "p90", "p95",
                 "p99", "max", "avg", "stddev");
}

inline void latency_row(std::FILE* out, const char* label, const stats::histogram& h)
{
    const latency_ms l(h);
    std::fprintf(out, "%-10s %8llu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", label,
                 static_cast<unsigned long long>(l.count), l.min, l.percentiles[0], l.percentiles[1],
                 l.percentiles[2], l.percentiles[3], l.max, l.mean, l.stddev);
}

/// `HTTP responses:        200 x 1234  404 x 5  other x 1`: codes in order, then the statuses
/// outside 100..599 (code 0); wrapped at 100 columns. Nothing when no response was counted.
inline void http_responses(std::FILE* out, const stats::counter_totals& t)
{
    constexpr int indent = 23, width = 100;
    constexpr std::size_t codes = stats::http_status_limit;
    int column = 0;
    for (std::size_t k = 1; k <= codes; ++k) {
        const auto code = k % codes;  // 1, 2, ..., 599, then 0
        if (!t.http_responses[code]) continue;
        char entry[48];
        const auto count = static_cast<unsigned long long>(t.http_responses[code]);
        const int n = code ? std::snprintf(entry, sizeof entry, "%zu x %llu", code, count)
                           : std::snprintf(entry, sizeof entry, "other x %llu", count);
        if (column == 0) column = std::fprintf(out, "%-22s %s", "HTTP responses:", entry);
        else if (column + 2 + n > width) column = std::fprintf(out, "\n%*s%s", indent, "", entry) - 1;
        else column += std::fprintf(out, "  %s", entry);
    }
    if (column) std::fputc('\n', out);
}

/// Locust's table for the named requests, one row per (type, name): answered requests (timed)
/// and failed ones (timed out or cut off), as in the CSV stats table.
inline void requests_by_name(std::FILE* out, const stats::totals& t, std::chrono::nanoseconds elapsed)
{
    int width = 4;
    for (const auto& [key, named] : t.requests) width = std::max(width, static_cast<int>(key.name.size()));
    std::fprintf(out, "\n--- Requests by name (ms) ---\n");
    std::fprintf(out, "%-4s %-*s %9s %8s %9s %9s %9s %9s %9s %9s %9s\n", "type", width, "name", "answered", "failed",
                 "median", "p90", "p99", "avg", "min", "max", "req/s");
    for (const auto& [key, named] : t.requests) {
        const latency_ms l(named.round_trip);
        std::fprintf(out, "%-4s %-*s %9llu %8llu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.1f\n", key.type.c_str(), width,
                     key.name.c_str(), static_cast<unsigned long long>(named.answered),
                     static_cast<unsigned long long>(named.failures()), l.percentiles[0], l.percentiles[1],
                     l.percentiles[3], l.mean, l.min, l.max, per_second(named.answered, elapsed));
    }
}

/// The run cut by phase: a row per phase reached, rates over the phase's own length; for the
/// steps shape, then seed 001's comparison across levels.
inline void phases(std::FILE* out, const stats::run_result& r)
{
    const auto rows = phase_table(r);
    if (rows.empty()) return;
    int width = 5;
    for (const auto& p : rows) width = std::max(width, static_cast<int>(p.name.size()));
    const bool levels = phases_are_levels(r);
    std::fprintf(out, "\n--- Phases ---\n");
    std::fprintf(out, "%-*s %6s %7s %7s %7s %6s %8s %8s %6s %6s %8s %8s %8s %8s %8s %8s %8s\n", width, "phase", "users",
                 "time s", "started", "conn ok", "failed", "req sent", "answered", "failed", "ok %", "req/s", "p50 ms",
                 "p95 ms", "p99 ms", "max ms", "sent/s", "recv/s");
    for (const auto& p : rows)
        std::fprintf(out, "%-*s %6llu %7.1f %7llu %7llu %6llu %8llu %8llu %6llu %6.2f %8.1f %8.3f %8.3f %8.3f %8.3f %8.1f %8.1f\n",
                     width, std::string(p.name).c_str(), static_cast<unsigned long long>(p.users), p.duration_s,
                     static_cast<unsigned long long>(p.users_started), static_cast<unsigned long long>(p.connects_ok),
                     static_cast<unsigned long long>(p.connects_failed),
                     static_cast<unsigned long long>(p.requests_sent),
                     static_cast<unsigned long long>(p.requests_answered),
                     static_cast<unsigned long long>(p.requests_failed), p.request_success, p.requests_per_s,
                     p.rtt_p50, p.rtt_p95, p.rtt_p99, p.rtt_max, p.sent_per_s, p.received_per_s);
    if (!levels) return;
    // Seed 001's per-run report, a column per figure and a row per level.
    std::fprintf(out, "\n--- Levels compared (seed 001) ---\n");
    std::fprintf(out, "%-*s %6s %9s %9s %10s %10s %9s %9s %11s %11s\n", width, "level", "users", "conn ok %",
                 "req ok %", "msgs sent", "msgs recv", "avg QPS", "sent/user", "connect avg", "connect max");
    for (const auto& p : rows)
        std::fprintf(out, "%-*s %6llu %9.2f %9.2f %10llu %10llu %9.2f %9.1f %8.3f ms %8.3f ms\n", width,
                     std::string(p.name).c_str(), static_cast<unsigned long long>(p.users), p.connect_success,
                     p.request_success, static_cast<unsigned long long>(p.messages_sent),
                     static_cast<unsigned long long>(p.messages_received), p.sent_per_s, p.sent_per_user,
                     p.connect_avg, p.connect_max);
}

/// Each worker thread's health over the run, then a warning line per worker that was over a
/// limit in some second (stats/generator.hpp). Nothing for results without it (older files).
inline void generator(std::FILE* out, const stats::run_result& r, std::chrono::nanoseconds timer_slack)
{
    if (r.generator.empty()) return;
    std::fprintf(out, "\n--- Generator (per worker thread) ---\n");
    std::fprintf(out, "%-7s %6s %6s %10s %10s %11s %11s\n", "worker", "busy %", "peak %", "lag p99", "lag max",
                 "late sends", "late p99");
    for (const auto& h : r.generator)
        std::fprintf(out, "%-7u %6u %6u %10s %10s %11llu %11s\n", h.worker, h.busy_pct(), h.peak_busy_pct,
                     stats::format_lag(h.lag_p99_ns).c_str(), stats::format_lag(h.lag_max_ns).c_str(),
                     static_cast<unsigned long long>(h.late_sends),
                     h.late_sends ? stats::format_lag(h.late_p99_ns).c_str() : "-");
    std::fprintf(out, "(busy: CPU time of the thread over wall time; lag: how late its timers fired; late: sends over "
                      "%s after their intended time)\n",
                 stats::format_lag(std::uint64_t(stats::late_send_threshold.count())).c_str());
    if (timer_slack.count() > 0)
        std::fprintf(out, "(timer slack %s: sleeps due within it shared a wake-up, each up to %s late, inside the round "
                          "trips measured from the intended time)\n",
                     stats::format_lag(std::uint64_t(timer_slack.count())).c_str(),
                     stats::format_lag(std::uint64_t(timer_slack.count())).c_str());
    for (const auto& h : r.generator)
        if (const auto warning = stats::run_warning(h); !warning.empty()) std::fprintf(out, "WARNING %s\n", warning.c_str());
}

}  // namespace detail

/// The end-of-run report, as people paste it into tickets.
inline void print_report(std::FILE* out, const stats::run_info& config, const stats::run_result& r, const outcome& verdict)
{
    using stats::counter_id;
    using stats::histogram_id;
    const auto& t = *r.totals;
    const auto attempted = t[counter_id::connect_attempts];
    const auto succeeded = t[counter_id::connect_successes];

    std::fprintf(out, "\n==================== wsload report: %s ====================\n", config.name.c_str());
    if (!config.target.empty()) std::fprintf(out, "target %s, %s, duration %s, %u threads%s\n",
                                    config.target.c_str(), load_text(config).c_str(),
                                    format_duration(config.duration).c_str(),
                                    config.threads, r.interrupted ? " (interrupted)" : "");

    std::fprintf(out, "\n--- Connections ---\n");
    detail::line(out, "attempted:", attempted);
    detail::line(out, "succeeded:", succeeded);
    detail::line(out, "failed:", t.failures());
    for (std::size_t i = 0; i < stats::connect_failure_count; ++i) {
        if (!t.connect_failures[i]) continue;
        std::fprintf(out, "  %-20s %llu\n", std::string(stats::connect_failure_names[i]).c_str(),
                     static_cast<unsigned long long>(t.connect_failures[i]));
        if (i == static_cast<std::size_t>(stats::connect_failure::http_status))
            for (std::size_t code = 0; code < t.http_statuses.size(); ++code)
                if (t.http_statuses[code])
                    std::fprintf(out, "    HTTP %-13zu %llu\n", code,
                                 static_cast<unsigned long long>(t.http_statuses[code]));
    }
    std::fprintf(out, "%-22s %.2f%%\n", "success rate:", percent(succeeded, attempted));
    detail::line(out, "disconnects:", t.disconnect_total());
    for (std::size_t i = 0; i < stats::disconnect_reason_count; ++i) {
        if (!t.disconnects[i]) continue;
        std::fprintf(out, "  %-20s %llu\n", std::string(stats::disconnect_reason_names[i]).c_str(),
                     static_cast<unsigned long long>(t.disconnects[i]));
        if (i == static_cast<std::size_t>(stats::disconnect_reason::server_close))
            for (std::size_t code = 0; code < t.close_codes.size(); ++code)
                if (t.close_codes[code])
                    std::fprintf(out, "    code %-13zu %llu\n", code,
                                 static_cast<unsigned long long>(t.close_codes[code]));
    }
    detail::line(out, "open at end:", r.open_at_end);
    if (!t.reconnects.empty() || t[counter_id::reconnects_given_up]) {
        std::uint64_t all = 0;
        for (const auto& [why, n] : t.reconnects) all += n;
        detail::line(out, "reconnects:", all);
        for (const auto& [why, n] : report::labels_by_count(t.reconnects))
            std::fprintf(out, "  %-20s %llu\n", why.c_str(), static_cast<unsigned long long>(n));
        detail::line(out, "users that gave up:", t[counter_id::reconnects_given_up]);
    }

    std::fprintf(out, "\n--- Connect latency (ms) ---\n");
    detail::latency_header(out);
    for (const auto& h : stats::histogram_catalogue)
        if (h.group == stats::histogram_group::connect && (h.always_shown || !t[h.id].empty()))
            detail::latency_row(out, std::string(h.label).c_str(), t[h.id]);

    const auto pings = t[counter_id::pings_sent];
    if (pings) {
        std::fprintf(out, "\n--- Heartbeat ---\n");
        detail::line(out, "pings sent:", pings);
        detail::line(out, "pongs received:", t[counter_id::pongs_received]);
        detail::line(out, "pongs missed:", t[counter_id::pongs_missed]);
        std::fprintf(out, "%-22s %.2f%%\n", "pong rate:", percent(t[counter_id::pongs_received], pings));
        detail::latency_header(out);
        detail::latency_row(out, "ping rtt", t[histogram_id::ping_round_trip]);
    }
    const auto server_pings = t[counter_id::server_pings_answered];
    if (server_pings) {
        if (!pings) std::fprintf(out, "\n--- Heartbeat ---\n");
        detail::line(out, "server pings answered:", server_pings);
    }
    if (const auto beats = t[counter_id::app_pings_sent]) {
        if (!pings && !server_pings) std::fprintf(out, "\n--- Heartbeat ---\n");
        detail::line(out, "app pings sent:", beats);
        detail::line(out, "app pongs received:", t[counter_id::app_pongs_received]);
        detail::line(out, "app pongs missed:", t[counter_id::app_pongs_missed]);
        if (!t[histogram_id::app_ping_round_trip].empty()) {
            detail::latency_header(out);
            detail::latency_row(out, "app ping rtt", t[histogram_id::app_ping_round_trip]);
        }
    }

    const auto sent = t[counter_id::messages_sent];
    const auto received = t[counter_id::messages_received];
    if (sent || received) {
        std::fprintf(out, "\n--- Messages ---\n");
        detail::line(out, "sent:", sent);
        detail::line(out, "received:", received);
        std::fprintf(out, "%-22s %.1f/s sent, %.1f/s received\n", "rate:", per_second(sent, r.elapsed),
                     per_second(received, r.elapsed));
        if (const auto unmatched = t[counter_id::unmatched_replies]) detail::line(out, "unmatched replies:", unmatched);
        if (!t.pushes.empty()) {
            std::fprintf(out, "pushes by type:\n");
            for (const auto& [type, n] : report::labels_by_count(t.pushes))
                std::fprintf(out, "  %-20s %llu\n", type.c_str(), static_cast<unsigned long long>(n));
        }
    }
    // Requests carried by messages sit under them; requests of a transport without messages
    // (HTTP) get their own heading.
    if (t[counter_id::requests_sent]) {
        if (!sent && !received) std::fprintf(out, "\n--- Requests ---\n");
        std::fprintf(out, "%-22s %llu sent, %llu answered, %llu rejected, %llu timed out, %llu failed\n", "requests:",
                     static_cast<unsigned long long>(t[counter_id::requests_sent]),
                     static_cast<unsigned long long>(t[counter_id::requests_answered]),
                     static_cast<unsigned long long>(t[counter_id::requests_rejected]),
                     static_cast<unsigned long long>(t[counter_id::requests_timed_out]),
                     static_cast<unsigned long long>(t[counter_id::requests_failed]));
        for (std::size_t i = 0; i < stats::request_failure_count; ++i)
            if (t.request_failures[i])
                std::fprintf(out, "  failed %-13s %llu\n", std::string(stats::request_failure_names[i]).c_str(),
                             static_cast<unsigned long long>(t.request_failures[i]));
        detail::http_responses(out, t);
        std::fprintf(out, "round trip (ms), measured from the intended send time:\n");
        detail::latency_header(out);
        detail::latency_row(out, "rtt", t[histogram_id::round_trip]);
        if (const auto& first = t[histogram_id::first_reply]; !first.empty())
            detail::latency_row(out, "first reply", first);  // replies in several parts: rtt is to the last
        if (const auto& uploads = t[histogram_id::upload]; !uploads.empty()) {
            const double mb = static_cast<double>(t[counter_id::upload_bytes]) / 1e6;
            std::fprintf(out, "%-22s %llu, %.1f MB, %.2f MB/s over the run\n", "uploads:",
                         static_cast<unsigned long long>(uploads.count()), mb,
                         mb / std::max(std::chrono::duration<double>(r.elapsed).count(), 1e-9));
            detail::latency_header(out);
            detail::latency_row(out, "upload", uploads);
        }
        if (t.requests.size() > 1 || (t.requests.size() == 1 && t.requests.begin()->first.name != stats::unnamed_request))
            detail::requests_by_name(out, t, r.elapsed);
    }
    if (const auto& iterations = t[histogram_id::iteration]; !iterations.empty()) {
        std::fprintf(out, "\n--- Iterations ---\n");
        std::fprintf(out, "%-22s %llu completed, %llu failed, %.1f/s\n", "iterations:",
                     static_cast<unsigned long long>(t[counter_id::iterations]),
                     static_cast<unsigned long long>(t[counter_id::iteration_errors]),
                     per_second(t[counter_id::iterations] + t[counter_id::iteration_errors], r.elapsed));
        detail::latency_header(out);
        detail::latency_row(out, "iteration", iterations);
    }
    if (t[counter_id::dropped_iterations])
        std::fprintf(out, "%-22s %llu (no free user to start them in time)\n", "dropped iterations:",
                     static_cast<unsigned long long>(t[counter_id::dropped_iterations]));
    if (!t.errors.empty()) {
        // Locust's errors table: what was thrown, most frequent first.
        std::fprintf(out, "\n--- Errors ---\n%10s  %s\n", "count", "where: message");
        const auto rows = errors_by_count(t.errors);
        for (std::size_t i = 0; i < rows.size() && i < 20; ++i)
            std::fprintf(out, "%10llu  %s\n", static_cast<unsigned long long>(rows[i].second), rows[i].first.c_str());
        if (rows.size() > 20) std::fprintf(out, "%10s  (%zu more messages: see the JSON result)\n", "", rows.size() - 20);
    }
    if (t[counter_id::behaviour_errors])
        std::fprintf(out, "\nbehaviour errors: %llu (users ended by an exception: see Errors)\n",
                     static_cast<unsigned long long>(t[counter_id::behaviour_errors]));

    if (!verdict.grades.empty()) {
        std::fprintf(out, "\n--- Health ---\n");
        for (const auto& g : verdict.grades)
            std::fprintf(out, "%-24s %9.2f %-3s %s\n", std::string(g.indicator).c_str(), g.value,
                         std::string(g.unit).c_str(), std::string(name(g.level)).c_str());
    }
    if (!verdict.thresholds.empty()) {
        std::fprintf(out, "\n--- Thresholds ---\n");
        for (const auto& t : verdict.thresholds)
            std::fprintf(out, "%-4s %-36s observed %.*f%s\n", t.passed ? "ok" : "FAIL", t.rule->expression.c_str(),
                         t.rule->unit().empty() ? 0 : 3, t.observed, std::string(t.rule->unit()).c_str());
    }

    detail::phases(out, r);
    detail::generator(out, r, config.timer_slack);

    std::fprintf(out, "\n--- Run time: %.2f s%s ---\n", std::chrono::duration<double>(r.elapsed).count(),
                 r.ended_early ? " (ended early: a threshold failed)" : "");
    std::fprintf(out, "==========================================================\n");
    std::fflush(out);
}

}  // namespace wsload::report
