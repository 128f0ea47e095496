#pragma once
// A run's figures cut by phase (a stage, a step's level, the warm-up), exactly: the engine reads
// every shard at each phase's start, and a phase's figures are the difference of two readings
// (counters subtract, histograms bucket by bucket). Every event falls in exactly one phase, and
// the phases add up to the run's totals. Plain data: stats/ knows no load shape, so the phase's
// name, start and target are copied here.

#include <wsload/stats/metrics.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wsload::stats {

/// A phase as the load shape names it: where it starts (since the run's start) and the users
/// it goes to.
struct phase_mark {
    std::string name;
    std::chrono::nanoseconds start{0};
    std::uint64_t users = 0;
};

/// What happened in one phase.
struct phase_result {
    std::string name;
    std::chrono::nanoseconds start{0};  ///< since the run's start
    std::chrono::nanoseconds end{0};    ///< the next phase's start, or (the last phase reached) the run's end
    std::uint64_t users = 0;            ///< the target the phase goes to
    /// Its figures; the gauge active_connections is the reading at the phase's end.
    std::unique_ptr<stats::totals> totals = std::make_unique<stats::totals>();

    std::chrono::nanoseconds length() const noexcept { return end - start; }
};

/// Cuts a run by phase. `marks`: the phases in order; `starts[k]`: every shard read at the start
/// of phase k + 1; `end`: the run's totals; `elapsed`: when the run was told to end. The phases
/// reached are the first starts.size() + 1 (at most marks.size()); later ones are absent. The
/// first phase counts from zero (anything before its start, which no shape has today, counts
/// in it), the last reached runs to the end. Throws std::invalid_argument when the readings are
/// not in order.
inline std::vector<phase_result> cut_phases(const std::vector<phase_mark>& marks,
                                            std::vector<std::unique_ptr<totals>> starts, const totals& end,
                                            std::chrono::nanoseconds elapsed)
{
    std::vector<phase_result> out;
    if (marks.empty()) return out;
    const auto reached = std::min(marks.size(), starts.size() + 1);
    out.resize(reached);
    // From the last phase down: phase k is reading k+1 minus reading k, done in place in the
    // later reading once the phase after it no longer needs it. One copy, of `end`.
    for (std::size_t k = reached; k-- > 0;) {
        auto& p = out[k];
        p.name = marks[k].name;
        p.start = marks[k].start;
        p.users = marks[k].users;
        p.end = k + 1 < reached ? marks[k + 1].start : std::max(elapsed, p.start);
        if (k + 1 < reached) p.totals = std::move(starts[k]);
        else p.totals->add(end);
        if (k > 0) p.totals->subtract(*starts[k - 1]);
    }
    return out;
}

}  // namespace wsload::stats
