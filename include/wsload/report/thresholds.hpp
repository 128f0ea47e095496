#pragma once
// Pass/fail criteria, k6-style: `connect.p99 < 100ms`, `connect.success >= 99%`,
// `failures.refused == 0`, `request_failures.reset == 0`. Parsed before the run (a bad one is a
// usage error), evaluated at the end; counts that only grow can fail early (--abort-on-fail).

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>
#include <wsload/report/summary.hpp>
#include <wsload/stats/catalogue.hpp>
#include <wsload/stats/metrics.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::report {

/// What a threshold measures: a latency statistic (in ms), a rate (in %) or a count.
struct threshold_metric {
    enum class kind { latency, rate, count } what = kind::count;
    std::size_t histogram = 0;  ///< latency: which histogram
    double percentile = 0;      ///< latency: pNN; or one of the special stats below
    enum class stat { percentile, min, max, mean, stddev, count } statistic = stat::percentile;
    enum class rate { connect_success, pong, request_success } rate_of = rate::connect_success;
    enum class family { counter, failure, disconnect, request_failure } counted = family::counter;
    std::size_t index = 0;  ///< count: which counter, or class of connect failure, disconnect or request failure
    /// round_trip{name} and requests{name}: only the requests of that name.
    std::string request_name;
};

struct threshold {
    std::string expression;  ///< as the user wrote it
    threshold_metric metric;
    enum class op { lt, le, gt, ge, eq, ne } comparison = op::lt;
    double limit = 0;  ///< in the metric's unit: ms, %, or a count

    /// The observed value, in the metric's unit.
    double observe(const stats::totals& t) const
    {
        using K = threshold_metric::kind;
        const auto& m = metric;
        // A name covers its requests over every transport (a "login" over HTTP and over TCP
        // are one step); a name the run never used has nothing timed and nothing sent.
        const stats::named_totals* named = nullptr;
        stats::named_totals of_name;
        if (!m.request_name.empty()) {
            for (const auto& [key, figures] : t.requests)
                if (key.name == m.request_name) of_name.add(figures);
            named = &of_name;
        }
        if (m.what == K::latency) {
            const auto& h = named ? named->round_trip : t.histograms[m.histogram];
            constexpr double ms = 1e6;
            switch (m.statistic) {
            case threshold_metric::stat::percentile: return static_cast<double>(h.percentile(m.percentile)) / ms;
            case threshold_metric::stat::min: return static_cast<double>(h.min()) / ms;
            case threshold_metric::stat::max: return static_cast<double>(h.max()) / ms;
            case threshold_metric::stat::mean: return h.mean() / ms;
            case threshold_metric::stat::stddev: return h.stddev() / ms;
            case threshold_metric::stat::count: return static_cast<double>(h.count());
            }
        }
        if (m.what == K::rate) {
            using stats::counter_id;
            switch (m.rate_of) {
            case threshold_metric::rate::connect_success:
                return percent(t[counter_id::connect_successes], t[counter_id::connect_attempts]);
            case threshold_metric::rate::pong: return percent(t[counter_id::pongs_received], t[counter_id::pings_sent]);
            case threshold_metric::rate::request_success:
                if (named) return percent(named->answered, named->sent);
                return percent(t[counter_id::requests_answered], t[counter_id::requests_sent]);
            }
        }
        return static_cast<double>(count(t));
    }

    bool passes(double observed) const noexcept
    {
        switch (comparison) {
        case op::lt: return observed < limit;
        case op::le: return observed <= limit;
        case op::gt: return observed > limit;
        case op::ge: return observed >= limit;
        case op::eq: return observed == limit;
        case op::ne: return observed != limit;
        }
        return false;
    }

    /// True when the run so far already decides a failure: a count that only grows has passed
    /// an upper limit. (Latencies and rates can still recover, so they never fail early.)
    bool failed_for_good(const stats::counter_totals& t) const noexcept
    {
        if (metric.what != threshold_metric::kind::count) return false;
        const auto v = static_cast<double>(count(t));
        switch (comparison) {
        case op::lt: return v >= limit;
        case op::le: return v > limit;
        case op::eq: return v > limit;
        default: return false;
        }
    }

