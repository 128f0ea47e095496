#pragma once
// The sinks a run's configuration asks for. Each sink adds its line here.

#include <wsload/report/csv.hpp>
#include <wsload/report/html.hpp>
#include <wsload/report/json.hpp>
#include <wsload/report/prometheus.hpp>
#include <wsload/report/sink.hpp>

#include <memory>
#include <string>
#include <vector>

namespace wsload::report {

/// Where a run's results go besides the console (the flags --json, --csv, --html and
/// --metrics-listen); empty = not asked for.
struct outputs {
    std::string json_file = {};  // initializers: designated {.html_file = ...} leaves the rest quiet
    std::string csv_prefix = {};
    std::string html_file = {};
    std::string metrics_listen = {};
    std::vector<http_route> routes = {};  ///< served on metrics_listen besides /metrics
};

inline std::vector<std::unique_ptr<sink>> make_sinks(const outputs& config)
{
    std::vector<std::unique_ptr<sink>> sinks;
    if (!config.json_file.empty()) sinks.push_back(std::make_unique<json_sink>(config.json_file));
    if (!config.csv_prefix.empty()) sinks.push_back(std::make_unique<csv_sink>(config.csv_prefix));
    if (!config.html_file.empty()) sinks.push_back(std::make_unique<html_sink>(config.html_file));
    if (!config.metrics_listen.empty()) sinks.push_back(std::make_unique<prometheus_sink>(config.metrics_listen, config.routes));
    return sinks;
}

}  // namespace wsload::report
