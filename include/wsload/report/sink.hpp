#pragma once
// Where results go. A sink may watch the run while it goes (a metrics endpoint) and writes
// its output at the end (a file). The console report is always printed; the others are
// chosen by flags and builder calls, several at once.

#include <wsload/report/outcome.hpp>
#include <wsload/stats/run_info.hpp>
#include <wsload/stats/run_result.hpp>

namespace wsload::report {

class sink {
public:
    virtual ~sink() = default;
    /// Before the run starts. `run.snapshot_totals()` may be called from any thread from now
    /// on, until finish() returns.
    virtual void start(const stats::live_run& /*run*/, const stats::run_info&) {}
    /// The run has ended. False (after logging one line) when the output could not be written.
    virtual bool finish(const stats::run_info&, const stats::run_result&, const outcome&) = 0;
};

}  // namespace wsload::report
