#pragma once
// What a run produced, as data: merged figures, the time series and how the run ended. The
// engine fills it; reports, result files and merges read it without knowing the engine.

#include <wsload/stats/generator.hpp>
#include <wsload/stats/histogram.hpp>
#include <wsload/stats/histogram_spill.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/phases.hpp>
#include <wsload/stats/timeseries.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace wsload::stats {

struct run_result {
    std::unique_ptr<stats::totals> totals;  ///< with histograms
    std::vector<second> series;         ///< one entry per second (the last may be partial)
    /// Each second's round trips, exactly (so that series of several runs merge exactly), one
    /// per row of `series`: out of memory, read back in order (an hour of them is ~40 MB).
    histogram_spill series_round_trips;
    /// The run cut by the load shape's named phases (stages, steps' levels), in order; empty
    /// when the shape names none. Phases the run never reached are absent.
    std::vector<phase_result> phases;
    /// Each worker thread's health over the run (stats/generator.hpp), in worker order; empty
    /// from files written before issue 18.
    std::vector<worker_health> generator;
    std::chrono::system_clock::time_point started_at{};  ///< wall clock, for merging runs
    std::chrono::nanoseconds elapsed{0};       ///< start to the moment the run was told to end
    std::uint64_t open_at_end = 0;             ///< connections open when the run was told to end
    bool interrupted = false;                  ///< ended by SIGINT/SIGTERM
    bool ended_early = false;                  ///< ended by a stop request (e.g. a failed threshold)
};

/// What the progress line is given once a second.
struct progress {
    std::chrono::nanoseconds elapsed;
    const counter_totals& now;
    const counter_totals& before;  ///< the previous tick's
    /// Each worker's last second cut so far (the one that just ended, or the one before it),
    /// in worker order: what the live line warns about.
    std::span<const worker_second> workers = {};
};

/// A run that is going on, as a live sink (a metrics endpoint) sees it: figures merged on
/// demand, from any thread, while the run goes.
class live_run {
public:
    /// Counters, gauges and histograms so far, merged over every thread.
    virtual std::unique_ptr<totals> snapshot_totals() const = 0;
    /// Time since the run started (0 before it starts).
    virtual std::chrono::nanoseconds elapsed() const noexcept = 0;

protected:
    ~live_run() = default;
};

}  // namespace wsload::stats
