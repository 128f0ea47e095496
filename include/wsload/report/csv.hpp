#pragma once
// `--csv PREFIX`, like Locust's: PREFIX_stats.csv (the request table), PREFIX_stats_history.csv
// (the time series) and PREFIX_failures.csv (the taxonomy of connect failures, disconnects and
// request failures, and the HTTP responses per status), and PREFIX_phases.csv when the load shape
// names phases (a row per stage or level). RFC 4180: CRLF line ends, fields quoted
// when they need it. Columns are documented in docs/csv.md.

#include <wsload/core/log.hpp>
#include <wsload/report/outcome.hpp>
#include <wsload/report/phase_table.hpp>
#include <wsload/report/sink.hpp>
#include <wsload/report/stats_table.hpp>
#include <wsload/stats/run_info.hpp>
#include <wsload/stats/timeseries.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

namespace wsload::report {

/// `field` as one CSV field: quoted, with quotes doubled, when it holds a comma, a quote, a
/// line break or edge spaces (which some readers trim); as it is otherwise.
inline std::string csv_field(std::string_view field)
{
    const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                       (!field.empty() && (field.front() == ' ' || field.back() == ' '));
    if (!quote) return std::string(field);
    std::string out = "\"";
    for (char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

namespace detail {

/// Builds a CSV document a field at a time: the separators and line ends are its business.
class csv_writer {
public:
    csv_writer& field(std::string_view text)
    {
        if (!at_line_start_) out_ += ',';
        out_ += csv_field(text);
        at_line_start_ = false;
        return *this;
    }
    csv_writer& field(std::uint64_t v) { return field(std::to_string(v)); }
    /// A fixed-point number: milliseconds to the microsecond, rates to the hundredth.
    csv_writer& field(double v, int decimals)
    {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
        return field(std::string_view(buf));
    }
    void end_line()
    {
        out_ += "\r\n";
        at_line_start_ = true;
    }
    const std::string& text() const noexcept { return out_; }

private:
    std::string out_;
    bool at_line_start_ = true;
};

inline std::string stats_csv(const stats::run_result& r)
{
    csv_writer w;
    for (auto h : {"Type", "Name", "Request Count", "Failure Count", "Median (ms)", "90% (ms)", "99% (ms)",
                   "Average (ms)", "Min (ms)", "Max (ms)", "Requests/s"})
        w.field(std::string_view(h));
    w.end_line();
    for (const auto& row : stats_table(r)) {
        w.field(row.type).field(row.name).field(row.requests).field(row.failures);
        for (double ms : {row.median, row.p90, row.p99, row.average, row.min, row.max}) w.field(ms, 3);
        w.field(row.per_second, 2);
        w.end_line();
    }
    return w.text();
}

/// The columns of the JSON time series, unchanged (nanoseconds included): one parser, exact
/// integers, and a file that `wsload-report` can align with result files.
inline std::string stats_history_csv(const stats::run_result& r)
{
    csv_writer w;
    for (auto c : stats::second_columns) w.field(c);
    w.end_line();
    for (const auto& row : r.series) {
        for (auto v : stats::values(row)) w.field(v);
        w.end_line();
    }
    return w.text();
}

/// Writes a class's rows: one per code when the class is counted per code, and an empty code
/// for what no code accounts for (codes past the counted range), so rows sum to the class.
template <std::size_t N>
void class_rows(csv_writer& w, std::string_view kind, std::string_view name, std::uint64_t total,
                const std::array<std::uint64_t, N>* by_code)
{
    std::uint64_t coded = 0;
    if (by_code)
        for (std::size_t code = 0; code < N; ++code)
            if (const auto n = (*by_code)[code]) {
                w.field(kind).field(name).field(static_cast<std::uint64_t>(code)).field(n);
                w.end_line();
                coded += n;
            }
    if (total > coded) {
        w.field(kind).field(name).field(std::string_view()).field(total - coded);
        w.end_line();
    }
}

inline std::string failures_csv(const stats::run_result& r)
{
    const auto& t = *r.totals;
    csv_writer w;
    w.field("Kind").field("Class").field("Code").field("Count");
    w.end_line();
    for (std::size_t i = 0; i < stats::connect_failure_count; ++i) {
        const bool coded = i == static_cast<std::size_t>(stats::connect_failure::http_status);
        if (t.connect_failures[i])
            class_rows(w, "connect", stats::connect_failure_names[i], t.connect_failures[i],
                       coded ? &t.http_statuses : nullptr);
    }
    for (std::size_t i = 0; i < stats::disconnect_reason_count; ++i) {
        const bool coded = i == static_cast<std::size_t>(stats::disconnect_reason::server_close);
        if (t.disconnects[i])
            class_rows(w, "disconnect", stats::disconnect_reason_names[i], t.disconnects[i],
                       coded ? &t.close_codes : nullptr);
    }
    for (std::size_t i = 0; i < stats::request_failure_count; ++i)
        if (const auto n = t.request_failures[i]) {
            w.field("request").field(stats::request_failure_names[i]).field(std::string_view()).field(n);
            w.end_line();
        }
    // Every HTTP response (not only failures), in the class of its status: 2xx, 4xx, ...;
    // `other` for a status outside 100..599 (code 0).
    for (std::size_t code = 0; code < t.http_responses.size(); ++code)
        if (const auto n = t.http_responses[code]) {
            const char status_class[] = {static_cast<char>('0' + code / 100), 'x', 'x', '\0'};
            w.field("http_response").field(code >= 100 ? std::string_view(status_class) : "other");
            w.field(static_cast<std::uint64_t>(code)).field(n);
            w.end_line();
        }
    return w.text();
}

/// A row per phase reached (phase_table), rates over the phase's own length.
inline std::string phases_csv(const stats::run_result& r)
{
    csv_writer w;
    for (auto h : {"Phase", "Users", "Start (s)", "End (s)", "Users Started", "Connects OK", "Connects Failed",
                   "Connect Success (%)", "Connect Avg (ms)", "Connect Max (ms)", "Requests Sent",
                   "Requests Answered", "Requests Failed", "Request Success (%)", "Requests/s", "RTT p50 (ms)",
                   "RTT p95 (ms)", "RTT p99 (ms)", "RTT Max (ms)", "Messages Sent", "Messages Received",
                   "Messages Sent/s", "Messages Received/s", "Sent per User"})
        w.field(std::string_view(h));
    w.end_line();
    for (const auto& p : phase_table(r)) {
        w.field(p.name).field(p.users).field(p.start_s, 3).field(p.end_s, 3).field(p.users_started);
        w.field(p.connects_ok).field(p.connects_failed).field(p.connect_success, 2);
        w.field(p.connect_avg, 3).field(p.connect_max, 3);
        w.field(p.requests_sent).field(p.requests_answered).field(p.requests_failed);
        w.field(p.request_success, 2).field(p.requests_per_s, 2);
        for (double ms : {p.rtt_p50, p.rtt_p95, p.rtt_p99, p.rtt_max}) w.field(ms, 3);
        w.field(p.messages_sent).field(p.messages_received).field(p.sent_per_s, 2).field(p.received_per_s, 2);
        w.field(p.sent_per_user, 2);
        w.end_line();
    }
    return w.text();
}

inline bool write_text_file(const std::string& path, const std::string& text, std::string_view flag)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);  // binary: keep the CRLFs as written
    out << text;
    out.close();
    if (!out) {
        log(log_level::error, std::string(flag) + ": cannot write " + wsload::detail::quoted(path));
        return false;
    }
    return true;
}

}  // namespace detail

/// Writes PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and, when the run
/// has phases, PREFIX_phases.csv; false (after logging one line) at the first file that cannot
/// be written.
inline bool write_csv(const std::string& prefix, const stats::run_info&, const stats::run_result& r, const outcome&)
{
    return detail::write_text_file(prefix + "_stats.csv", detail::stats_csv(r), "--csv") &&
           detail::write_text_file(prefix + "_stats_history.csv", detail::stats_history_csv(r), "--csv") &&
           detail::write_text_file(prefix + "_failures.csv", detail::failures_csv(r), "--csv") &&
           (r.phases.empty() || detail::write_text_file(prefix + "_phases.csv", detail::phases_csv(r), "--csv"));
}

/// `--csv PREFIX`.
class csv_sink final : public sink {
public:
    explicit csv_sink(std::string prefix) : prefix_(std::move(prefix)) {}
    bool finish(const stats::run_info& c, const stats::run_result& r, const outcome& o) override
    {
        return write_csv(prefix_, c, r, o);
    }

private:
    std::string prefix_;
};

}  // namespace wsload::report
