#pragma once
// The figures every report shows, derived once from a run's totals so that the text, the
// JSON and later sinks cannot disagree.

#include <wsload/core/duration.hpp>
#include <wsload/stats/errors.hpp>
#include <wsload/stats/labelled.hpp>
#include <wsload/stats/histogram.hpp>
#include <wsload/stats/run_info.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wsload::report {

/// Percentiles the reports show, in this order.
inline constexpr std::array<double, 4> shown_percentiles{50.0, 90.0, 95.0, 99.0};

/// A latency distribution in milliseconds.
struct latency_ms {
    std::uint64_t count = 0;
    double min = 0, max = 0, mean = 0, stddev = 0;
    std::array<double, shown_percentiles.size()> percentiles{};

    explicit latency_ms(const stats::histogram& h)
    {
        constexpr double ms = 1e6;
        count = h.count();
        if (count == 0) return;
        min = static_cast<double>(h.min()) / ms;
        max = static_cast<double>(h.max()) / ms;
        mean = h.mean() / ms;
        stddev = h.stddev() / ms;
        for (std::size_t i = 0; i < shown_percentiles.size(); ++i)
            percentiles[i] = static_cast<double>(h.percentile(shown_percentiles[i])) / ms;
    }
};

/// Ratios shown as percentages; a ratio of nothing is reported as 0, never as NaN.
/// How the users started, in words: the load shape's description, or (files written before
/// shapes were recorded) "N users, ramp D".
inline std::string load_text(const stats::run_info& c)
{
    if (!c.load.empty()) return c.load;
    return std::to_string(c.users) + (c.users == 1 ? " user" : " users") + ", ramp " + format_duration(c.ramp);
}

/// Counts by label (the errors table, pushes by type), most frequent first (ties by label).
inline std::vector<std::pair<std::string, std::uint64_t>> labels_by_count(const stats::label_counts& counts)
{
    std::vector<std::pair<std::string, std::uint64_t>> rows(counts.begin(), counts.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return rows;
}
inline std::vector<std::pair<std::string, std::uint64_t>> errors_by_count(const stats::error_counts& errors)
{
    return labels_by_count(errors);
}

inline double percent(std::uint64_t part, std::uint64_t whole) noexcept
{
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

inline double per_second(std::uint64_t n, std::chrono::nanoseconds elapsed) noexcept
{
    const double s = std::chrono::duration<double>(elapsed).count();
    return s <= 0 ? 0.0 : static_cast<double>(n) / s;
}

}  // namespace wsload::report
