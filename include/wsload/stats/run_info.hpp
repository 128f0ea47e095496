#pragma once
// How a run was set up, as reports and result files show it: plain values, whatever engine and
// transports produced the figures (runtime::describe makes one from a run_config; a result
// file read back gives one too).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wsload::stats {

struct run_info {
    std::string name = "wsload";
    std::string target;                        ///< canonical URL; empty when the run had none
    std::uint64_t users = 0;
    std::chrono::nanoseconds ramp{0};
    std::string load;                          ///< the load shape, e.g. "stages 30s:100, 1m:100, 20s:0"
    std::chrono::nanoseconds duration{0};      ///< whole run, ramp included
    std::chrono::nanoseconds ping_interval{0};
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);
    /// Sleeps of a thread due within this shared a wake-up, each up to this late (--timer-slack).
    /// Files written before it had none: zero.
    std::chrono::nanoseconds timer_slack{0};
    unsigned threads = 0;
    std::uint64_t seed = 0;
    std::vector<std::string> thresholds;       ///< as given, e.g. "connect.p99 < 100ms"
};

}  // namespace wsload::stats
