#pragma once
// The result document (`--json FILE`), schema "wsload.result/1", documented in
// docs/result-schema.md: the figures of the text report, the exact histograms, the time series
// and the environment. Other tools (and wsload-report) read this file.

#include <wsload/core/duration.hpp>
#include <wsload/core/log.hpp>
#include <wsload/report/outcome.hpp>
#include <wsload/report/sink.hpp>
#include <wsload/report/summary.hpp>
#include <wsload/stats/run_info.hpp>

#include <wsload/version.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/version.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <exception>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace wsload::report {

inline boost::json::object to_json(const latency_ms& l)
{
    boost::json::object o;
    o["count"] = l.count;
    o["min"] = l.min;
    o["max"] = l.max;
    o["mean"] = l.mean;
    o["stddev"] = l.stddev;
    for (std::size_t i = 0; i < shown_percentiles.size(); ++i)
        o["p" + std::to_string(static_cast<int>(shown_percentiles[i]))] = l.percentiles[i];
    return o;
}

/// A histogram exactly: layout, aggregates and non-empty buckets as [index, count] pairs.
/// 64-bit figures that JSON numbers cannot hold exactly (sums) are decimal strings of limbs.
inline boost::json::object to_json(const stats::histogram::state& s)
{
    boost::json::object o;
    o["digits"] = s.digits;
    o["highest_ns"] = s.highest;
    o["count"] = s.count;
    o["clamped"] = s.clamped;
    o["min_ns"] = s.min;
    o["max_ns"] = s.max;
    boost::json::array sum, squares, buckets;
    for (auto limb : s.sum) sum.emplace_back(std::to_string(limb));
    for (auto limb : s.sum_squares) squares.emplace_back(std::to_string(limb));
    for (const auto& [index, count] : s.buckets) buckets.emplace_back(boost::json::array{index, count});
    o["sum_limbs"] = std::move(sum);
    o["sum_squares_limbs"] = std::move(squares);
    o["buckets"] = std::move(buckets);
    return o;
}

/// Appends boost::json::serialize(to_json(s)) to `out`, byte for byte, without building the
/// value: the time series writes one state per second of the run, and building each as a JSON
/// value (an allocation per bucket) cost more than the rest of the file together.
inline void append_json(std::string& out, const stats::histogram::state& s)
{
    const auto number = [&out](auto v) {
        char text[24];
        const auto end = std::to_chars(text, text + sizeof text, v).ptr;
        out.append(text, end);
    };
    const auto limbs = [&](const auto& parts) {
        out += '[';
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (i) out += ',';
            out += '"';
            number(parts[i]);
            out += '"';
        }
        out += ']';
    };
    out += "{\"digits\":";
    number(static_cast<std::int64_t>(s.digits));
    const std::pair<std::string_view, std::uint64_t> figures[] = {
        {"highest_ns", s.highest}, {"count", s.count}, {"clamped", s.clamped}, {"min_ns", s.min}, {"max_ns", s.max}};
    for (const auto& [key, value] : figures) {
        out += ",\"";
        out += key;
        out += "\":";
        number(value);
    }
    out += ",\"sum_limbs\":";
    limbs(s.sum);
    out += ",\"sum_squares_limbs\":";
    limbs(s.sum_squares);
    out += ",\"buckets\":[";
    for (std::size_t i = 0; i < s.buckets.size(); ++i) {
        out += i ? ",[" : "[";
        number(s.buckets[i].first);
        out += ',';
        number(s.buckets[i].second);
        out += ']';
    }
    out += "]}";
}

