#pragma once
// The sinks a run's configuration asks for. Each sink adds its line here.

#include <wsload/report/json.hpp>
#include <wsload/report/sink.hpp>

#include <memory>
#include <vector>

namespace wsload::report {

inline std::vector<std::unique_ptr<sink>> make_sinks(const run_config& config)
{
    std::vector<std::unique_ptr<sink>> sinks;
    if (!config.json_file.empty()) sinks.push_back(std::make_unique<json_sink>(config.json_file));
    // (being built: the CSV, HTML and Prometheus sinks replace these refusals)
    if (!config.csv_prefix.empty()) throw usage_error("--csv: not available yet in this build");
    if (!config.html_file.empty()) throw usage_error("--html: not available yet in this build");
    if (!config.metrics_listen.empty()) throw usage_error("--metrics-listen: not available yet in this build");
    return sinks;
}

}  // namespace wsload::report
