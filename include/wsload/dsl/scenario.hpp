#pragma once
// The fluent builder a scenario's main() is written with:
//
//   return wsload::scenario("im-messaging")
//       .target("ws://127.0.0.1:9000/ws")
//       .users(10'000).ramp(30s).hold(60s)
//       .behavior(im_user)
//       .run(argc, argv);   // a --config file, WSLOAD_* variables and flags override the builder

//
// Only run() needs the engine and the reports: it is defined in dsl/impl/scenario.ipp (see
// detail/config.hpp), so that a scenario compiled against the separately built runtime does
// not compile them again.

#include <wsload/detail/config.hpp>
#include <wsload/dsl/flags.hpp>
#include <wsload/runtime/behavior.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/stats/run_info.hpp>
#include <wsload/stats/run_result.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace wsload {

// The load shapes, by the names a scenario writes them with (sched/shapes.hpp).
using sched::arrival_rate;
using sched::batches;
using sched::ramping_arrival_rate;
using sched::rate_stage;
using sched::linear_ramp;
using sched::spawn_rate;
using sched::stage;
using sched::stages;
using sched::steps;

class scenario {
public:
    explicit scenario(std::string name) { config_.name = std::move(name); }

    /// Where users connect by default (`user::websocket()`); --target overrides it.
    scenario& target(std::string_view url)
    {
        target_text_ = std::string(url);
        return *this;
    }
    /// How many users start over the run (--users, --conns).
    scenario& users(std::uint64_t n)
    {
        config_.users = n;
        return *this;
    }
    /// Users start evenly over this time (--ramp).
    scenario& ramp(std::chrono::nanoseconds d)
    {
        config_.ramp = d;
        return *this;
    }
    /// The load shape, instead of users() and ramp(): `wsload::stages{{30s, 100}, {1m, 100},
    /// {20s, 0}}`, `wsload::steps{{10, 50, 100}, 2min}`, `wsload::spawn_rate{1000, 50}`,
    /// `wsload::batches{100, 5, 2s}`, `wsload::linear_ramp{1000, 30s}`, a `sched::plan` of your
    /// own, or an open model (iterations start at a rate; the behaviour in the iteration form):
    /// `wsload::arrival_rate{50, 20, 100}` (50/s on 20 users, up to 100),
    /// `wsload::ramping_arrival_rate{0, {{30s, 50}, {1m, 50}}, 20, 100}`. The shape flags
    /// (--stages, --steps, --spawn-rate, --batch-size, --arrival-rate, --arrival-stages) replace it.
    template <class Shape>
    scenario& load(const Shape& shape)
    {
        auto plan = [&] {
            if constexpr (std::is_same_v<Shape, sched::plan> || std::is_same_v<Shape, sched::arrival_plan>) return shape;
            else return shape.to_plan();
        }();
        if constexpr (std::is_same_v<decltype(plan), sched::arrival_plan>) {
            config_.arrivals = std::move(plan);  // an open model: iterations start at a rate
            config_.load.reset();
        } else {
            config_.load = std::move(plan);
            config_.arrivals.reset();
        }
        return *this;
    }
    /// How long a user the load shape stops gets to finish before it is aborted
    /// (--ramp-down-timeout; k6's gracefulRampDown).
    scenario& ramp_down_timeout(std::chrono::nanoseconds d)
    {
        config_.ramp_down_timeout = d;
        return *this;
    }
    /// How long the run lasts after the ramp (or the load shape): the duration becomes ramp +
    /// hold.
    scenario& hold(std::chrono::nanoseconds d)
    {
        hold_ = d;
        return *this;
    }
    /// The whole run, ramp included (--duration, --run-time). Replaces a hold().
    scenario& duration(std::chrono::nanoseconds d)
    {
        config_.duration = d;
        hold_.reset();
        return *this;
    }
    scenario& ping_interval(std::chrono::nanoseconds d)
    {
        config_.ping_interval = d;
        return *this;
    }
    scenario& threads(unsigned n)
    {
        config_.threads = n;
        return *this;
    }
    scenario& connect_timeout(std::chrono::nanoseconds d)
    {
        config_.connect_timeout = d;
        return *this;
    }
    scenario& grace(std::chrono::nanoseconds d)
    {
        config_.grace = d;
        return *this;
    }
    /// A pass/fail criterion checked at the end, e.g. "connect.p99 < 100ms" (repeatable;
    /// --threshold adds more). A failed one makes the exit status 1.
    scenario& threshold(std::string expression)
    {
        config_.thresholds.push_back(std::move(expression));
        return *this;
    }
    /// A header on every WebSocket upgrade and HTTP request of the run (repeatable; --header
    /// adds more). Checked when the run starts: a bad one is a usage error (exit status 2).
    scenario& header(std::string name, std::string value)
    {
        config_.headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    /// The coroutine every user runs: `wsload::task<> f(wsload::user&)`. A lambda's captures
    /// live as long as the run.
    template <class F>
    scenario& behavior(F f)
    {
        behavior_ = std::move(f);
        iterations_.reset();
        return *this;
    }
    /// The iteration form: `wsload::iterations(step).on_start(login).on_stop(logout)`: each
    /// user runs on_start, then the step again and again (counted, timed, an exception ending
    /// the iteration only), then on_stop. --iterations and --iterations-per-user bound it.
    scenario& behavior(wsload::iterations it)
    {
        iterations_ = std::make_shared<const wsload::iterations>(std::move(it));
        behavior_ = nullptr;
        return *this;
    }
    /// Iterations over the whole run, shared by every user (--iterations; k6's shared-iterations).
    scenario& iterations(std::uint64_t n)
    {
        config_.iterations = n;
        return *this;
    }
    /// Iterations each user runs at most (--iterations-per-user; k6's per-vu-iterations).
    scenario& iterations_per_user(std::uint64_t n)
    {
        config_.iterations_per_user = n;
        return *this;
    }
    /// A flag of the scenario's own, bound to `variable` (string, bool, number or duration);
    /// its current value is the default --help shows. `choices` restricts the values.
    template <class T>
    scenario& flag(std::string name, T& variable, std::string help, std::vector<T> choices = {})
    {
        flags_.push_back(dsl::make_flag(std::move(name), variable, std::move(help), std::move(choices)));
        return *this;
    }
    scenario& flag(std::string name, std::string& variable, std::string help, std::vector<std::string> choices = {})
    {
        return flag<std::string>(std::move(name), variable, std::move(help), std::move(choices));
    }

    /// A section of the scenario's own, printed after the report (e.g. the figures a tool it
    /// replaces printed, in that tool's layout): `f(out, info, result)`.
    scenario& summary(std::function<void(std::FILE*, const stats::run_info&, const stats::run_result&)> f)
    {
        summary_ = std::move(f);
        return *this;
    }

    /// Parses the command line (and a --config file and WSLOAD_* variables, see README), runs,
    /// prints the report. Returns the exit status: 0 ran (or --help, --print-config), 2 usage
    /// error, 3 the run failed, 4 interrupted (see README).
    WSLOAD_DECL int run(int argc, char** argv);

    const run_config& config() const noexcept { return config_; }

private:
    run_config config_;
    std::string target_text_;
    std::optional<std::chrono::nanoseconds> hold_;
    runtime::behavior behavior_;
    std::shared_ptr<const wsload::iterations> iterations_;  ///< the iteration form, when given
    std::vector<dsl::custom_flag> flags_;
    std::function<void(std::FILE*, const stats::run_info&, const stats::run_result&)> summary_;
};

}  // namespace wsload

#if !defined(WSLOAD_SEPARATE_COMPILATION)
#include <wsload/dsl/impl/scenario.ipp>
#endif