/// Where the run happened: enough to tell two result files apart and to trust their figures.
inline boost::json::object environment_json(const stats::run_result& r)
{
    boost::json::object env;
    env["wsload_version"] = WSLOAD_VERSION_STRING;
    env["boost_version"] = BOOST_LIB_VERSION;
    env["compiler"] = __VERSION__;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) env["hostname"] = host;
    struct utsname u {};
    if (::uname(&u) == 0) env["os"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
    env["cpus"] = std::thread::hardware_concurrency();
    env["started_at_unix_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(r.started_at.time_since_epoch()).count();
    return env;
}

/// The time series; with `histograms` false, "round_trip_histograms" is an empty array for
/// write_json to stream the spilled histograms into.
inline boost::json::object timeseries_json(const stats::run_result& r, bool histograms = true)
{
    boost::json::object ts;
    ts["interval_s"] = 1;
    boost::json::array columns, rows, buckets;
    for (auto c : stats::second_columns) columns.emplace_back(c);
    for (const auto& row : r.series) {
        boost::json::array values;
        for (auto v : stats::values(row)) values.emplace_back(v);
        rows.emplace_back(std::move(values));
    }
    // Each row's round trips exactly (as in `histograms`), so that per-second percentiles of
    // several runs merge exactly.
    if (histograms) r.series_round_trips.for_each([&](const auto& state) { buckets.emplace_back(to_json(state)); });
    ts["columns"] = std::move(columns);
    ts["rows"] = std::move(rows);
    ts["round_trip_histograms"] = std::move(buckets);
    return ts;
}

/// The generator's health (stats/generator.hpp): the limits it was judged by, how many seconds
/// some worker was over one, and each worker over the run. Times are integer nanoseconds, so
/// that merged files keep them exactly.
inline boost::json::object generator_json(const stats::run_result& r)
{
    boost::json::object g;
    g["late_send_threshold_ns"] = stats::late_send_threshold.count();
    g["busy_limit_pct"] = stats::busy_limit_pct;
    g["lag_limit_ns"] = stats::lag_limit.count();
    std::uint64_t limited = 0;
    for (const auto& row : r.series) limited += row.generator_limited;
    g["limited_seconds"] = limited;
    boost::json::array workers;
    for (const auto& h : r.generator) {
        boost::json::object w;
        w["worker"] = h.worker;
        w["cpu_ns"] = h.cpu.count();
        w["wall_ns"] = h.wall.count();
        w["busy_pct"] = h.busy_pct();
        w["peak_busy_pct"] = h.peak_busy_pct;
        w["seconds"] = h.seconds;
        w["busy_seconds"] = h.busy_seconds;
        w["lagging_seconds"] = h.lagging_seconds;
        w["lag_p99_ns"] = h.lag_p99_ns;
        w["lag_max_ns"] = h.lag_max_ns;
        w["late_sends"] = h.late_sends;
        w["late_p99_ns"] = h.late_p99_ns;
        w["limited"] = h.limited();
        workers.emplace_back(std::move(w));
    }
    g["workers"] = std::move(workers);
    return g;
}

/// Every request of the run (the counters' figures, beside their breakdowns): `failures` has
/// every class, summing to `failed` (short of it only when merged from files written before
/// request classes), and `http_responses` the non-zero status codes (0: outside 100..599).
inline boost::json::object request_totals_json(const stats::counter_totals& t)
{
    using stats::counter_id;
    boost::json::object o, failures, responses;
    o["sent"] = t[counter_id::requests_sent];
    o["answered"] = t[counter_id::requests_answered];
    o["rejected"] = t[counter_id::requests_rejected];
    o["timed_out"] = t[counter_id::requests_timed_out];
    o["failed"] = t[counter_id::requests_failed];
    for (std::size_t i = 0; i < stats::request_failure_count; ++i)
        failures[stats::request_failure_names[i]] = t.request_failures[i];
    for (std::size_t code = 0; code < t.http_responses.size(); ++code)
        if (t.http_responses[code]) responses[std::to_string(code)] = t.http_responses[code];
    o["failures"] = std::move(failures);
    o["http_responses"] = std::move(responses);
    return o;
}

/// A run's figures, or a phase's, as the top level of the document and each entry of `phases`
/// carry them: "connections", "request_totals", "latency_ms", "histograms" (exact), "requests"
/// (by name, exactly), "pushes" (by type), "reconnects" (by reason) and "counters". `open_at_end`: connections open at the end.
inline void write_totals(boost::json::object& doc, const stats::totals& t, std::uint64_t open_at_end)
{
    using stats::counter_id;
    boost::json::object conns;
    conns["attempted"] = t[counter_id::connect_attempts];
    conns["succeeded"] = t[counter_id::connect_successes];
    conns["failed"] = t.failures();
    conns["success_rate"] = percent(t[counter_id::connect_successes], t[counter_id::connect_attempts]);
    conns["open_at_end"] = open_at_end;
    boost::json::object failures, statuses, disconnects, codes;
    for (std::size_t i = 0; i < stats::connect_failure_count; ++i)
        failures[stats::connect_failure_names[i]] = t.connect_failures[i];
    for (std::size_t i = 0; i < t.http_statuses.size(); ++i)
        if (t.http_statuses[i]) statuses[std::to_string(i)] = t.http_statuses[i];
    for (std::size_t i = 0; i < stats::disconnect_reason_count; ++i)
        disconnects[stats::disconnect_reason_names[i]] = t.disconnects[i];
    for (std::size_t i = 0; i < t.close_codes.size(); ++i)
        if (t.close_codes[i]) codes[std::to_string(i)] = t.close_codes[i];
    conns["failures"] = std::move(failures);
    conns["http_statuses"] = std::move(statuses);
    conns["disconnects"] = std::move(disconnects);
    conns["disconnects_total"] = t.disconnect_total();
    conns["close_codes"] = std::move(codes);
    doc["connections"] = std::move(conns);
    doc["request_totals"] = request_totals_json(t);

    boost::json::object latency;
    for (std::size_t i = 0; i < stats::histogram_count; ++i)
        latency[stats::histogram_names[i]] = to_json(latency_ms(t.histograms[i]));
    doc["latency_ms"] = std::move(latency);

    boost::json::object histograms;
    for (std::size_t i = 0; i < stats::histogram_count; ++i)
        histograms[stats::histogram_names[i]] = to_json(t.histograms[i].export_state());
    doc["histograms"] = std::move(histograms);

    // By name, in (type, name) order: the rows of the stats table, exactly.
    boost::json::array requests;
    for (const auto& [key, named] : t.requests) {
        boost::json::object o;
        o["type"] = key.type;
        o["name"] = key.name;
        o["sent"] = named.sent;
        o["answered"] = named.answered;
        o["timed_out"] = named.timed_out;
        o["failed"] = named.failed;
        o["rejected"] = named.rejected;
        o["latency_ms"] = to_json(latency_ms(named.round_trip));
        o["round_trip"] = to_json(named.round_trip.export_state());
        requests.push_back(std::move(o));
    }
    doc["requests"] = std::move(requests);
    const auto labelled = [](const stats::label_counts& counts) {
        boost::json::object o;
        for (const auto& [label, n] : counts) o[label] = n;
        return o;
    };
    doc["pushes"] = labelled(t.pushes);          // messages no request claimed, by type
    doc["reconnects"] = labelled(t.reconnects);  // by the reason of the end that caused them
    boost::json::object counters;
    for (std::size_t i = 0; i < stats::counter_count; ++i) counters[stats::counter_names[i]] = t.counters[i];
    doc["counters"] = std::move(counters);
}

/// The run cut by phase: name, start_s, end_s, users and write_totals' figures for each.
inline boost::json::array phases_json(const stats::run_result& r)
{
    boost::json::array phases;
    for (const auto& p : r.phases) {
        boost::json::object o;
        o["name"] = p.name;
        o["start_s"] = std::chrono::duration<double>(p.start).count();
        o["end_s"] = std::chrono::duration<double>(p.end).count();
        o["users"] = p.users;
        write_totals(o, *p.totals, (*p.totals)[stats::counter_id::active_connections]);
        phases.push_back(std::move(o));
    }
    return phases;
}

namespace detail {

inline boost::json::object result_document(const stats::run_info& config, const stats::run_result& r,
                                          const outcome& verdict, bool series_histograms)
{
    using stats::counter_id;
    const auto& t = *r.totals;
    boost::json::object doc;
    doc["schema"] = "wsload.result/1";
    doc["scenario"] = config.name;

    boost::json::object cfg;
    cfg["target"] = config.target;
    cfg["users"] = config.users;
    cfg["ramp_s"] = std::chrono::duration<double>(config.ramp).count();
    cfg["load"] = config.load;
    cfg["duration_s"] = std::chrono::duration<double>(config.duration).count();
    cfg["ping_interval_s"] = std::chrono::duration<double>(config.ping_interval).count();
    cfg["connect_timeout_s"] = std::chrono::duration<double>(config.connect_timeout).count();
    cfg["timer_slack_s"] = std::chrono::duration<double>(config.timer_slack).count();
    cfg["threads"] = config.threads;
    cfg["seed"] = config.seed;
    doc["config"] = std::move(cfg);

    boost::json::object run;
    run["elapsed_s"] = std::chrono::duration<double>(r.elapsed).count();
    run["interrupted"] = r.interrupted;
    run["ended_early"] = r.ended_early;
    run["exit_status"] = verdict.exit_status();
    doc["run"] = std::move(run);

    write_totals(doc, t, r.open_at_end);
    boost::json::array errors;  // the run's, most frequent first (not cut by phase)
    for (const auto& [message, count] : report::errors_by_count(t.errors)) {
        boost::json::object o;
        o["message"] = message;
        o["count"] = count;
        errors.push_back(std::move(o));
    }
    doc["errors"] = std::move(errors);
    doc["phases"] = phases_json(r);
    doc["timeseries"] = timeseries_json(r, series_histograms);
    doc["generator"] = generator_json(r);
    doc["environment"] = environment_json(r);

    boost::json::array thresholds, grades;
    for (const auto& t : verdict.thresholds)
        thresholds.emplace_back(boost::json::object{{"expression", t.rule->expression},
                                                    {"limit", t.rule->limit},
                                                    {"observed", t.observed},
                                                    {"unit", t.rule->unit()},
                                                    {"passed", t.passed}});
    for (const auto& g : verdict.grades)
        grades.emplace_back(boost::json::object{
            {"indicator", g.indicator}, {"value", g.value}, {"unit", g.unit}, {"grade", name(g.level)}});
    doc["thresholds"] = std::move(thresholds);
    doc["grades"] = std::move(grades);

    boost::json::object rates;
    rates["messages_sent_per_s"] = per_second(t[counter_id::messages_sent], r.elapsed);
    rates["messages_received_per_s"] = per_second(t[counter_id::messages_received], r.elapsed);
    rates["pong_rate"] = percent(t[counter_id::pongs_received], t[counter_id::pings_sent]);
    doc["rates"] = std::move(rates);
    return doc;
}

/// `o` as boost::json::serialize writes it, but the value of `streamed_key` (a placeholder in
/// `o`) written by `streamed(out)`.
template <class Streamed>
void write_object(std::ostream& out, const boost::json::object& o, std::string_view streamed_key, Streamed streamed)
{
    out << '{';
    bool first = true;
    for (const auto& [key, value] : o) {
        if (!first) out << ',';
        first = false;
        out << boost::json::serialize(key) << ':';
        if (key == streamed_key)
            streamed(out);
        else
            out << boost::json::serialize(value);
    }
    out << '}';
}

}  // namespace detail

/// The whole result document, as one JSON object (the time series' histograms included).
inline boost::json::object result_document(const stats::run_info& config, const stats::run_result& r,
                                          const outcome& verdict)
{
    return detail::result_document(config, r, verdict, true);
}

/// Writes result_document(config, r, verdict) to `out`, byte for byte as serialize() would,
/// but the time series' histograms one at a time from their spill: what is in memory at once
/// does not grow with the run's length.
inline void write_result_document(std::ostream& out, const stats::run_info& config, const stats::run_result& r,
                                  const outcome& verdict)
{
    const auto doc = detail::result_document(config, r, verdict, false);
    detail::write_object(out, doc, "timeseries", [&](std::ostream& o) {
        detail::write_object(o, doc.at("timeseries").as_object(), "round_trip_histograms", [&](std::ostream& h) {
            h << '[';
            bool first = true;
            std::string text;
            r.series_round_trips.for_each([&](const stats::histogram::state& state) {
                text.clear();
                if (!first) text += ',';
                first = false;
                append_json(text, state);
                h.write(text.data(), static_cast<std::streamsize>(text.size()));
            });
            h << ']';
        });
    });
}

/// Writes the document; false (and a logged error) if the file cannot be written.
inline bool write_json(const std::string& path, const stats::run_info& config, const stats::run_result& r,
                       const outcome& verdict)
{
    std::ofstream out(path, std::ios::trunc);
    try {
        write_result_document(out, config, r, verdict);
    } catch (const std::exception& e) {  // the spilled histograms could not be read back
        log(log_level::error, "--json: cannot write \"" + path + "\": " + e.what());
        return false;
    }
    out << '\n';
    out.close();
    if (!out) {
        log(log_level::error, "--json: cannot write \"" + path + "\"");
        return false;
    }
    return true;
}

/// `--json FILE`.
class json_sink final : public sink {
public:
    explicit json_sink(std::string path) : path_(std::move(path)) {}
    bool finish(const stats::run_info& c, const stats::run_result& r, const outcome& o) override
    {
        return write_json(path_, c, r, o);
    }

private:
    std::string path_;
};

}  // namespace wsload::report