    /// The unit the limit and observed value are shown in.
    std::string_view unit() const noexcept
    {
        switch (metric.what) {
        case threshold_metric::kind::latency:
            return metric.statistic == threshold_metric::stat::count ? "" : "ms";
        case threshold_metric::kind::rate: return "%";
        default: return "";
        }
    }

private:
    std::uint64_t count(const stats::counter_totals& t) const noexcept
    {
        switch (metric.counted) {
        case threshold_metric::family::failure: return t.connect_failures[metric.index];
        case threshold_metric::family::disconnect: return t.disconnects[metric.index];
        case threshold_metric::family::request_failure: return t.request_failures[metric.index];
        default: return t.counters[metric.index];
        }
    }
};

namespace detail {

[[noreturn]] inline void bad_threshold(std::string_view text, const std::string& why)
{
    throw usage_error("--threshold: " + wsload::detail::quoted(text) + ": " + why +
                      " (e.g. \"connect.p99 < 100ms\", \"connect.success >= 99%\", \"failures.refused == 0\")");
}

inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

template <std::size_t N>
std::optional<std::size_t> find_name(const std::array<std::string_view, N>& names, std::string_view name)
{
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == name) return i;
    return std::nullopt;
}

/// A histogram by its name or one of its aliases (the catalogue's: rtt, ping, connect_handshake).
inline std::optional<std::size_t> find_histogram(std::string_view name)
{
    const auto id = stats::find_histogram(name);
    if (!id) return std::nullopt;
    return static_cast<std::size_t>(*id);
}

inline threshold_metric parse_metric(std::string_view text, std::string_view whole)
{
    using K = threshold_metric::kind;
    threshold_metric m;
    // round_trip{login}.p99, requests{login}.success: the name may hold dots, so the
    // family ends at the closing brace.
    std::string_view family, field;
    if (const auto open = text.find('{'); open != std::string_view::npos) {
        const auto close = text.find('}', open);
        const auto base = text.substr(0, open);
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != '.')
            bad_threshold(whole, "write a named metric as round_trip{name}.p99 or requests{name}.success");
        if (base != "round_trip" && base != "rtt" && base != "requests")
            bad_threshold(whole, "only round_trip{name} and requests{name} take a request name, not " +
                                     wsload::detail::quoted(base));
        m.request_name = std::string(text.substr(open + 1, close - open - 1));
        if (m.request_name.empty()) bad_threshold(whole, "empty request name in " + wsload::detail::quoted(text));
        family = base;
        field = text.substr(close + 2);
        if (family == "requests" && field != "success")
            bad_threshold(whole, "requests{name} has one statistic: success (a percentage)");
    } else {
        const auto dot = text.find('.');  // families have no dots; fields may (p99.9)
        family = dot == std::string_view::npos ? std::string_view{} : text.substr(0, dot);
        field = dot == std::string_view::npos ? text : text.substr(dot + 1);
    }

    if (field == "success" && family == "connect") return m.what = K::rate, m.rate_of = threshold_metric::rate::connect_success, m;
    if (field == "rate" && family == "pong") return m.what = K::rate, m.rate_of = threshold_metric::rate::pong, m;
    if (field == "success" && family == "requests")
        return m.what = K::rate, m.rate_of = threshold_metric::rate::request_success, m;
    if (family == "failures" || family == "disconnects" || family == "request_failures") {
        using F = threshold_metric::family;
        m.what = K::count;
        m.counted = family == "failures" ? F::failure : family == "disconnects" ? F::disconnect : F::request_failure;
        const auto i = m.counted == F::failure      ? find_name(stats::connect_failure_names, field)
                       : m.counted == F::disconnect ? find_name(stats::disconnect_reason_names, field)
                                                    : find_name(stats::request_failure_names, field);
        if (!i) bad_threshold(whole, "no " + std::string(family) + " class named " + std::string(field));
        m.index = *i;
        return m;
    }
    if (family.empty() || family == "counters") {
        const auto i = find_name(stats::counter_names, field);
        if (!i) bad_threshold(whole, "unknown metric " + wsload::detail::quoted(text));
        m.what = K::count;
        m.index = *i;
        return m;
    }
    const auto h = find_histogram(family);
    if (!h) bad_threshold(whole, "unknown metric " + wsload::detail::quoted(family));
    m.what = K::latency;
    m.histogram = *h;
    using S = threshold_metric::stat;
    if (field == "min") m.statistic = S::min;
    else if (field == "max") m.statistic = S::max;
    else if (field == "avg" || field == "mean") m.statistic = S::mean;
    else if (field == "stddev") m.statistic = S::stddev;
    else if (field == "count") m.statistic = S::count;
    else if (field == "median") m.percentile = 50;
    else if (field.size() > 1 && field[0] == 'p') {
        std::string digits(field.substr(1));  // p99, p99.9 or p99_9
        for (auto& c : digits)
            if (c == '_') c = '.';
        double p = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
        if (ec != std::errc{} || end != digits.data() + digits.size() || p <= 0 || p > 100)
            bad_threshold(whole, "bad percentile " + wsload::detail::quoted(field) + " (use p50, p99 or p99.9)");
        m.percentile = p;
    } else {
        bad_threshold(whole, "unknown statistic " + wsload::detail::quoted(field) +
                                 " (use p50, p90, p99, p99.9, median, min, max, avg, stddev or count)");
    }
    return m;
}

}  // namespace detail

