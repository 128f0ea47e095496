#pragma once
// The verdict on a run: thresholds evaluated, health grades, and the exit status.

#include <wsload/report/grades.hpp>
#include <wsload/report/thresholds.hpp>
#include <wsload/stats/run_result.hpp>

#include <vector>

namespace wsload::report {

/// Exit statuses (README): 0 all passed, 1 a threshold failed, 2 usage error, 3 the run
/// itself failed (connections attempted and none succeeded, or every behaviour threw), 4 the run
/// was interrupted (SIGINT, SIGTERM) and reported what it had: a CI job must not read a run cut
/// short as a pass, and its thresholds judged only part of it.
inline constexpr int exit_ok = 0, exit_threshold_failed = 1, exit_usage = 2, exit_run_failed = 3, exit_interrupted = 4;

struct outcome {
    std::vector<threshold_result> thresholds;
    std::vector<graded> grades;
    bool run_failed = false;
    bool interrupted = false;  ///< ended by SIGINT or SIGTERM

    bool thresholds_passed() const noexcept
    {
        for (const auto& t : thresholds)
            if (!t.passed) return false;
        return true;
    }
    int exit_status() const noexcept
    {
        if (run_failed) return exit_run_failed;
        if (interrupted) return exit_interrupted;
        return thresholds_passed() ? exit_ok : exit_threshold_failed;
    }
};

inline outcome judge(const stats::run_result& r, const std::vector<threshold>& rules)
{
    using stats::counter_id;
    const auto& t = *r.totals;
    outcome o;
    o.thresholds = evaluate(rules, t);
    o.grades = grades(t);
    o.interrupted = r.interrupted;
    o.run_failed = (t[counter_id::connect_attempts] > 0 && t[counter_id::connect_successes] == 0) ||
                   (t[counter_id::users_started] > 0 && t[counter_id::behaviour_errors] == t[counter_id::users_started]);
    return o;
}

}  // namespace wsload::report
