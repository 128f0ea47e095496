#pragma once
// The health grades of seed 002 (section 6.2): excellent / good / needs work / abnormal for
// connection success rate, connect P50 and P99, and pong rate.

#include <wsload/report/summary.hpp>
#include <wsload/stats/metrics.hpp>

#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace wsload::report {

enum class grade { excellent, good, needs_work, abnormal };

inline constexpr std::string_view name(grade g) noexcept
{
    constexpr std::array<std::string_view, 4> names{"excellent", "good", "needs work", "abnormal"};
    return names[static_cast<std::size_t>(g)];
}

struct graded {
    std::string_view indicator;
    double value;
    std::string_view unit;
    grade level;
};

namespace detail {

/// Higher is better: at least `limits[i]` earns grade i.
inline grade at_least(double v, double excellent, double good, double needs_work) noexcept
{
    return v >= excellent ? grade::excellent : v >= good ? grade::good : v >= needs_work ? grade::needs_work : grade::abnormal;
}
/// Lower is better: below `limits[i]` earns grade i.
inline grade below(double v, double excellent, double good, double needs_work) noexcept
{
    return v < excellent ? grade::excellent : v < good ? grade::good : v < needs_work ? grade::needs_work : grade::abnormal;
}

}  // namespace detail

/// The grades a run earned; an indicator with nothing measured (no pings) is left out.
inline std::vector<graded> grades(const stats::totals& t)
{
    using stats::counter_id;
    std::vector<graded> out;
    if (const auto attempts = t[counter_id::connect_attempts]) {
        const double rate = percent(t[counter_id::connect_successes], attempts);
        out.push_back({"connection success rate", rate, "%", detail::at_least(rate, 99.9, 99, 95)});
    }
    if (const auto& h = t[stats::histogram_id::connect]; !h.empty()) {
        const double p50 = static_cast<double>(h.percentile(50)) / 1e6;
        const double p99 = static_cast<double>(h.percentile(99)) / 1e6;
        out.push_back({"connect P50", p50, "ms", detail::below(p50, 5, 20, 50)});
        out.push_back({"connect P99", p99, "ms", detail::below(p99, 50, 100, 200)});
    }
    if (const auto pings = t[counter_id::pings_sent]) {
        const double rate = percent(t[counter_id::pongs_received], pings);
        out.push_back({"pong rate", rate, "%", detail::at_least(rate, 99.9, 99, 95)});
    }
    return out;
}

}  // namespace wsload::report
