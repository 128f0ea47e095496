#pragma once
// Charts for the HTML report as inline SVG, drawn here rather than by a script library: the
// report must work offline and from a file, and a page with no script renders the same in
// every browser, in a DOM dump and in a unit test that reads the string.
//
// Every chart is an <svg id=... data-points=N data-series=S>: N is the number of x positions
// drawn (seconds on a time chart, bars on a distribution), S the number of series, so a test
// can tell a chart that rendered from an empty frame.

#include <wsload/stats/histogram.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::report {

/// `text` safe inside HTML and SVG, in element content and in quoted attributes alike.
inline std::string escape_html(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

namespace charts {

/// Colours of the series, in order; chosen to stay apart for the common colour blindnesses.
inline constexpr std::string_view palette[] = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"};
/// Dashes of the series, in order: series often coincide (sent = received, no failures at
/// all), and a dashed line over a solid one leaves both visible.
inline constexpr std::string_view dashes[] = {"none", "7 4", "2 4", "10 3 2 3", "4 2"};

/// One line. A NaN y leaves a gap (a second with nothing to measure is not a zero).
struct series {
    std::string label;
    std::vector<double> y;
};

/// A chart of values over a shared x (seconds since the start).
struct line_chart {
    std::string id, title, x_label, y_label;
    std::vector<double> x;
    std::vector<series> lines;
    double x_min_step = 0;  ///< smallest x tick step: 1 for whole seconds, so no "0.5 s" ticks
};

/// One bar of a distribution: [lo, hi) in ms, and the share of samples in it.
struct bin {
    double lo_ms = 0, hi_ms = 0;
    std::uint64_t count = 0;
    double percent = 0;
};

/// A labelled vertical line on a distribution (P50, P99).
struct marker {
    std::string label;
    double ms = 0;
};

/// Bars over a log-scaled latency axis.
struct distribution_chart {
    std::string id, title, x_label, y_label;
    std::vector<bin> bins;
    std::vector<marker> markers;
};

namespace detail {

inline constexpr double width = 900, height = 290;
inline constexpr double left = 72, right = 24, top = 40, bottom = 50;
inline constexpr double plot_w = width - left - right, plot_h = height - top - bottom;

inline std::string num(double v, int decimals = 1)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

/// A round step (1, 2 or 5 times a power of ten) that cuts `range` into about `ticks` parts.
inline double nice_step(double range, int ticks)
{
    if (!(range > 0)) return 1;
    const double raw = range / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

/// A tick label: as many decimals as the step needs, thousands shortened (12k, 1.5M).
inline std::string tick_label(double v, double step)
{
    char buf[64];
    if (std::abs(v) >= 1e6 && step >= 1e5) std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
    else if (std::abs(v) >= 1e4 && step >= 1e3) std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
    else {
        const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    }
    return buf;
}

inline std::string open_svg(const std::string& id, const std::string& title, std::size_t points, std::size_t series)
{
    std::string s = "<svg id=\"" + escape_html(id) + "\" class=\"chart\" data-points=\"" + std::to_string(points) +
                    "\" data-series=\"" + std::to_string(series) + "\" viewBox=\"0 0 " + num(width, 0) + " " +
                    num(height, 0) + "\" width=\"" + num(width, 0) + "\" height=\"" + num(height, 0) +
                    "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
    s += "<title>" + escape_html(title) + "</title>";
    s += "<rect class=\"frame\" x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(plot_w) +
         "\" height=\"" + num(plot_h) + "\" fill=\"#fff\" stroke=\"#cbd5e1\"/>";
    return s;
}

/// Axis titles: x under the ticks, y turned along the left edge.
inline std::string axis_labels(const std::string& x_label, const std::string& y_label)
{
    std::string s = "<text class=\"axis-label\" x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(height - 8) +
                    "\" text-anchor=\"middle\">" + escape_html(x_label) + "</text>";
    s += "<text class=\"axis-label\" transform=\"translate(16 " + num(top + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + escape_html(y_label) + "</text>";
    return s;
}

inline std::string x_tick(double x, const std::string& label)
{
    return "<line class=\"grid\" x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" +
           num(top + plot_h) + "\" stroke=\"#eef2f7\"/><text class=\"tick\" x=\"" + num(x) + "\" y=\"" +
           num(top + plot_h + 16) + "\" text-anchor=\"middle\">" + escape_html(label) + "</text>";
}

inline std::string y_tick(double y, const std::string& label)
{
    return "<line class=\"grid\" x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + plot_w) +
           "\" y2=\"" + num(y) + "\" stroke=\"#eef2f7\"/><text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" +
           num(y + 4) + "\" text-anchor=\"end\">" + escape_html(label) + "</text>";
}

/// Linear y ticks from 0 to `y_max`; returns the grid and labels.
inline std::string y_axis(double y_max, double step)
{
    std::string s;
    for (double v = 0; v <= y_max * (1 + 1e-9); v += step) s += y_tick(top + plot_h - v / y_max * plot_h, tick_label(v, step));
    return s;
}

inline std::string legend(const std::vector<std::string>& labels)
{
    std::string s;
    double x = left;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto colour = palette[i % std::size(palette)];
        // The key is a stroke like the series', dashes included, so a dashed line reads as its own.
        s += "<line class=\"legend-key\" x1=\"" + num(x) + "\" y1=\"16\" x2=\"" + num(x + 18) +
             "\" y2=\"16\" stroke=\"" + std::string(colour) + "\" stroke-width=\"3\" stroke-dasharray=\"" +
             std::string(dashes[i % std::size(dashes)]) + "\"/><text class=\"legend\" x=\"" + num(x + 24) +
             "\" y=\"20\">" + escape_html(labels[i]) + "</text>";
        x += 44 + 7.5 * static_cast<double>(labels[i].size());
    }
    return s;
}

inline std::string no_data()
{
    return "<text class=\"no-data\" x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(top + plot_h / 2) +
           "\" text-anchor=\"middle\">no data</text>";
}

}  // namespace detail

/// The chart as an <svg> element.
inline std::string render(const line_chart& c)
{
    using namespace detail;
    std::size_t points = 0;  // x positions where some series has a value
    double x_max = 1, y_max_seen = 0;
    for (std::size_t i = 0; i < c.x.size(); ++i) {
        bool any = false;
        for (const auto& l : c.lines)
            if (i < l.y.size() && std::isfinite(l.y[i])) {
                any = true;
                y_max_seen = std::max(y_max_seen, l.y[i]);
            }
        if (any) {
            ++points;
            x_max = std::max(x_max, c.x[i]);
        }
    }
    std::string s = open_svg(c.id, c.title, points, c.lines.size());
    const double x_step = std::max(c.x_min_step, nice_step(x_max, 10));
    x_max = std::ceil(x_max / x_step) * x_step;
    const double y_step = nice_step(y_max_seen > 0 ? y_max_seen : 1, 5);
    const double y_max = std::max(y_step, std::ceil(y_max_seen / y_step * (1 - 1e-12)) * y_step);
    const auto px = [&](double x) { return left + x / x_max * plot_w; };
    const auto py = [&](double y) { return top + plot_h - y / y_max * plot_h; };

    for (double v = 0; v <= x_max * (1 + 1e-9); v += x_step) s += x_tick(px(v), tick_label(v, x_step));
    s += y_axis(y_max, y_step);
    std::vector<std::string> labels;
    for (const auto& l : c.lines) labels.push_back(l.label);
    s += legend(labels);
    if (points == 0) s += no_data();

    for (std::size_t k = 0; k < c.lines.size(); ++k) {
        const auto& l = c.lines[k];
        const std::string colour(palette[k % std::size(palette)]);
        std::string d, dots;
        bool pen_down = false;
        std::size_t drawn = 0;
        for (std::size_t i = 0; i < c.x.size() && i < l.y.size(); ++i) {
            if (!std::isfinite(l.y[i])) {
                pen_down = false;  // a gap: the next point starts a new stroke
                continue;
            }
            d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + num(px(c.x[i])) + " " + num(py(l.y[i]));
            pen_down = true;
            ++drawn;
            dots += "<circle cx=\"" + num(px(c.x[i])) + "\" cy=\"" + num(py(l.y[i])) + "\" r=\"2.5\" fill=\"" +
                    colour + "\"/>";
        }
        if (drawn == 0) continue;
        s += "<path class=\"series\" data-label=\"" + escape_html(l.label) + "\" data-points=\"" +
             std::to_string(drawn) + "\" d=\"" + d + "\" fill=\"none\" stroke=\"" + colour +
             "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-dasharray=\"" +
             std::string(dashes[k % std::size(dashes)]) + "\"/>";
        // Markers on every value: a run of a few seconds is a few points, invisible as a line.
        if (drawn <= 600) s += "<g class=\"dots\">" + dots + "</g>";
    }
    s += axis_labels(c.x_label, c.y_label);
    s += "</svg>";
    return s;
}

/// The chart as an <svg> element: bars on a log-scaled x axis, whole decades shown.
inline std::string render(const distribution_chart& c)
{
    using namespace detail;
    std::string s = open_svg(c.id, c.title, c.bins.size(), c.bins.empty() ? 0 : 1);
    double lo_ms = std::numeric_limits<double>::max(), hi_ms = 0, pct_max = 0;
    for (const auto& b : c.bins) {
        lo_ms = std::min(lo_ms, b.lo_ms);
        hi_ms = std::max(hi_ms, b.hi_ms);
        pct_max = std::max(pct_max, b.percent);
    }
    if (c.bins.empty()) {  // an empty frame still shows a plausible axis
        lo_ms = 0.1;
        hi_ms = 100;
    }
    const int first = static_cast<int>(std::floor(std::log10(lo_ms) + 1e-9));
    const int last = std::max(first + 1, static_cast<int>(std::ceil(std::log10(hi_ms) - 1e-9)));
    const auto px = [&](double ms) {
        return left + (std::log10(ms) - first) / (last - first) * plot_w;
    };
    const double y_step = nice_step(pct_max > 0 ? pct_max : 1, 5);
    const double y_max = std::max(y_step, std::ceil(pct_max / y_step * (1 - 1e-12)) * y_step);
    const auto py = [&](double pct) { return top + plot_h - pct / y_max * plot_h; };

    for (int d = first; d <= last; ++d) s += x_tick(px(std::pow(10.0, d)), tick_label(std::pow(10.0, d), std::pow(10.0, d)));
    s += y_axis(y_max, y_step);
    if (c.bins.empty()) s += no_data();

    s += "<g class=\"bars\">";
    for (const auto& b : c.bins) {
        const double x0 = px(b.lo_ms), x1 = px(b.hi_ms);
        const double y = py(b.percent);
        s += "<rect class=\"bar\" x=\"" + num(x0 + 0.5) + "\" y=\"" + num(y) + "\" width=\"" +
             num(std::max(1.0, x1 - x0 - 1)) + "\" height=\"" + num(top + plot_h - y) + "\" fill=\"" +
             std::string(palette[0]) + "\"><title>" + num(b.lo_ms, 3) + " to " + num(b.hi_ms, 3) + " ms: " +
             std::to_string(b.count) + " (" + num(b.percent, 2) + "%)</title></rect>";
    }
    s += "</g>";
    for (std::size_t i = 0; i < c.markers.size() && !c.bins.empty(); ++i) {
        const auto& m = c.markers[i];
        if (!(m.ms > 0)) continue;
        const double x = px(m.ms);
        const std::string colour(palette[(i + 1) % std::size(palette)]);
        // Near the right edge the label goes on the line's left, or the frame would cut it.
        const bool flip = x > left + plot_w - 130;
        s += "<line class=\"marker\" x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" +
             num(top + plot_h) + "\" stroke=\"" + colour + "\" stroke-dasharray=\"4 3\"/><text class=\"marker-label\" x=\"" +
             num(flip ? x - 4 : x + 4) + "\" y=\"" + num(top + 12 + 14 * static_cast<double>(i)) + "\" text-anchor=\"" +
             (flip ? "end" : "start") + "\" fill=\"" + colour + "\">" + escape_html(m.label) + " " + num(m.ms, 3) +
             " ms</text>";
    }
    s += axis_labels(c.x_label, c.y_label);
    s += "</svg>";
    return s;
}

/// A histogram's buckets grouped into `per_decade` log-spaced bins of milliseconds (HDR buckets
/// are far finer than a chart can show); only non-empty bins, in order.
inline std::vector<bin> log_bins(const stats::histogram& h, int per_decade = 10)
{
    std::map<int, std::uint64_t> counts;
    h.for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t n) {
        // The bucket's middle, at least 1 ns: a log axis has no zero.
        const double ms = std::max(1.0, (static_cast<double>(lo) + static_cast<double>(hi)) / 2) / 1e6;
        counts[static_cast<int>(std::floor(std::log10(ms) * per_decade + 1e-9))] += n;
    });
    std::vector<bin> out;
    const double total = static_cast<double>(h.count());
    for (const auto& [k, n] : counts) {
        bin b;
        b.lo_ms = std::pow(10.0, static_cast<double>(k) / per_decade);
        b.hi_ms = std::pow(10.0, static_cast<double>(k + 1) / per_decade);
        b.count = n;
        b.percent = total > 0 ? 100.0 * static_cast<double>(n) / total : 0;
        out.push_back(b);
    }
    return out;
}

}  // namespace charts
}  // namespace wsload::report
