#pragma once
// The command line every scenario executable understands (Boost.Program_options). Values the
// builder set are the defaults; flags override them. Errors are one line and exit status 2.

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>
#include <wsload/core/log.hpp>
#include <wsload/dsl/flags.hpp>
#include <wsload/net/url.hpp>
#include <wsload/report/thresholds.hpp>
#include <wsload/runtime/run_config.hpp>

#include <boost/program_options.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace wsload::dsl {

class command_line {
public:
    command_line(run_config& config, std::string& target_text, std::vector<custom_flag>& flags)
        : config_(config), target_text_(target_text), flags_(flags)
    {}

    /// Applies argv to the configuration; false when --help was printed (exit 0).
    /// Throws usage_error with a one-line message otherwise.
    bool parse(int argc, char** argv)
    {
        namespace po = boost::program_options;
        const auto text = [](std::string v) { return po::value<std::string>()->default_value(v); };
        po::options_description common("wsload flags", 110, 55);
        common.add_options()
            ("help,h", "print the flags and their defaults, then exit")
            ("target", text(target_text_)->value_name("URL"), "where users connect: ws://host:port/path or wss://...")
            ("users", text(std::to_string(config_.users))->value_name("N"), "simulated users (connections) to start")
            ("conns", po::value<std::string>()->value_name("N"), "same as --users")
            ("ramp", text(format_duration(config_.ramp))->value_name("D"), "start users evenly over this time (e.g. 30s)")
            ("duration", text(format_duration(config_.duration))->value_name("D"), "whole run, ramp included: 90, 30s, 2m, 1h30m")
            ("run-time", po::value<std::string>()->value_name("D"), "same as --duration")
            ("ping-interval", text(format_duration(config_.ping_interval))->value_name("D"), "WebSocket ping every D per connection; 0 = off")
            ("threads", text(std::to_string(config_.threads))->value_name("N"), "worker threads, one io_context each")
            ("connect-timeout", text(format_duration(config_.connect_timeout))->value_name("D"), "bound on TCP + TLS + upgrade")
            ("grace", text(format_duration(config_.grace))->value_name("D"), "at the end, time users get to close (code 1000)")
            ("ws-layer", text(layer_name(config_.ws_layer))->value_name("L"),
             "WebSocket client layer for ws:// and wss://: lean (wsload's own) or beast (Boost.Beast's stream)")
            ("insecure", po::bool_switch(), "wss: do not verify the server's certificate")
            ("tls-resume", po::bool_switch(), "wss, tls: resume the TLS sessions servers offer (each once), as returning clients do; off: a full handshake per connect")
            ("ca-file", text(config_.ca_file)->value_name("FILE"), "wss: trust the CA certificates in this PEM file")
            ("seed", po::value<std::string>()->value_name("N"), "seed of the per-user random generators (default: random)")
            ("log-level", text("warn")->value_name("L"), "error, warn, info or debug")
            ("json", text(config_.json_file)->value_name("FILE"), "also write the results as JSON to FILE")
            ("csv", text(config_.csv_prefix)->value_name("PREFIX"), "also write PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv")
            ("html", text(config_.html_file)->value_name("FILE"), "also write a self-contained HTML report to FILE")
            ("metrics-listen", text(config_.metrics_listen)->value_name("HOST:PORT"), "serve Prometheus metrics at http://HOST:PORT/metrics while running")
            ("quiet,q", po::bool_switch(), "no progress line each second")
            ("threshold", po::value<std::vector<std::string>>()->composing()->value_name("EXPR"),
             "pass/fail criterion, repeatable: \"connect.p99 < 100ms\", \"connect.success >= 99%\"")
            ("abort-on-fail", po::bool_switch(), "end the run as soon as a threshold can no longer pass");

        po::options_description own("scenario flags", 110, 55);
        for (const auto& f : flags_) {
            auto* v = po::value<std::string>()->default_value(f.default_text)->value_name(f.is_switch ? "BOOL" : "V");
            if (f.is_switch) v->implicit_value("true");
            own.add_options()(f.name.c_str(), v, f.help.c_str());
        }
        po::options_description all(110, 55);
        all.add(common);
        if (!flags_.empty()) all.add(own);

        // Words that are not flags are collected so that they can be refused by name.
        po::options_description hidden;
        hidden.add_options()("wsload-positional", po::value<std::vector<std::string>>());
        po::options_description parsed_options;
        parsed_options.add(all).add(hidden);
        po::positional_options_description positional;
        positional.add("wsload-positional", -1);

        po::variables_map vm;
        try {
            const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
            po::store(po::command_line_parser(argc, argv).options(parsed_options).positional(positional).style(style).run(),
                      vm);
        } catch (const po::unknown_option& e) {
            throw usage_error("unknown flag " + one_line(e.get_option_name()) + " (see --help)");
        } catch (const po::error& e) {
            // Its message quotes what was typed, newlines included: one line, whatever was typed.
            throw usage_error(one_line(e.what()) + " (see --help)");
        }

        if (vm.count("wsload-positional"))
            throw usage_error("unexpected argument " +
                              wsload::detail::quoted(vm["wsload-positional"].as<std::vector<std::string>>().front()) +
                              " (flags start with --; see --help)");
        if (vm.count("help")) {
            std::cout << "Usage: " << (argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "scenario")
                      << " [flags]\n\n" << all << "\nExit status: 0 ran (and every threshold passed), 1 a threshold failed, 2 usage error,\n"
                      << "3 the run failed (no connection succeeded, or every behaviour failed).\n";
            return false;
        }

        // Only what the user typed is applied: the defaults are the builder's own values.
        const auto given = [&](const char* name) { return vm.count(name) && !vm[name].defaulted(); };
        const auto value = [&](const char* name) { return vm[name].as<std::string>(); };
        const auto apply = [&](const char* name, auto&& f) {
            if (!given(name)) return;
            try {
                f(value(name));
            } catch (const usage_error& e) {
                throw usage_error(std::string("--") + name + ": " + e.what());
            }
        };
        const auto alias = [&](const char* name, const char* other) {
            if (given(name) && given(other) && value(name) != value(other))
                throw usage_error(std::string("--") + name + " and --" + other + " disagree (give one of them)");
            return given(other) ? other : name;
        };

        apply("target", [&](const std::string& v) { target_text_ = v; });
        apply(alias("users", "conns"), [&](const std::string& v) { config_.users = parse_flag_value<std::uint64_t>(v); });
        apply("ramp", [&](const std::string& v) { config_.ramp = parse_duration(v); });
        apply(alias("duration", "run-time"), [&](const std::string& v) { config_.duration = parse_duration(v); });
        apply("ping-interval", [&](const std::string& v) { config_.ping_interval = parse_duration(v); });
        apply("threads", [&](const std::string& v) { config_.threads = parse_flag_value<unsigned>(v); });
        apply("connect-timeout", [&](const std::string& v) { config_.connect_timeout = parse_duration(v); });
        apply("grace", [&](const std::string& v) { config_.grace = parse_duration(v); });
        apply("ws-layer", [&](const std::string& v) { config_.ws_layer = parse_layer(v); });
        apply("ca-file", [&](const std::string& v) { config_.ca_file = v; });
        apply("seed", [&](const std::string& v) { config_.seed = parse_flag_value<std::uint64_t>(v); });
        apply("log-level", [&](const std::string& v) { config_.level = parse_log_level(v); });
        apply("json", [&](const std::string& v) { config_.json_file = v; });
        apply("csv", [&](const std::string& v) { config_.csv_prefix = v; });
        apply("html", [&](const std::string& v) { config_.html_file = v; });
        apply("metrics-listen", [&](const std::string& v) { config_.metrics_listen = v; });
        if (vm.count("threshold"))
            for (const auto& t : vm["threshold"].as<std::vector<std::string>>()) config_.thresholds.push_back(t);
        config_.abort_on_fail = config_.abort_on_fail || vm["abort-on-fail"].as<bool>();
        config_.insecure = config_.insecure || vm["insecure"].as<bool>();
        config_.tls_resume = config_.tls_resume || vm["tls-resume"].as<bool>();
        config_.quiet = config_.quiet || vm["quiet"].as<bool>();
        for (const auto& f : flags_)
            apply(f.name.c_str(), [&](const std::string& v) { f.assign(v); });
        if (!given("seed")) config_.seed = std::random_device{}() * 0x100000001ULL ^ std::random_device{}();

        validate();
        return true;
    }

private:
    static std::string layer_name(websocket_layer l) { return l == websocket_layer::lean ? "lean" : "beast"; }
    static websocket_layer parse_layer(const std::string& v)
    {
        if (v == "beast") return websocket_layer::beast;
        if (v == "lean") return websocket_layer::lean;
        throw usage_error(wsload::detail::quoted(v) + " is not a WebSocket layer (use beast or lean)");
    }

