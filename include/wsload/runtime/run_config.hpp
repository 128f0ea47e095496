#pragma once
// Everything a run is configured with, after the builder and the command line have spoken.

#include <wsload/core/index_set.hpp>
#include <wsload/core/log.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/sleep_queue.hpp>
#include <wsload/net/url.hpp>
#include <wsload/net/websocket/deflate_options.hpp>
#include <wsload/sched/arrivals.hpp>
#include <wsload/sched/plan.hpp>
#include <wsload/sched/shapes.hpp>
#include <wsload/stats/run_info.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <algorithm>
#include <thread>
#include <vector>

namespace wsload {

/// The WebSocket client layer of ws:// and wss:// connections: wsload's own lean layer (the default: a
/// third of the memory per idle connection and fewer instructions per message), or Beast's
/// websocket::stream. Both pass the same conformance and interop suites.
enum class websocket_layer { beast, lean };

struct run_config {
    std::string name = "wsload";
    std::optional<net::url> target;   ///< what `user::websocket()` connects to
    std::uint64_t users = 1;          ///< simulated users started over the run
    std::chrono::nanoseconds ramp{0};  ///< users start evenly spread over this time
    /// The load shape (stages, steps, a spawn rate, batches); unset: `users` over `ramp`.
    std::optional<sched::plan> load;
    /// How long a user the shape stops (a ramp-down) gets to finish before it is aborted (k6's
    /// gracefulRampDown).
    std::chrono::nanoseconds ramp_down_timeout = std::chrono::seconds(30);
    /// The most users a live change (runtime/load_control.hpp) may ask for in a closed-model run;
    /// 0: ten times the shape's peak, at least 1,000.
    std::uint64_t live_max_users = 0;
    /// An open-model shape (arrival rates): when iterations start, instead of `load`.
    std::optional<sched::arrival_plan> arrivals;
    bool poisson = false;  ///< --poisson: arrivals at random (a Poisson process of the rate)
    /// Iterations of the iteration form (wsload::iterations) over the whole run, shared by every
    /// user (k6's shared-iterations); 0 = no bound.
    std::uint64_t iterations = 0;
    /// Iterations each user runs at most (k6's per-vu-iterations); 0 = no bound.
    std::uint64_t iterations_per_user = 0;
    std::chrono::nanoseconds duration = std::chrono::seconds(60);  ///< whole run, ramp included (as Locust's --run-time)
    std::chrono::nanoseconds ping_interval{0};  ///< WebSocket heartbeat; 0 = off
    /// --timer-slack: a thread's sleeps (think, sleep_until, pace) due within this of each other
    /// end on one wake-up, each at most this late (never early); under the late-send threshold
    /// (1 ms). 0: each at its own time. See net/sleep_queue.hpp for the measurement behind it.
    std::chrono::nanoseconds timer_slack = net::default_timer_slack;
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);  ///< TCP + TLS + upgrade together
    std::chrono::nanoseconds close_timeout = std::chrono::seconds(5);     ///< waiting for the server's close reply
    std::chrono::nanoseconds grace = std::chrono::seconds(5);  ///< after the end, how long users get to finish
    /// --header: sent with every WebSocket upgrade and HTTP request of the run, in this order
    /// (a connection's or client's own header of the same name replaces it). Checked where given.
    std::vector<net::header_field> headers;
    websocket_layer ws_layer = websocket_layer::lean;  ///< --ws-layer: which client layer ws:// uses
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::uint64_t seed = 0;  ///< per-user random generators derive from it
    bool insecure = false;   ///< wss: skip certificate verification
    bool tls_resume = false; ///< --tls-resume: connects resume the TLS sessions servers offered
    std::optional<deflate_options> compression;  ///< --compression: permessage-deflate offered by every WebSocket
    std::string ca_file;     ///< wss: trust this PEM bundle instead of the system store
    bool quiet = false;      ///< no progress lines
    std::string json_file;   ///< write the result document here
    std::string csv_prefix;  ///< write PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv
    std::string html_file;   ///< write a self-contained HTML report here
    std::string metrics_listen;  ///< serve Prometheus metrics on host:port while running
    log_level level = log_level::warn;
    std::string log_file;     ///< --log-file: lines at or above `level` (and traced users') go here too
    index_set log_users;      ///< --log-users: users (by index) whose connections log their traffic
    std::vector<std::string> thresholds;  ///< pass/fail criteria, e.g. "connect.p99 < 100ms"
    bool abort_on_fail = false;           ///< end the run once a threshold can no longer pass
};

/// The shape the engine follows: the configured one, or `users` evenly over `ramp`.
inline sched::plan load_plan(const run_config& c)
{
    return c.load ? *c.load : sched::linear_ramp{c.users, c.ramp}.to_plan();
}

/// The run as reports describe it.
inline stats::run_info describe(const run_config& c)
{
    stats::run_info info;
    info.name = c.name;
    info.target = c.target ? c.target->to_string() : std::string();
    info.users = c.users;
    info.ramp = c.ramp;
    info.load = c.arrivals ? c.arrivals->summary() + (c.poisson ? " (Poisson)" : "") : load_plan(c).description();
    info.duration = c.duration;
    info.ping_interval = c.ping_interval;
    info.connect_timeout = c.connect_timeout;
    info.timer_slack = c.timer_slack;
    info.threads = c.threads;
    info.seed = c.seed;
    info.thresholds = c.thresholds;
    return info;
}

}  // namespace wsload
