#pragma once
// The Prometheus sink (`--metrics-listen HOST:PORT`): the run's figures (prometheus_text.hpp)
// served by the metrics endpoint (metrics_endpoint.hpp) while the run goes. Prometheus must
// scrape more often than the run lasts (a scrape interval of a few seconds for a run of
// minutes): the endpoint exists only while the run does.

#include <wsload/core/log.hpp>
#include <wsload/report/metrics_endpoint.hpp>
#include <wsload/report/prometheus_text.hpp>
#include <wsload/report/sink.hpp>
#include <wsload/stats/run_info.hpp>
#include <wsload/stats/run_result.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wsload::report {

/// `--metrics-listen HOST:PORT`: serves the live figures while the run goes, then the final
/// ones (those of the report) until the sink is destroyed, after the report.
class prometheus_sink final : public sink {
public:
    /// `routes`: more paths to serve on the same listener (the live control, dsl/control_routes.hpp).
    explicit prometheus_sink(std::string listen, std::vector<http_route> routes = {})
        : listen_(std::move(listen)), routes_(std::move(routes))
    {}

    void start(const stats::live_run& run, const stats::run_info& info) override
    {
        // snapshot() is ours until finish() returns: the lock makes finish() wait for a render
        // in flight, and from then on the render serves the final text instead.
        endpoint_ = std::make_unique<metrics_endpoint>(listen_, [this, &run, info]() -> std::string {
            std::lock_guard lock(mutex_);
            if (finished_) return final_text_;
            const auto totals = run.snapshot_totals();
            return prometheus_text(*totals, run.elapsed(), info);
        }, std::move(routes_));
        log(log_level::info, "serving Prometheus metrics at " + endpoint_->url());
    }

    bool finish(const stats::run_info& config, const stats::run_result& result, const outcome&) override
    {
        if (!result.totals) return true;
        auto text = prometheus_text(*result.totals, result.elapsed, config);
        std::lock_guard lock(mutex_);
        final_text_ = std::move(text);
        finished_ = true;
        return true;
    }

    /// The endpoint once start() has run (tests read its port).
    const metrics_endpoint* endpoint() const noexcept { return endpoint_.get(); }

private:
    std::string listen_;
    std::vector<http_route> routes_;  ///< handed to the endpoint at start()
    std::mutex mutex_;
    std::string final_text_;
    bool finished_ = false;
    std::unique_ptr<metrics_endpoint> endpoint_;  // last: stopped before the rest goes
};

}  // namespace wsload::report
