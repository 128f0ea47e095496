#pragma once
// The result document (`--json FILE`), schema "wsload.result/1". Field by field it carries
// the figures of the text report; the measurement issue grows it (histograms, time series).

#include <wsload/core/duration.hpp>
#include <wsload/report/summary.hpp>
#include <wsload/runtime/run_config.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <string>

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

inline boost::json::object result_document(const run_config& config, const runtime::run_result& r)
{
    using stats::counter_id;
    const auto& t = *r.totals;
    boost::json::object doc;
    doc["schema"] = "wsload.result/1";
    doc["scenario"] = config.name;

    boost::json::object cfg;
    cfg["target"] = config.target ? config.target->to_string() : "";
    cfg["users"] = config.users;
    cfg["ramp_s"] = std::chrono::duration<double>(config.ramp).count();
    cfg["duration_s"] = std::chrono::duration<double>(config.duration).count();
    cfg["ping_interval_s"] = std::chrono::duration<double>(config.ping_interval).count();
    cfg["threads"] = config.threads;
    cfg["seed"] = config.seed;
    doc["config"] = std::move(cfg);

    boost::json::object run;
    run["elapsed_s"] = std::chrono::duration<double>(r.elapsed).count();
    run["interrupted"] = r.interrupted;
    run["exit_status"] = exit_status(r);
    doc["run"] = std::move(run);

    boost::json::object conns;
    conns["attempted"] = t[counter_id::connect_attempts];
    conns["succeeded"] = t[counter_id::connect_successes];
    conns["failed"] = t.failures();
    conns["success_rate"] = percent(t[counter_id::connect_successes], t[counter_id::connect_attempts]);
    conns["open_at_end"] = r.open_at_end;
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

    boost::json::object latency;
    for (std::size_t i = 0; i < stats::histogram_count; ++i)
        latency[stats::histogram_names[i]] = to_json(latency_ms(t.histograms[i]));
    doc["latency_ms"] = std::move(latency);

    boost::json::object counters;
    for (std::size_t i = 0; i < stats::counter_count; ++i) counters[stats::counter_names[i]] = t.counters[i];
    doc["counters"] = std::move(counters);

    boost::json::object rates;
    rates["messages_sent_per_s"] = per_second(t[counter_id::messages_sent], r.elapsed);
    rates["messages_received_per_s"] = per_second(t[counter_id::messages_received], r.elapsed);
    rates["pong_rate"] = percent(t[counter_id::pongs_received], t[counter_id::pings_sent]);
    doc["rates"] = std::move(rates);
    return doc;
}

/// Writes the document; false (and a logged error) if the file cannot be written.
inline bool write_json(const std::string& path, const run_config& config, const runtime::run_result& r)
{
    std::ofstream out(path, std::ios::trunc);
    out << boost::json::serialize(result_document(config, r)) << '\n';
    out.close();
    if (!out) {
        log(log_level::error, "--json: cannot write \"" + path + "\"");
        return false;
    }
    return true;
}

}  // namespace wsload::report