    void validate()
    {
        if (!target_text_.empty()) {
            try {
                config_.target = net::parse_url(target_text_);
            } catch (const usage_error& e) {
                throw usage_error(std::string("--target: ") + e.what());
            }
        }
        for (const auto& t : config_.thresholds) report::parse_threshold(t);  // fail before the run
        if (config_.users == 0) throw usage_error("--users: must be at least 1");
        if (config_.threads == 0 || config_.threads > 1024) throw usage_error("--threads: use 1 to 1024");
        if (config_.duration.count() <= 0) throw usage_error("--duration: must be longer than 0s");
        if (config_.connect_timeout.count() <= 0) throw usage_error("--connect-timeout: must be longer than 0s");
        if (config_.ramp > config_.duration)
            log(log_level::warn, "--ramp (" + format_duration(config_.ramp) + ") is longer than --duration (" +
                                     format_duration(config_.duration) + "): not every user will start");
        std::error_code ec;  // the overloads with an error code: a name too long is an answer, not an exception
        if (!config_.ca_file.empty() && !std::filesystem::is_regular_file(config_.ca_file, ec))
            throw usage_error("--ca-file: " + wsload::detail::quoted(config_.ca_file) + " is not a readable file");
        // Fail now, not after a long run, when an output cannot be written.
        check_writable("--json", config_.json_file);
        check_writable("--csv", config_.csv_prefix.empty() ? "" : config_.csv_prefix + "_stats.csv");
        check_writable("--html", config_.html_file);
    }

    static void check_writable(const char* flag, const std::string& path)
    {
        if (path.empty()) return;
        std::error_code ec;
        const bool existed = std::filesystem::exists(path, ec);
        std::ofstream probe(path, std::ios::app);
        if (!probe) throw usage_error(std::string(flag) + ": cannot write " + wsload::detail::quoted(path));
        probe.close();
        if (!existed) std::filesystem::remove(path, ec);
    }

    /// Control bytes (a newline in a typed value) escaped as quoted() does, without the quotes.
    static std::string one_line(std::string_view text)
    {
        const auto q = wsload::detail::quoted(text);
        return q.substr(1, q.size() - 2);
    }

    run_config& config_;
    std::string& target_text_;
    std::vector<custom_flag>& flags_;
};

}  // namespace wsload::dsl
