#pragma once
// The run's figures in the Prometheus text exposition format 0.0.4: counters `wsload_*_total`,
// gauges, the latency histograms in seconds, and per request name a counter per outcome and a
// round-trip histogram. Pure rendering of stats::totals: the endpoint and the sink are apart.

#include <wsload/stats/catalogue.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/run_info.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsload::report {

namespace detail {

/// A label value per the text format: backslash, double quote and line feed escaped.
inline void append_label_value(std::string& out, std::string_view value)
{
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

/// A HELP docstring per the text format: backslash and line feed escaped (quotes stay).
inline void append_help(std::string& out, std::string_view text)
{
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
}

/// Shortest decimal that reads back as the same double (Go's ParseFloat reads exponents too).
inline void append_number(std::string& out, double v)
{
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, ec == std::errc() ? end : buffer);
}

inline void append_number(std::string& out, std::uint64_t v)
{
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, end);
}

/// `# HELP` and `# TYPE` lines of a family.
inline void append_family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    append_help(out, help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

/// One sample line: `name{label="value"} number`, the label part only when `label` is given.
template <class Number>
void append_sample(std::string& out, std::string_view name, Number value, std::string_view label = {},
                   std::string_view label_value = {})
{
    out += name;
    if (!label.empty()) {
        out += '{';
        out += label;
        out += "=\"";
        append_label_value(out, label_value);
        out += "\"}";
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

struct bucket_bound {
    std::uint64_t ns;
    std::string_view le;  ///< the same bound in seconds, as the `le` label shows it
};

/// The fixed `le` bounds of every latency histogram (+Inf is added after them).
inline constexpr std::array<bucket_bound, 16> bucket_bounds{{
    {100'000, "0.0001"},       {250'000, "0.00025"},      {500'000, "0.0005"},
    {1'000'000, "0.001"},      {2'500'000, "0.0025"},     {5'000'000, "0.005"},
    {10'000'000, "0.01"},      {25'000'000, "0.025"},     {50'000'000, "0.05"},
    {100'000'000, "0.1"},      {250'000'000, "0.25"},     {500'000'000, "0.5"},
    {1'000'000'000, "1"},      {2'500'000'000, "2.5"},    {5'000'000'000, "5"},
    {10'000'000'000, "10"},
}};

/// A latency histogram as a Prometheus histogram in seconds. Cumulative buckets from the HDR
/// buckets: an HDR bucket counts under the first bound its highest equivalent value does not
/// exceed, so a value at a bound, or less than one HDR bucket width (< 0.1% at 3 digits) below
/// it, may be counted under the next bound up (1 ms exactly shows under le="0.0025"). `_count`
/// is the +Inf bucket by construction; `_sum` is the exact sum of the values (clamped ones
/// included), which a concurrent writer may put one or two values ahead of the buckets.
/// The samples of one histogram; `labels` (`type="WS",name="login"`, or empty) go before `le`.
inline void append_histogram_samples(std::string& out, std::string_view name, std::string_view labels,
                                     const stats::histogram& h)
{
    std::array<std::uint64_t, bucket_bounds.size() + 1> counts{};  // the last one is +Inf
    h.for_each_bucket([&](std::uint64_t, std::uint64_t highest, std::uint64_t count) {
        std::size_t i = 0;
        while (i < bucket_bounds.size() && highest > bucket_bounds[i].ns) ++i;
        counts[i] += count;
    });
    const auto line = [&](std::string_view suffix, std::string_view le, auto value) {
        out += name;
        out += suffix;
        if (!labels.empty() || !le.empty()) {
            out += '{';
            out += labels;
            if (!le.empty()) {
                if (!labels.empty()) out += ',';
                out += "le=\"";
                out += le;
                out += '"';
            }
            out += '}';
        }
        out += ' ';
        append_number(out, value);
        out += '\n';
    };
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
        cumulative += counts[i];
        line("_bucket", bucket_bounds[i].le, cumulative);
    }
    cumulative += counts.back();
    line("_bucket", "+Inf", cumulative);
    const auto state = h.export_state();  // the exact sum, rather than mean * count rounded twice
    const long double sum_ns = std::ldexp(static_cast<long double>(state.sum[1]), 64) + state.sum[0];
    line("_sum", {}, static_cast<double>(sum_ns / 1e9L));
    line("_count", {}, cumulative);
}

inline void append_histogram(std::string& out, std::string_view name, std::string_view help,
                             const stats::histogram& h)
{
    append_family(out, name, "histogram", help);
    append_histogram_samples(out, name, {}, h);
}

/// `type="WS",name="login"`: the labels of a request name's samples, escaped.
inline std::string request_labels(const stats::request_key& key)
{
    std::string labels = "type=\"";
    append_label_value(labels, key.type);
    labels += "\",name=\"";
    append_label_value(labels, key.name);
    labels += '"';
    return labels;
}

/// Requests by name: a counter per outcome and a round-trip histogram per name, each one
/// family (Prometheus wants a family's samples together).
inline void append_named_requests(std::string& out, const stats::named_map& requests)
{
    if (requests.empty()) return;
    append_family(out, "wsload_named_requests_total", "counter",
                  "Requests by type and name, per outcome (sent = answered + rejected + timed_out + failed + in flight).");
    for (const auto& [key, named] : requests) {
        const auto labels = request_labels(key);
        const std::pair<std::string_view, std::uint64_t> outcomes[] = {
            {"sent", named.sent},          {"answered", named.answered}, {"rejected", named.rejected},
            {"timed_out", named.timed_out}, {"failed", named.failed}};
        for (const auto& [outcome, n] : outcomes) {
            out += "wsload_named_requests_total{";
            out += labels;
            out += ",outcome=\"";
            out += outcome;
            out += "\"} ";
            append_number(out, n);
            out += '\n';
        }
    }
    append_family(out, "wsload_named_round_trip_seconds", "histogram",
                  "Round trips of answered requests by type and name, from the intended send time.");
    for (const auto& [key, named] : requests)
        append_histogram_samples(out, "wsload_named_round_trip_seconds", request_labels(key), named.round_trip);
}

/// Counts by label (pushes by type, reconnects by reason): one counter family, a sample per label.
inline void append_labelled(std::string& out, std::string_view family, std::string_view label, std::string_view help,
                            const stats::label_counts& counts)
{
    if (counts.empty()) return;
    append_family(out, family, "counter", help);
    for (const auto& [value, n] : counts) {
        out += family;
        out += '{';
        out += label;
        out += "=\"";
        append_label_value(out, value);
        out += "\"} ";
        append_number(out, n);
        out += '\n';
    }
}

}  // namespace detail

/// The figures of `t` in the Prometheus text exposition format 0.0.4: counters `wsload_*_total`,
/// gauges (open connections, users, elapsed seconds, run info) and the latency histograms in
/// seconds. `elapsed` is the run's time so far.
inline std::string prometheus_text(const stats::totals& t, std::chrono::nanoseconds elapsed, const stats::run_info& config)
{
    std::string out;
    out.reserve(16 * 1024);

    const auto gauge = [&](std::string_view name, std::string_view help, auto value) {
        detail::append_family(out, name, "gauge", help);
        detail::append_sample(out, name, value);
    };

    gauge("wsload_users_target", "Simulated users the run starts in all.", config.users);
    gauge("wsload_elapsed_seconds", "Seconds since the run started.",
          std::chrono::duration<double>(elapsed).count());
    {
        // The labels say which run this is; the value is always 1 (the usual *_info idiom).
        detail::append_family(out, "wsload_run_info", "gauge", "The run: scenario name and target URL (value 1).");
        out += "wsload_run_info{scenario=\"";
        detail::append_label_value(out, config.name);
        out += "\",target=\"";
        detail::append_label_value(out, config.target);
        out += "\"} 1\n";
    }

    for (const auto& c : stats::counter_catalogue) {
        const bool is_gauge = c.kind == stats::counter_kind::gauge;
        const auto name = "wsload_" + std::string(c.name) + (is_gauge ? "" : "_total");
        detail::append_family(out, name, is_gauge ? "gauge" : "counter", c.help);
        detail::append_sample(out, name, t[c.id]);
    }
    detail::append_family(out, "wsload_connect_failures_total", "counter",
                          "Failed connection attempts by class; the classes sum to the failures.");
    for (std::size_t i = 0; i < stats::connect_failure_count; ++i)
        detail::append_sample(out, "wsload_connect_failures_total", t.connect_failures[i], "reason",
                              stats::connect_failure_names[i]);
    detail::append_family(out, "wsload_connect_http_status_total", "counter",
                          "Upgrades answered with an HTTP status other than 101, by status (non-zero only).");
    for (std::size_t code = 0; code < stats::http_status_limit; ++code)
        if (t.http_statuses[code] != 0)
            detail::append_sample(out, "wsload_connect_http_status_total", t.http_statuses[code], "code",
                                  std::to_string(code));
    detail::append_family(out, "wsload_disconnects_total", "counter",
                          "Established connections that ended, by class.");
    for (std::size_t i = 0; i < stats::disconnect_reason_count; ++i)
        detail::append_sample(out, "wsload_disconnects_total", t.disconnects[i], "reason",
                              stats::disconnect_reason_names[i]);
    detail::append_family(out, "wsload_close_codes_total", "counter",
                          "server_close disconnects by WebSocket close code (non-zero only).");
    for (std::size_t code = 0; code < stats::close_code_limit; ++code)
        if (t.close_codes[code] != 0)
            detail::append_sample(out, "wsload_close_codes_total", t.close_codes[code], "code", std::to_string(code));
    detail::append_family(out, "wsload_request_failures_total", "counter",
                          "Failed requests by class; the classes sum to wsload_requests_failed_total.");
    for (std::size_t i = 0; i < stats::request_failure_count; ++i)
        detail::append_sample(out, "wsload_request_failures_total", t.request_failures[i], "reason",
                              stats::request_failure_names[i]);
    detail::append_family(out, "wsload_http_responses_total", "counter",
                          "HTTP responses to requests, by status (0: a status outside 100..599; non-zero only).");
    for (std::size_t code = 0; code < stats::http_status_limit; ++code)
        if (t.http_responses[code] != 0)
            detail::append_sample(out, "wsload_http_responses_total", t.http_responses[code], "code",
                                  std::to_string(code));

    for (const auto& h : stats::histogram_catalogue)
        detail::append_histogram(out, "wsload_" + std::string(h.name) + "_seconds", h.help, t[h.id]);
    detail::append_named_requests(out, t.requests);
    detail::append_labelled(out, "wsload_pushes_total", "type",
                            "Messages no request claimed (server pushes), by the type the scenario reads from them.", t.pushes);
    detail::append_labelled(out, "wsload_reconnects_total", "reason",
                            "Reconnects, by the reason of the end that caused them.", t.reconnects);
    return out;
}

}  // namespace wsload::report
