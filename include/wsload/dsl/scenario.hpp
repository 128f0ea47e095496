#pragma once
// The fluent builder a scenario's main() is written with:
//
//   return wsload::scenario("im-messaging")
//       .target("ws://127.0.0.1:9000/ws")
//       .users(10'000).ramp(30s).hold(60s)
//       .behavior(im_user)
//       .run(argc, argv);   // command-line flags override what the builder set

#include <wsload/dsl/command_line.hpp>
#include <wsload/dsl/flags.hpp>
#include <wsload/report/console.hpp>
#include <wsload/report/sinks.hpp>
#include <wsload/runtime/engine.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace wsload {

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
    /// How long the run lasts after the ramp: the duration becomes ramp + hold.
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
    /// The coroutine every user runs: `wsload::task<> f(wsload::user&)`. A lambda's captures
    /// live as long as the run.
    template <class F>
    scenario& behavior(F f)
    {
        behavior_ = std::move(f);
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

    /// Parses the command line, runs, prints the report. Returns the exit status:
    /// 0 ran, 2 usage error, 3 the run failed (see README).
    int run(int argc, char** argv)
    {
        try {
            if (hold_) config_.duration = config_.ramp + *hold_;
            dsl::command_line cli(config_, target_text_, flags_);
            if (!cli.parse(argc, argv)) return 0;  // --help
            if (!behavior_) throw usage_error("the scenario has no behavior()");
        } catch (const usage_error& e) {
            std::fprintf(stderr, "wsload: %s\n", e.what());
            return 2;
        }
        current_log_level().store(config_.level);
        try {
            std::vector<report::threshold> rules;
            for (const auto& text : config_.thresholds) rules.push_back(report::parse_threshold(text));
            runtime::engine engine(config_, behavior_);
            bool aborted = false;
            engine.on_progress([&](const runtime::progress& p) {
                if (!config_.quiet) report::print_progress(stderr, p, config_);
                if (!config_.abort_on_fail || aborted) return;
                for (const auto& rule : rules)
                    if (rule.failed_for_good(p.now)) {
                        aborted = true;
                        engine.request_stop("threshold \"" + rule.expression + "\" can no longer pass");
                        return;
                    }
            });
            auto sinks = report::make_sinks(config_);
            for (auto& s : sinks) s->start(engine);
            auto result = engine.run();
            const auto verdict = report::judge(result, rules);
            report::print_report(stdout, config_, result, verdict);
            int status = verdict.exit_status();
            for (auto& s : sinks)
                if (!s->finish(config_, result, verdict)) status = report::exit_run_failed;
            return status;
        } catch (const usage_error& e) {
            std::fprintf(stderr, "wsload: %s\n", e.what());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "wsload: the run failed: %s\n", e.what());
            return 3;
        }
    }

    const run_config& config() const noexcept { return config_; }

private:
    run_config config_;
    std::string target_text_;
    std::optional<std::chrono::nanoseconds> hold_;
    runtime::behavior behavior_;
    std::vector<dsl::custom_flag> flags_;
};

}  // namespace wsload
