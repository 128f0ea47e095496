#pragma once
// `--html FILE`: one self-contained page (inline CSS, charts as inline SVG, no script, no
// network) with the verdict, the configuration and environment, charts over time, the latency
// distributions and the tables of the text report. docs/html.md lists the element ids.

#include <wsload/core/duration.hpp>
#include <wsload/core/log.hpp>
#include <wsload/report/charts.hpp>
#include <wsload/report/json.hpp>
#include <wsload/report/outcome.hpp>
#include <wsload/report/phase_table.hpp>
#include <wsload/report/sink.hpp>
#include <wsload/report/stats_table.hpp>
#include <wsload/report/summary.hpp>
#include <wsload/stats/catalogue.hpp>
#include <wsload/stats/generator.hpp>
#include <wsload/stats/run_info.hpp>

#include <wsload/version.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::report {

namespace detail {

inline constexpr std::string_view html_style = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#0f172a;background:#f8fafc;margin:0;padding:24px 32px;max-width:1000px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}code{font:13px ui-monospace,"DejaVu Sans Mono",monospace}
.verdict{display:inline-block;font-weight:700;padding:4px 12px;border-radius:4px;color:#fff;margin:8px 0}
.verdict.pass{background:#16a34a}.verdict.fail{background:#dc2626}.verdict.neutral{background:#64748b}
.generator-warning{color:#b91c1c;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:16px}.card{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:8px 14px;flex:1 1 280px}
table{border-collapse:collapse;background:#fff;margin:4px 0 12px}th,td{padding:3px 10px;border-bottom:1px solid #eef2f7;text-align:right}
th:first-child,td:first-child{text-align:left}td:not(:first-child){white-space:nowrap}th{background:#f1f5f9;font-weight:600}td.sub{padding-left:26px}
.card table{width:100%}.kv td:last-child{text-align:left}
.ok{color:#16a34a;font-weight:600}.bad{color:#dc2626;font-weight:600}
.grade-excellent{color:#16a34a}.grade-good{color:#0d9488}.grade-needs-work{color:#d97706}.grade-abnormal{color:#dc2626;font-weight:600}
figure{margin:12px 0 20px;background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin:0 0 4px 8px}svg.chart{max-width:100%;height:auto;font-size:12px}
svg .tick{fill:#475569}svg .axis-label{fill:#0f172a;font-weight:600}svg .legend{fill:#0f172a}svg .no-data{fill:#94a3b8;font-size:16px}
footer{color:#64748b;margin-top:32px;font-size:12px}
)css";

inline std::string fixed(double v, int decimals)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

/// A <tr> of cells, the first a header-like label; cells are escaped here.
inline std::string tr(std::initializer_list<std::string> cells, std::string_view first_class = {})
{
    std::string s = "<tr>";
    bool first = true;
    for (const auto& c : cells) {
        s += first && !first_class.empty() ? "<td class=\"" + std::string(first_class) + "\">" : "<td>";
        s += escape_html(c) + "</td>";
        first = false;
    }
    return s + "</tr>";
}

inline std::string th_row(std::initializer_list<std::string_view> cells)
{
    std::string s = "<tr>";
    for (auto c : cells) s += "<th>" + escape_html(c) + "</th>";
    return s + "</tr>";
}

inline std::string latency_header()
{
    return th_row({"", "count", "min", "p50", "p90", "p95", "p99", "max", "avg", "stddev"});
}

/// The console report's latency row, in ms.
inline std::string latency_tr(const std::string& label, const stats::histogram& h)
{
    const latency_ms l(h);
    return tr({label, std::to_string(l.count), fixed(l.min, 3), fixed(l.percentiles[0], 3), fixed(l.percentiles[1], 3),
               fixed(l.percentiles[2], 3), fixed(l.percentiles[3], 3), fixed(l.max, 3), fixed(l.mean, 3),
               fixed(l.stddev, 3)});
}

inline std::string utc_time(std::chrono::system_clock::time_point t)
{
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

inline std::string figure(const std::string& caption, const std::string& svg)
{
    return "<figure><figcaption>" + escape_html(caption) + "</figcaption>" + svg + "</figure>";
}

inline std::string verdict_html(const stats::run_result& r, const outcome& o)
{
    std::string cls = "neutral", text = "COMPLETED (no thresholds set)";
    if (o.run_failed) cls = "fail", text = "RUN FAILED";
    else if (!o.thresholds.empty() && o.thresholds_passed()) cls = "pass", text = "THRESHOLDS PASSED";
    else if (!o.thresholds.empty()) cls = "fail", text = "THRESHOLDS FAILED";
    std::string s = "<div id=\"verdict\" class=\"verdict " + cls + "\">" + escape_html(text) + "</div> exit status " +
                    std::to_string(o.exit_status());
    if (r.interrupted) s += " &middot; interrupted (SIGINT/SIGTERM)";
    if (r.ended_early) s += " &middot; ended early: a threshold could no longer pass";
    return s;
}

inline std::string config_card(const stats::run_info& c, const stats::run_result& r)
{
    std::string s = "<div class=\"card\"><h3>Configuration</h3><table id=\"table-config\" class=\"kv\">";
    s += tr({"target", c.target.empty() ? "(none)" : c.target});
    s += tr({"users", std::to_string(c.users)});
    s += tr({"load", load_text(c)});
    s += tr({"duration", format_duration(c.duration)});
    s += tr({"ping interval", c.ping_interval.count() ? format_duration(c.ping_interval) : "off"});
    s += tr({"connect timeout", format_duration(c.connect_timeout)});
    s += tr({"timer slack", c.timer_slack.count() ? format_duration(c.timer_slack) : "none"});
    s += tr({"threads", std::to_string(c.threads)});
    s += tr({"seed", std::to_string(c.seed)});
    s += tr({"run time", fixed(std::chrono::duration<double>(r.elapsed).count(), 2) + " s"});
    return s + "</table></div>";
}

inline std::string environment_card(const stats::run_result& r)
{
    std::string s = "<div class=\"card\"><h3>Environment</h3><table id=\"table-environment\" class=\"kv\">";
    // The same figures as the JSON result's "environment", so the two never disagree.
    for (const auto& [key, value] : environment_json(r)) {
        if (key == "started_at_unix_ms") continue;
        std::string label(key);
        std::replace(label.begin(), label.end(), '_', ' ');  // wsload_version -> wsload version
        s += tr({label, value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value)});
    }
    s += tr({"started at", utc_time(r.started_at)});
    return s + "</table></div>";
}

inline std::string verdict_card(const outcome& o)
{
    std::string s = "<div class=\"card\"><h3>Thresholds</h3>";
    if (o.thresholds.empty()) s += "<p>none set (<code>--threshold</code>)</p>";
    else {
        s += "<table id=\"table-thresholds\">" + th_row({"threshold", "observed", "result"});
        for (const auto& t : o.thresholds)
            s += "<tr><td><code>" + escape_html(t.rule->expression) + "</code></td><td>" +
                 escape_html(fixed(t.observed, t.rule->unit().empty() ? 0 : 3) + std::string(t.rule->unit())) +
                 "</td><td class=\"" + (t.passed ? "ok\">pass" : "bad\">FAIL") + "</td></tr>";
        s += "</table>";
    }
    s += "<h3>Health</h3><table id=\"table-grades\">" + th_row({"indicator", "value", "grade"});
    for (const auto& g : o.grades) {
        std::string cls(name(g.level));
        for (auto& ch : cls)
            if (ch == ' ') ch = '-';
        s += "<tr><td>" + escape_html(g.indicator) + "</td><td>" + escape_html(fixed(g.value, 2) + " " + std::string(g.unit)) +
             "</td><td class=\"grade-" + cls + "\">" + escape_html(name(g.level)) + "</td></tr>";
    }
    return s + "</table></div>";
}

inline std::string time_charts(const stats::run_result& r)
{
    using charts::line_chart;
    const auto nan = std::numeric_limits<double>::quiet_NaN();
    // x ticks at least 1 apart: rows are whole seconds.
    line_chart active{"chart-active", "Open connections", "time (s)", "connections", {}, {{"open connections", {}}}, 1};
    line_chart conns{"chart-connection-rates", "Connections per second", "time (s)", "events per second", {},
                     {{"new connections/s", {}}, {"connect failures/s", {}}, {"disconnects/s", {}}}, 1};
    line_chart msgs{"chart-messages", "Messages per second", "time (s)", "messages per second", {},
                    {{"sent/s", {}}, {"received/s", {}}}, 1};
    line_chart rtt{"chart-round-trip", "Round trip per second (P50, P99)", "time (s)", "round trip (ms)", {},
                   {{"P50", {}}, {"P99", {}}}, 1};
    for (const auto& row : r.series) {
        const auto x = static_cast<double>(row.t);
        for (auto* c : {&active, &conns, &msgs, &rtt}) c->x.push_back(x);
        active.lines[0].y.push_back(static_cast<double>(row.active));
        conns.lines[0].y.push_back(static_cast<double>(row.new_connections));
        conns.lines[1].y.push_back(static_cast<double>(row.connect_failures));
        conns.lines[2].y.push_back(static_cast<double>(row.disconnects));
        msgs.lines[0].y.push_back(static_cast<double>(row.messages_sent));
        msgs.lines[1].y.push_back(static_cast<double>(row.messages_received));
        // A second without round trips has no percentile: a gap, not a zero.
        rtt.lines[0].y.push_back(row.round_trips ? static_cast<double>(row.round_trip_p50_ns) / 1e6 : nan);
        rtt.lines[1].y.push_back(row.round_trips ? static_cast<double>(row.round_trip_p99_ns) / 1e6 : nan);
    }
    return figure(active.title, charts::render(active)) + figure(conns.title, charts::render(conns)) +
           figure(msgs.title, charts::render(msgs)) + figure(rtt.title, charts::render(rtt));
}

inline std::string distribution(const std::string& id, const std::string& title, const std::string& x_label,
                                const std::string& y_label, const stats::histogram& h)
{
    charts::distribution_chart c{id, title, x_label, y_label, charts::log_bins(h), {}};
    if (!h.empty())
        c.markers = {{"P50", static_cast<double>(h.percentile(50)) / 1e6},
                     {"P99", static_cast<double>(h.percentile(99)) / 1e6}};
    return figure(title, charts::render(c));
}

inline std::string requests_table(const stats::run_result& r)
{
    std::string s = "<table id=\"table-requests\">" +
                    th_row({"name", "requests", "failures", "median (ms)", "90% (ms)", "99% (ms)", "average (ms)",
                            "min (ms)", "max (ms)", "requests/s"});
    for (const auto& row : stats_table(r))
        s += tr({std::string(row.name), std::to_string(row.requests), std::to_string(row.failures),
                 fixed(row.median, 3), fixed(row.p90, 3), fixed(row.p99, 3), fixed(row.average, 3), fixed(row.min, 3),
                 fixed(row.max, 3), fixed(row.per_second, 2)});
    return s + "</table>";
}

inline std::string connections_table(const stats::run_result& r)
{
    using stats::counter_id;
    const auto& t = *r.totals;
    const auto n = [](std::uint64_t v) { return std::to_string(v); };
    std::string s = "<table id=\"table-connections\" class=\"kv\">";
    s += tr({"attempted", n(t[counter_id::connect_attempts])});
    s += tr({"succeeded", n(t[counter_id::connect_successes])});
    s += tr({"failed", n(t.failures())});
    for (std::size_t i = 0; i < stats::connect_failure_count; ++i) {
        if (!t.connect_failures[i]) continue;
        s += tr({std::string(stats::connect_failure_names[i]), n(t.connect_failures[i])}, "sub");
        if (i == static_cast<std::size_t>(stats::connect_failure::http_status))
            for (std::size_t code = 0; code < t.http_statuses.size(); ++code)
                if (t.http_statuses[code]) s += tr({"HTTP " + n(code), n(t.http_statuses[code])}, "sub");
    }
    s += tr({"success rate", fixed(percent(t[counter_id::connect_successes], t[counter_id::connect_attempts]), 2) + " %"});
    s += tr({"disconnects", n(t.disconnect_total())});
    for (std::size_t i = 0; i < stats::disconnect_reason_count; ++i) {
        if (!t.disconnects[i]) continue;
        s += tr({std::string(stats::disconnect_reason_names[i]), n(t.disconnects[i])}, "sub");
        if (i == static_cast<std::size_t>(stats::disconnect_reason::server_close))
            for (std::size_t code = 0; code < t.close_codes.size(); ++code)
                if (t.close_codes[code]) s += tr({"code " + n(code), n(t.close_codes[code])}, "sub");
    }
    s += tr({"open at end", n(r.open_at_end)});
    return s + "</table>";
}

inline std::string latency_tables(const stats::run_result& r)
{
    using stats::counter_id;
    using stats::histogram_id;
    const auto& t = *r.totals;
    const auto n = [](std::uint64_t v) { return std::to_string(v); };
    std::string s = "<h3>Connect latency (ms)</h3><table id=\"table-connect-latency\">" + latency_header();
    for (const auto& h : stats::histogram_catalogue)
        if (h.group == stats::histogram_group::connect && (h.always_shown || !t[h.id].empty()))
            s += latency_tr(std::string(h.label), t[h.id]);
    s += "</table>";

    s += "<h3>Heartbeat</h3><table id=\"table-heartbeat\">";
    const auto pings = t[counter_id::pings_sent];
    s += tr({"pings sent", n(pings)}) + tr({"pongs received", n(t[counter_id::pongs_received])}) +
         tr({"pongs missed", n(t[counter_id::pongs_missed])}) +
         tr({"pong rate", fixed(percent(t[counter_id::pongs_received], pings), 2) + " %"});
    if (t[counter_id::server_pings_answered]) s += tr({"server pings answered", n(t[counter_id::server_pings_answered])});
    if (t[counter_id::app_pings_sent])
        s += tr({"app pings sent", n(t[counter_id::app_pings_sent])}) +
             tr({"app pongs received", n(t[counter_id::app_pongs_received])}) +
             tr({"app pongs missed", n(t[counter_id::app_pongs_missed])});
    s += "</table>";
    if (pings)
        s += "<table id=\"table-ping-latency\">" + latency_header() +
             latency_tr("ping rtt", t[histogram_id::ping_round_trip]) + "</table>";

    const auto sent = t[counter_id::messages_sent], received = t[counter_id::messages_received];
    s += "<h3>Messages</h3><table id=\"table-messages\">";
    s += tr({"sent", n(sent)}) + tr({"received", n(received)});
    s += tr({"rate", fixed(per_second(sent, r.elapsed), 1) + "/s sent, " + fixed(per_second(received, r.elapsed), 1) +
                         "/s received"});
    s += tr({"requests", n(t[counter_id::requests_sent]) + " sent, " + n(t[counter_id::requests_answered]) +
                             " answered, " + n(t[counter_id::requests_rejected]) + " rejected, " +
                             n(t[counter_id::requests_timed_out]) + " timed out, " +
                             n(t[counter_id::requests_failed]) + " failed"});
    for (std::size_t i = 0; i < stats::request_failure_count; ++i)
        if (t.request_failures[i])
            s += tr({"failed " + std::string(stats::request_failure_names[i]), n(t.request_failures[i])}, "sub");
    std::uint64_t responses = 0;
    for (auto count : t.http_responses) responses += count;
    if (responses) {
        s += tr({"HTTP responses", n(responses)});
        for (std::size_t k = 1; k <= t.http_responses.size(); ++k) {  // codes in order, then 0
            const auto code = k % t.http_responses.size();
            if (t.http_responses[code])
                s += tr({code ? "HTTP " + n(code) : "HTTP other", n(t.http_responses[code])}, "sub");
        }
    }
    s += "</table>";
    if (t[counter_id::requests_sent])
        s += "<p>Round trip (ms), measured from the intended send time:</p><table id=\"table-rtt-latency\">" +
             latency_header() + latency_tr("rtt", t[histogram_id::round_trip]) + "</table>";
    if (const auto& iterations = t[histogram_id::iteration]; !iterations.empty())
        s += "<p>Iterations: " + n(t[counter_id::iterations]) + " completed, " + n(t[counter_id::iteration_errors]) +
             " failed (ms):</p><table id=\"table-iteration-latency\">" + latency_header() +
             latency_tr("iteration", iterations) + "</table>";
    if (t[counter_id::dropped_iterations])
        s += "<p class=\"bad\">dropped iterations: " + n(t[counter_id::dropped_iterations]) + "</p>";
    if (t[counter_id::behaviour_errors])
        s += "<p class=\"bad\">behaviour errors: " + n(t[counter_id::behaviour_errors]) + " (users ended by an exception)</p>";
    if (!t.reconnects.empty()) {
        s += "<p>Reconnects by reason:</p><table id=\"table-reconnects\">" + th_row({"reason", "count"});
        for (const auto& [why, count] : labels_by_count(t.reconnects)) s += tr({why, n(count)});
        s += "</table>";
    }
    if (!t.pushes.empty()) {
        s += "<p>Pushes (messages no request claimed) by type:</p><table id=\"table-pushes\">" + th_row({"type", "count"});
        for (const auto& [type, count] : labels_by_count(t.pushes)) s += tr({type, n(count)});
        s += "</table>";
    }
    if (!t.errors.empty()) {
        s += "<p>Errors, most frequent first:</p><table id=\"table-errors\">" + th_row({"count", "where: message"});
        for (const auto& [message, count] : errors_by_count(t.errors)) s += tr({n(count), message});
        s += "</table>";
    }
    return s;
}

/// The run cut by phase (phase_table), and for the steps shape seed 001's comparison across
/// levels; nothing when the shape names no phases.
inline std::string phase_tables(const stats::run_result& r)
{
    const auto rows = phase_table(r);
    if (rows.empty()) return {};
    const auto n = [](std::uint64_t v) { return std::to_string(v); };
    std::string s = "<section id=\"phases\"><h2>Phases</h2><table id=\"table-phases\">" +
                    th_row({"phase", "users", "duration (s)", "started", "connects ok", "connects failed",
                            "requests sent", "answered", "failed", "success %", "requests/s", "p50 (ms)", "p95 (ms)",
                            "p99 (ms)", "max (ms)", "sent/s", "received/s"});
    for (const auto& p : rows)
        s += tr({std::string(p.name), n(p.users), fixed(p.duration_s, 1), n(p.users_started), n(p.connects_ok),
                 n(p.connects_failed), n(p.requests_sent), n(p.requests_answered), n(p.requests_failed),
                 fixed(p.request_success, 2), fixed(p.requests_per_s, 1), fixed(p.rtt_p50, 3), fixed(p.rtt_p95, 3),
                 fixed(p.rtt_p99, 3), fixed(p.rtt_max, 3), fixed(p.sent_per_s, 1), fixed(p.received_per_s, 1)});
    s += "</table>";
    if (phases_are_levels(r)) {
        s += "<h2>Levels compared</h2><table id=\"table-levels\">" +
             th_row({"level", "users", "connect success %", "request success %", "messages sent", "messages received",
                     "average QPS", "sent per user", "connect avg (ms)", "connect max (ms)"});
        for (const auto& p : rows)
            s += tr({std::string(p.name), n(p.users), fixed(p.connect_success, 2), fixed(p.request_success, 2),
                     n(p.messages_sent), n(p.messages_received), fixed(p.sent_per_s, 2), fixed(p.sent_per_user, 1),
                     fixed(p.connect_avg, 3), fixed(p.connect_max, 3)});
        s += "</table>";
    }
    return s + "</section>\n";
}

/// Each worker thread's health (the text report's Generator table) and a warning per worker that
/// was over a limit in some second; nothing for results without it (older files).
inline std::string generator_table(const stats::run_result& r)
{
    if (r.generator.empty()) return {};
    std::string s = "<section id=\"generator\"><h2>Generator (per worker thread)</h2><table id=\"table-generator\">" +
                    th_row({"worker", "busy %", "peak %", "lag p99", "lag max", "late sends", "late p99"});
    for (const auto& h : r.generator)
        s += tr({std::to_string(h.worker), std::to_string(h.busy_pct()), std::to_string(h.peak_busy_pct),
                 stats::format_lag(h.lag_p99_ns), stats::format_lag(h.lag_max_ns), std::to_string(h.late_sends),
                 h.late_sends ? stats::format_lag(h.late_p99_ns) : "-"});
    s += "</table>";
    for (const auto& h : r.generator)
        if (const auto warning = stats::run_warning(h); !warning.empty())
            s += "<p class=\"generator-warning\">" + escape_html(warning) + "</p>";
    return s + "</section>\n";
}

}  // namespace detail

/// The whole page as a string.
inline std::string html_report(const stats::run_info& config, const stats::run_result& r, const outcome& verdict)
{
    using stats::histogram_id;
    const auto& t = *r.totals;
    const auto title = "wsload report: " + config.name;
    std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>" + escape_html(title) + "</title><style>" + std::string(detail::html_style) +
                    "</style></head><body>\n";
    s += "<header><h1>wsload report: <span id=\"scenario\">" + escape_html(config.name) + "</span></h1>";
    s += "<div>target <code id=\"target\">" + escape_html(config.target.empty() ? std::string("(none)") : config.target) +
         "</code></div>" + detail::verdict_html(r, verdict) + "</header>\n";
    s += "<section id=\"summary\" class=\"cards\">" + detail::config_card(config, r) + detail::environment_card(r) +
         detail::verdict_card(verdict) + "</section>\n";
    s += "<section id=\"over-time\"><h2>Over time</h2>" + detail::time_charts(r) + "</section>\n";
    s += "<section id=\"distributions\"><h2>Latency distribution</h2>" +
         detail::distribution("chart-rtt-distribution", "Round trip distribution", "round trip (ms, log scale)",
                              "% of round trips", t[histogram_id::round_trip]) +
         detail::distribution("chart-connect-distribution", "Connect time distribution",
                              "connect time (ms, log scale)", "% of connections", t[histogram_id::connect]) +
         "</section>\n";
    s += "<section id=\"tables\"><h2>Requests</h2>" + detail::requests_table(r) + "<h2>Connections</h2>" +
         detail::connections_table(r) + "<h2>Latency, heartbeat and messages</h2>" + detail::latency_tables(r) +
         "</section>\n";
    s += detail::phase_tables(r);
    s += detail::generator_table(r);
    s += "<footer>wsload " WSLOAD_VERSION_STRING "</footer>\n</body></html>\n";
    return s;
}

/// Writes the page; false (after logging one line) if the file cannot be written.
inline bool write_html(const std::string& path, const stats::run_info& config, const stats::run_result& r,
                       const outcome& verdict)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << html_report(config, r, verdict);
    out.close();
    if (!out) {
        log(log_level::error, "--html: cannot write " + wsload::detail::quoted(path));
        return false;
    }
    return true;
}

/// `--html FILE`.
class html_sink final : public sink {
public:
    explicit html_sink(std::string path) : path_(std::move(path)) {}
    bool finish(const stats::run_info& c, const stats::run_result& r, const outcome& o) override
    {
        return write_html(path_, c, r, o);
    }

private:
    std::string path_;
};

}  // namespace wsload::report