/// Parses `metric op value`. Throws usage_error with the reason.
inline threshold parse_threshold(std::string_view text)
{
    static constexpr std::pair<std::string_view, threshold::op> ops[] = {
        {"<=", threshold::op::le}, {">=", threshold::op::ge}, {"==", threshold::op::eq},
        {"!=", threshold::op::ne}, {"<", threshold::op::lt},  {">", threshold::op::gt}};
    threshold t;
    t.expression = std::string(text);
    std::size_t at = std::string_view::npos, len = 0;
    for (const auto& [token, op] : ops) {
        const auto pos = text.find(token);
        if (pos != std::string_view::npos && (at == std::string_view::npos || pos < at || (pos == at && token.size() > len))) {
            at = pos;
            len = token.size();
            t.comparison = op;
        }
    }
    if (at == std::string_view::npos) detail::bad_threshold(text, "no comparison (<, <=, >, >=, == or !=)");
    const auto left = detail::trim(text.substr(0, at));
    const auto right = detail::trim(text.substr(at + len));
    if (left.empty() || right.empty()) detail::bad_threshold(text, "a side of the comparison is empty");
    t.metric = detail::parse_metric(left, text);

    using K = threshold_metric::kind;
    const bool wants_duration = t.metric.what == K::latency && t.metric.statistic != threshold_metric::stat::count;
    if (wants_duration) {
        std::chrono::nanoseconds d{};
        try {
            d = parse_duration(right);
        } catch (const usage_error&) {
            detail::bad_threshold(text, wsload::detail::quoted(right) + " is not a duration (use 100ms, 1s or 250us)");
        }
        t.limit = static_cast<double>(d.count()) / 1e6;
        return t;
    }
    auto number = right;
    if (t.metric.what == K::rate) {
        if (number.back() != '%') detail::bad_threshold(text, "a rate is compared with a percentage, e.g. 99%");
        number.remove_suffix(1);
    }
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), t.limit);
    if (ec != std::errc{} || end != number.data() + number.size())
        detail::bad_threshold(text, wsload::detail::quoted(right) + " is not a number");
    return t;
}

/// A threshold's outcome at the end of a run.
struct threshold_result {
    const threshold* rule;
    double observed;
    bool passed;
};

inline std::vector<threshold_result> evaluate(const std::vector<threshold>& rules, const stats::totals& t)
{
    std::vector<threshold_result> out;
    for (const auto& r : rules) {
        const auto v = r.observe(t);
        out.push_back({&r, v, r.passes(v)});
    }
    return out;
}

}  // namespace wsload::report
