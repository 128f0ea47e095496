#pragma once
// Whether the generator, not the server, shaped the figures: each worker thread's CPU busy
// share, its event-loop lag (how late its timers fired) and its late sends, second by second
// and over the run, with the limits past which the report warns (README: "Is the generator the
// bottleneck?").

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace wsload::stats {

/// A send with an intended time (`request_options::intended_at`), or an arrival of an open-model
/// shape, that went out more than this after it is `late`: counted (`late_sends`) and its
/// lateness recorded (`send_lateness`). A healthy loop wakes a timer within ~0.1 ms; 1 ms is
/// above that jitter and still small beside the round trips people measure.
inline constexpr std::chrono::nanoseconds late_send_threshold = std::chrono::milliseconds(1);
/// A worker busier than this in a second (CPU time of its thread over wall time) may have
/// delayed its own sends and the handling of replies.
inline constexpr unsigned busy_limit_pct = 90;
/// A worker whose timers fired later than this in a second was not keeping up.
inline constexpr std::chrono::nanoseconds lag_limit = std::chrono::milliseconds(10);

/// CPU time over wall time, in whole percent (0 when no wall time passed). A thread can show a
/// little over 100 from clock granularity: capped at 100.
inline unsigned busy_pct(std::chrono::nanoseconds cpu, std::chrono::nanoseconds wall) noexcept
{
    if (wall.count() <= 0 || cpu.count() <= 0) return 0;
    const auto pct = (static_cast<double>(cpu.count()) * 100.0) / static_cast<double>(wall.count());
    return static_cast<unsigned>(std::min(pct + 0.5, 100.0));
}

/// One worker thread over one second of the run (the last one may be shorter).
struct worker_second {
    unsigned busy_pct = 0;        ///< its thread's CPU time over the second's wall time
    std::uint64_t lag_max_ns = 0; ///< the latest any of its timers fired in the second

    /// The generator may have shaped this second's latency: over a limit.
    bool limited() const noexcept { return busy_pct > busy_limit_pct || lag_max_ns > std::uint64_t(lag_limit.count()); }
};

/// One worker thread over the whole run: what the report's generator section shows and warns
/// about. Result files carry it per worker; merged files list the workers of every part.
struct worker_health {
    unsigned worker = 0;               ///< its index in the run (in a merge: in the merged list)
    std::chrono::nanoseconds cpu{0};   ///< CPU time of its thread over the run's seconds
    std::chrono::nanoseconds wall{0};  ///< wall time those seconds covered
    unsigned peak_busy_pct = 0;        ///< its busiest second
    std::uint32_t seconds = 0;         ///< seconds measured
    std::uint32_t busy_seconds = 0;    ///< of those, over busy_limit_pct
    std::uint32_t lagging_seconds = 0; ///< of those, with a timer later than lag_limit
    std::uint64_t lag_p99_ns = 0;      ///< of its event-loop lag samples
    std::uint64_t lag_max_ns = 0;
    std::uint64_t late_sends = 0;
    std::uint64_t late_p99_ns = 0;     ///< of its late sends' lateness

    unsigned busy_pct() const noexcept { return stats::busy_pct(cpu, wall); }
    /// It was over a limit in at least one second.
    bool limited() const noexcept { return busy_seconds != 0 || lagging_seconds != 0; }

    /// Adds one of its seconds, `wall` long, in which its thread used `cpu`.
    void add_second(const worker_second& s, std::chrono::nanoseconds cpu_used, std::chrono::nanoseconds wall_time) noexcept
    {
        cpu += cpu_used;
        wall += wall_time;
        ++seconds;
        peak_busy_pct = std::max(peak_busy_pct, s.busy_pct);
        if (s.busy_pct > busy_limit_pct) ++busy_seconds;
        if (s.lag_max_ns > std::uint64_t(lag_limit.count())) ++lagging_seconds;
    }
};

/// `12.3 ms`, `850 us`: a lag or a lateness as people read it.
inline std::string format_lag(std::uint64_t ns)
{
    char text[32];
    if (ns >= 1'000'000) std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(ns) / 1e6);
    else std::snprintf(text, sizeof text, "%.0f us", static_cast<double>(ns) / 1e3);
    return text;
}

/// The one-line warning about a second of worker `w` (empty when it was within the limits): what
/// the live line prints under itself.
inline std::string second_warning(unsigned w, const worker_second& s)
{
    if (!s.limited()) return {};
    std::string text = "generator: worker " + std::to_string(w) + " ";
    if (s.busy_pct > busy_limit_pct) text += std::to_string(s.busy_pct) + "% busy (over " + std::to_string(busy_limit_pct) + "%)";
    if (s.busy_pct > busy_limit_pct && s.lag_max_ns > std::uint64_t(lag_limit.count())) text += ", ";
    if (s.lag_max_ns > std::uint64_t(lag_limit.count()))
        text += "timers " + format_lag(s.lag_max_ns) + " late (over " + format_lag(std::uint64_t(lag_limit.count())) + ")";
    return text + ": latency this second may be the client's, not the server's";
}

/// The one-line warning about worker `h` over the run (empty when no second was over a limit):
/// what the final report prints.
inline std::string run_warning(const worker_health& h)
{
    if (!h.limited()) return {};
    std::string text = "generator: worker " + std::to_string(h.worker) + " was";
    if (h.busy_seconds)
        text += " over " + std::to_string(busy_limit_pct) + "% busy in " + std::to_string(h.busy_seconds) + " of " +
                std::to_string(h.seconds) + " s (peak " + std::to_string(h.peak_busy_pct) + "%, " +
                std::to_string(h.busy_pct()) + "% over the run)";
    if (h.busy_seconds && h.lagging_seconds) text += " and";
    if (h.lagging_seconds)
        text += " over " + format_lag(std::uint64_t(lag_limit.count())) + " of timer lag in " +
                std::to_string(h.lagging_seconds) + " of " + std::to_string(h.seconds) + " s (max " +
                format_lag(h.lag_max_ns) + ", p99 " + format_lag(h.lag_p99_ns) + ")";
    return text + ": latency in those seconds (timeseries generator_limited) may be the client's; use more --threads or machines";
}

}  // namespace wsload::stats
