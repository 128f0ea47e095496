#pragma once
// Definition of scenario::run: inline in a header-only build, compiled once (impl/src.hpp)
// with WSLOAD_SEPARATE_COMPILATION.

#include <wsload/dsl/command_line.hpp>
#include <wsload/dsl/control_routes.hpp>
#include <wsload/dsl/scenario.hpp>
#include <wsload/report/console.hpp>
#include <wsload/report/sinks.hpp>
#include <wsload/runtime/engine.hpp>

#include <cstdio>
#include <exception>
#include <optional>

namespace wsload {

WSLOAD_DECL int scenario::run(int argc, char** argv)
{
    try {
        if (hold_)
            config_.duration = (config_.load                                          ? config_.load->length()
                                : config_.arrivals && config_.arrivals->has_own_length() ? config_.arrivals->length()
                                                                                        : config_.ramp) +
                               *hold_;
        dsl::command_line cli(config_, target_text_, flags_);
        if (!cli.parse(argc, argv)) return 0;  // --help
        if (!behavior_ && !iterations_) throw usage_error("the scenario has no behavior()");
        if (!iterations_ && config_.arrivals)
            throw usage_error("an arrival rate starts iterations: give the behaviour as wsload::iterations(...)");
        if (config_.arrivals && (config_.iterations != 0 || config_.iterations_per_user != 0))
            throw usage_error("--iterations and --iterations-per-user bound a closed model; an arrival rate says how many "
                              "iterations start");
        if (!iterations_ && (config_.iterations != 0 || config_.iterations_per_user != 0))
            throw usage_error("--iterations and --iterations-per-user count the iterations of wsload::iterations; this "
                              "scenario's behavior() is one coroutine per user");
    } catch (const usage_error& e) {
        std::fprintf(stderr, "wsload: %s\n", e.what());
        return 2;
    }
    current_log_level().store(config_.level);
    std::optional<log_file> log_lines;  // closed (flushed, joined) when run() returns, whichever way
    try {
        log_lines.emplace(config_.log_file);
    } catch (const usage_error& e) {
        std::fprintf(stderr, "wsload: --log-file: %s\n", e.what());
        return 2;
    }
    try {
        std::vector<report::threshold> rules;
        for (const auto& text : config_.thresholds) rules.push_back(report::parse_threshold(text));
        runtime::engine engine(config_, iterations_ ? runtime::iteration_behavior(iterations_, config_.arrivals.has_value()) : behavior_);
        const auto info = describe(config_);
        bool aborted = false;
        engine.on_progress([&](const runtime::progress& p) {
            if (!config_.quiet) report::print_progress(stderr, p, info);
            if (!config_.abort_on_fail || aborted) return;
            for (const auto& rule : rules)
                if (rule.failed_for_good(p.now)) {
                    aborted = true;
                    engine.request_stop("threshold \"" + rule.expression + "\" can no longer pass");
                    return;
                }
        });
        auto sinks = report::make_sinks(
            {.json_file = config_.json_file, .csv_prefix = config_.csv_prefix, .html_file = config_.html_file,
             .metrics_listen = config_.metrics_listen, .routes = dsl::control_routes(engine)});
        for (auto& s : sinks) s->start(engine, info);
        auto result = engine.run();
        if (const auto misuse = engine.misuse(); !misuse.empty()) throw usage_error(misuse);
        const auto verdict = report::judge(result, rules);
        report::print_report(stdout, info, result, verdict);
        if (summary_ && result.totals) summary_(stdout, info, result);
        int status = verdict.exit_status();
        for (auto& s : sinks)
            if (!s->finish(info, result, verdict)) status = report::exit_run_failed;
        return status;
    } catch (const usage_error& e) {
        std::fprintf(stderr, "wsload: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "wsload: the run failed: %s\n", e.what());
        return 3;
    }
}

}  // namespace wsload
