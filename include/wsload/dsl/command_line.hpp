#pragma once
// The command line every scenario executable understands (Boost.Program_options), and the two
// sources that can stand in for it: a config file (--config FILE or WSLOAD_CONFIG) and
// WSLOAD_<FLAG> environment variables. A flag's value comes from, lowest precedence first: the
// builder (or wsload's default), the config file, the environment, the command line.
// Errors are one line and exit status 2.

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>
#include <wsload/core/log.hpp>
#include <wsload/dsl/config_sources.hpp>
#include <wsload/dsl/flags.hpp>
#include <wsload/net/header.hpp>
#include <wsload/net/upgrade_extras.hpp>
#include <wsload/net/url.hpp>
#include <wsload/report/thresholds.hpp>
#include <wsload/stats/generator.hpp>
#include <wsload/runtime/run_config.hpp>

#include <boost/program_options.hpp>

#include <unistd.h>  // environ

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace wsload::dsl {

/// The load-shape flags as given; resolved into run_config::load (sched/shapes.hpp) once every
/// source has spoken.
struct load_flags {
    double spawn_rate = 0;                    ///< --spawn-rate: users per second
    std::string stages;                       ///< --stages 30s:100,1m:100,20s:0
    std::string steps;                        ///< --steps 10,50,100
    std::chrono::nanoseconds step_duration{0};
    std::chrono::nanoseconds step_ramp{0};
    std::uint64_t warmup_users = 0;
    std::chrono::nanoseconds warmup_duration{0};
    std::uint64_t batch_size = 0;             ///< --batch-size: users started together
    std::chrono::nanoseconds batch_interval{0};
    double arrival_rate = 0;                  ///< --arrival-rate: iterations per second (open model)
    std::string arrival_stages;               ///< --arrival-stages 30s:10,1m:10
    double start_rate = 0;                    ///< --start-rate: where --arrival-stages start from
    std::uint64_t preallocated_users = 0;
    std::uint64_t max_users = 0;
};

class command_line {
public:
    command_line(run_config& config, std::string& target_text, std::vector<custom_flag>& flags)
        : config_(config), target_text_(target_text), flags_(flags)
    {}

    /// Applies a config file, the WSLOAD_* variables of `environment` (an `environ`-style array,
    /// null-terminated) and argv to the configuration, each over the one before. False when
    /// --help or --print-config printed to `out` (exit 0). Throws usage_error with a one-line
    /// message otherwise.
    bool parse(int argc, char** argv, char** environment = environ, std::ostream& out = std::cout)
    {
        namespace po = boost::program_options;
        load_ = load_flags{};
        shape_sets_users_ = false;
        auto entries = wsload_entries(config_, target_text_, load_);
        {
            // A value the builder left as a default-constructed run_config has it is wsload's default.
            run_config defaults;
            std::string no_target;
            load_flags no_load;
            const auto plain = wsload_entries(defaults, no_target, no_load);
            for (std::size_t i = 0; i < entries.size(); ++i)
                if (entries[i].get() != plain[i].get()) entries[i].base = origin::builder;
        }
        for (auto& f : flags_) {
            entry e{.name = f.name, .value_name = "V", .help = f.help, .is_switch = f.is_switch, .own = true};
            e.get = f.current ? f.current : [&f] { return f.default_text; };
            e.set = f.assign;
            entries.push_back(std::move(e));
        }
        refuse_clashing_names(entries);

        po::options_description common("wsload flags", 110, 55);
        common.add_options()
            ("help,h", "print the flags and their defaults, then exit")
            ("config", po::value<std::string>()->value_name("FILE"),
             "read flags from FILE: \"name = value\" lines, # comments (see README); WSLOAD_<FLAG> variables are read too")
            ("print-config", "print each flag's value and where it came from, as a --config file, then exit");
        po::options_description own("scenario flags", 110, 55);
        po::options_description file_keys;  // what a config file may set: every flag but the three above
        for (const auto& e : entries) {
            declare(e.own ? own : common, e, true);
            declare(file_keys, e, false);
        }
        for (auto* d : {&common, &file_keys}) {
            d->add_options()("threshold", po::value<std::vector<std::string>>()->composing()->value_name("EXPR"),
                             "pass/fail criterion, repeatable: \"connect.p99 < 100ms\", \"connect.success >= 99%\"");
            d->add_options()("header", po::value<std::vector<std::string>>()->composing()->value_name("\"NAME: VALUE\""),
                             "a header on every WebSocket upgrade and HTTP request, repeatable: \"Authorization: Bearer "
                             "abc\" (a connection's own header of that name replaces it)");
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
            out << "Usage: " << (argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "scenario")
                << " [flags]\n\n" << all << "\nExit status: 0 ran (and every threshold passed), 1 a threshold failed, 2 usage error,\n"
                << "3 the run failed (no connection succeeded, or every behaviour failed), 4 interrupted (Ctrl-C, SIGTERM).\n";
            return false;
        }

        // The three sources, each a list of settings: the command line's (by name, thresholds in
        // the order typed), the environment's and the config file's (in the order written).
        std::vector<setting> typed;
        for (const auto& [name, v] : vm) {
            if (v.defaulted() || name == "help" || name == "config" || name == "print-config") continue;
            if (is_list(name)) {
                for (const auto& t : v.as<std::vector<std::string>>())
                    typed.push_back({.key = name, .value = t, .from = origin::command_line});
            } else {
                typed.push_back({.key = name, .value = v.as<std::string>(), .from = origin::command_line});
            }
        }
        std::vector<std::string> names{"config", "threshold", "header"};
        for (const auto& e : entries) {
            names.push_back(e.name);
            if (e.alias) names.push_back(e.alias);
        }
        ignored_variables_.clear();
        auto environment_settings = read_environment(environment, names, ignored_variables_);
        config_file_.reset();
        if (vm.count("config"))
            config_file_ = setting{.key = "config", .value = vm["config"].as<std::string>(), .from = origin::command_line};
        for (const auto& s : environment_settings)
            if (s.key == "config" && !config_file_) config_file_ = s;
        std::erase_if(environment_settings, [](const setting& s) { return s.key == "config"; });
        std::vector<setting> file_settings;
        if (config_file_) file_settings = read_config_file(config_file_->value, label(*config_file_), file_keys);
        refuse_repeated_keys(file_settings);

        // Lowest precedence first; thresholds and headers add up instead (a value given twice counts once).
        chosen_.clear();
        thresholds_.clear();
        headers_.clear();
        for (const auto& t : config_.thresholds) thresholds_.push_back({.key = "threshold", .value = t, .from = origin::builder});
        for (const auto& [name, value] : config_.headers)
            headers_.push_back({.key = "header", .value = name + ": " + value, .from = origin::builder});
        for (const auto* source : {&file_settings, &environment_settings, &typed}) {
            std::map<std::string, setting> level;
            for (const auto& s : *source) {
                if (is_list(s.key)) {
                    auto& list = s.key == "header" ? headers_ : thresholds_;
                    if (std::none_of(list.begin(), list.end(), [&](const setting& t) { return t.value == s.value; }))
                        list.push_back(s);
                    continue;
                }
                const auto [it, fresh] = level.emplace(canonical(entries, s.key), s);
                if (!fresh && it->second.value != s.value) throw usage_error(disagreement(it->second, s));
            }
            for (auto& [name, s] : level) chosen_[name] = std::move(s);
        }

        for (auto& e : entries)
            if (const auto it = chosen_.find(e.name); it != chosen_.end()) {
                try {
                    e.set(it->second.value);
                } catch (const usage_error& x) {
                    throw usage_error(label(it->second) + ": " + x.what());
                }
            }
        config_.thresholds.clear();
        for (const auto& t : thresholds_) config_.thresholds.push_back(t.value);
        config_.headers.clear();
        for (const auto& h : headers_) {  // fail before the run
            try {
                config_.headers.push_back(net::parse_header_line(h.value));
                const auto& [name, value] = config_.headers.back();
                net::check_upgrade_header(name, value);
                if (boost::beast::iequals(name, "Cookie"))
                    for (const auto& [n, v] : net::split_cookies(value)) net::check_cookie(n, v);
            } catch (const usage_error& e) {
                throw usage_error(label(h) + ": " + e.what());
            }
        }
        if (!chosen_.count("seed")) config_.seed = std::random_device{}() * 0x100000001ULL ^ std::random_device{}();

        resolve_load(entries);
        validate();
        if (vm.count("print-config")) {
            print_config(out, entries);
            return false;
        }
        return true;
    }

private:
    /// The flags that may be given many times, each source's values adding up.
    static bool is_list(std::string_view name) noexcept { return name == "threshold" || name == "header"; }

    /// One flag: how its value is read, shown and where it stands in --help.
    struct entry {
        std::string name{};
        const char* value_name = "V";
        std::string help{};
        bool is_switch = false;       ///< `--name` alone means true
        bool own = false;             ///< a flag of the scenario's
        const char* alias = nullptr;  ///< another name of the same flag (--conns for --users)
        const char* short_name = nullptr;
        origin base = origin::wsload_default;     ///< where the value before any source came from
        std::function<std::string()> get{};            ///< the value now, as set() reads it back
        std::function<void(const std::string&)> set{};  ///< throws usage_error without the flag's name
    };

    template <class T>
    static entry bound(std::string name, const char* value_name, std::string help, T& variable)
    {
        entry e{.name = std::move(name), .value_name = value_name, .help = std::move(help), .is_switch = std::is_same_v<T, bool>};
        e.get = [&variable] { return format_flag_value(variable); };
        e.set = [&variable](const std::string& v) { variable = parse_flag_value<T>(v); };
        return e;
    }

    /// wsload's flags over `c` and `target`, in the order --help lists them.
    static std::vector<entry> wsload_entries(run_config& c, std::string& target, load_flags& l)
    {
        std::vector<entry> e;
        e.push_back(bound("target", "URL", "where users connect: ws://host:port/path or wss://...", target));
        e.push_back(bound("users", "N", "simulated users (connections) to start", c.users));
        e.back().alias = "conns";
        e.push_back(bound("ramp", "D", "start users evenly over this time (e.g. 30s)", c.ramp));
        e.push_back(bound("duration", "D", "whole run, ramp included: 90, 30s, 2m, 1h30m (default with --stages, --steps: theirs)",
                          c.duration));
        e.back().alias = "run-time";
        e.push_back(bound("spawn-rate", "R", "start R users per second until --users run (Locust); instead of --ramp; 0: off",
                          l.spawn_rate));
        e.push_back(bound("stages", "LIST",
                          "k6 stages, duration:target,...: e.g. 30s:100,1m:100,20s:0 (linear to each target; users stop "
                          "newest first)",
                          l.stages));
        e.push_back(bound("steps", "LEVELS", "levels of users, each held --step-duration: e.g. 10,50,100 (users kept)", l.steps));
        e.push_back(bound("step-duration", "D", "--steps: how long each level is held", l.step_duration));
        e.push_back(bound("step-ramp", "D", "--steps: reach each level over D (default: at once)", l.step_ramp));
        e.push_back(bound("warmup-users", "N", "--steps: a warm-up level of N users first", l.warmup_users));
        e.push_back(bound("warmup-duration", "D", "--steps: how long the warm-up level is held", l.warmup_duration));
        e.push_back(bound("batch-size", "N", "start users N at a time, every --batch-interval, until --users run; 0: off",
                          l.batch_size));
        e.push_back(bound("batch-interval", "D", "--batch-size: time between batches", l.batch_interval));
        e.push_back(bound("arrival-rate", "R",
                          "open model: R iterations start per second, whatever the response times (k6's "
                          "constant-arrival-rate); 0: off",
                          l.arrival_rate));
        e.push_back(bound("arrival-stages", "LIST",
                          "open model: rates by stage, duration:rate,...: e.g. 30s:50,1m:50 (k6's ramping-arrival-rate)",
                          l.arrival_stages));
        e.push_back(bound("start-rate", "R", "--arrival-stages: the rate before the first stage", l.start_rate));
        e.push_back(bound("preallocated-users", "N", "arrival rates: users started at once to run the iterations",
                          l.preallocated_users));
        e.push_back(bound("max-users", "N",
                          "arrival rates: more users started when none is free, up to N (default: the pre-allocated); "
                          "beyond, iterations are dropped",
                          l.max_users));
        e.push_back(bound("poisson", "", "arrival rates: iterations arrive at random (a Poisson process of the rate)",
                          c.poisson));
        e.push_back(bound("iterations", "N",
                          "iterations over the whole run, shared by every user (the iteration form); 0: no bound",
                          c.iterations));
        e.push_back(bound("iterations-per-user", "N", "iterations each user runs at most (the iteration form); 0: no bound",
                          c.iterations_per_user));
        e.push_back(bound("ramp-down-timeout", "D",
                          "a user the load shape stops gets D to finish, then its connections are aborted (k6's "
                          "gracefulRampDown)",
                          c.ramp_down_timeout));
        e.push_back(bound("ping-interval", "D", "WebSocket ping every D per connection; 0 = off", c.ping_interval));
        e.push_back(bound("threads", "N", "worker threads, one io_context each", c.threads));
        e.push_back({.name = "timer-slack", .value_name = "D",
                     .help = "sleeps of a thread due within D of each other end on one wake-up, each at most D late "
                             "(counted in the round trips measured from the intended time); under 1ms; 0: each on its own"});
        e.back().get = [&c] { return format_flag_value(c.timer_slack); };
        e.back().set = [&c](const std::string& v) {
            const auto d = parse_flag_value<std::chrono::nanoseconds>(v);
            if (d >= stats::late_send_threshold)
                throw usage_error(wsload::detail::quoted(v) + " is not under 1ms (a longer slack would make every send late; use e.g. 500us)");
            c.timer_slack = d;
        };
        e.push_back(bound("connect-timeout", "D", "bound on TCP + TLS + upgrade", c.connect_timeout));
        e.push_back(bound("grace", "D", "at the end, time users get to close (code 1000)", c.grace));
        e.push_back({.name = "ws-layer", .value_name = "L",
                     .help = "WebSocket client layer for ws:// and wss://: lean (wsload's own) or beast (Boost.Beast's stream)"});
        e.back().get = [&c] { return std::string(c.ws_layer == websocket_layer::lean ? "lean" : "beast"); };
        e.back().set = [&c](const std::string& v) {
            if (v == "beast") c.ws_layer = websocket_layer::beast;
            else if (v == "lean") c.ws_layer = websocket_layer::lean;
            else throw usage_error(wsload::detail::quoted(v) + " is not a WebSocket layer (use beast or lean)");
        };
        e.push_back({.name = "compression", .value_name = "SPEC",
                     .help = "WebSocket permessage-deflate (RFC 7692): off, on, or on with settings, comma-separated: "
                             "no-context-takeover, client-no-context-takeover, server-no-context-takeover, "
                             "client-max-window-bits=8-15, server-max-window-bits=8-15, level=0-9, mem-level=1-9"});
        e.back().get = [&c] { return c.compression ? c.compression->to_flag() : std::string("off"); };
        e.back().set = [&c](const std::string& v) {
            if (v == "off") c.compression.reset();
            else c.compression = deflate_options::parse(v);
        };
        e.push_back(bound("insecure", "", "wss: do not verify the server's certificate", c.insecure));
        e.push_back(bound("tls-resume", "",
                          "wss, tls: resume the TLS sessions servers offer (each once), as returning clients do; off: a full "
                          "handshake per connect",
                          c.tls_resume));
        e.push_back(bound("ca-file", "FILE", "wss: trust the CA certificates in this PEM file", c.ca_file));
        e.push_back(bound("seed", "N", "seed of the per-user random generators (default: random)", c.seed));
        e.push_back({.name = "log-level", .value_name = "L", .help = "error, warn, info or debug"});
        e.back().get = [&c] { return std::string(short_name(c.level)); };
        e.back().set = [&c](const std::string& v) { c.level = parse_log_level(v); };
        e.push_back(bound("log-file", "FILE",
                          "also write log lines to FILE: [YYYY-MM-DD HH:MM:SS,mmm] LEVEL/component: text (local time)",
                          c.log_file));
        e.push_back({.name = "log-users", .value_name = "SPEC",
                     .help = "log these users' connects, messages (contents cut to 256 bytes), requests and closes "
                             "at debug, e.g. 0-9 or 3,7,100-199 (users count from 0)"});
        e.back().get = [&c] { return c.log_users.to_string(); };
        e.back().set = [&c](const std::string& v) { c.log_users = index_set::parse(v); };
        e.push_back(bound("json", "FILE", "also write the results as JSON to FILE", c.json_file));
        e.push_back(bound("csv", "PREFIX", "also write PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv",
                          c.csv_prefix));
        e.push_back(bound("html", "FILE", "also write a self-contained HTML report to FILE", c.html_file));
        e.push_back(bound("metrics-listen", "HOST:PORT",
                          "serve Prometheus metrics at http://HOST:PORT/metrics while running, and the live control: GET "
                          "/control (the load now, JSON); POST /control/users?target=N[&rate=R|&over=D], "
                          "/control/spawn-rate?rate=R, /control/arrival-rate?rate=R[&over=D] (e.g. curl -X POST "
                          "'http://HOST:PORT/control/users?target=500&rate=50')",
                          c.metrics_listen));
        e.push_back(bound("live-max-users", "N",
                          "the most users a live change (--metrics-listen's /control) may ask for; 0: ten times the "
                          "shape's peak, at least 1000",
                          c.live_max_users));
        e.push_back(bound("quiet", "", "no progress line each second", c.quiet));
        e.back().short_name = "q";
        e.push_back(bound("abort-on-fail", "", "end the run as soon as a threshold can no longer pass", c.abort_on_fail));
        return e;
    }

    /// Adds `e` (and its alias) to `d`; for --help and the command line with its value now as
    /// the default shown.
    static void declare(boost::program_options::options_description& d, const entry& e, bool with_default)
    {
        namespace po = boost::program_options;
        auto* v = po::value<std::string>()->value_name(e.is_switch ? "BOOL" : e.value_name);
        if (e.is_switch) v->implicit_value("true");
        if (with_default && e.name != "seed") v->default_value(e.get());
        const auto name = e.short_name ? e.name + "," + e.short_name : e.name;
        d.add_options()(name.c_str(), v, e.help.c_str());
        if (e.alias)
            d.add_options()(e.alias, po::value<std::string>()->value_name(e.value_name), ("same as --" + e.name).c_str());
    }

    /// Two flags read from one variable (--interval and --Interval, or a scenario's --users)
    /// could not be told apart in a config file or the environment: the scenario must rename one.
    static void refuse_clashing_names(const std::vector<entry>& entries)
    {
        std::map<std::string, std::string> flag_of{{environment_name("help"), "help"},
                                                   {environment_name("config"), "config"},
                                                   {environment_name("print-config"), "print-config"},
                                                   {environment_name("threshold"), "threshold"},
                                                   {environment_name("header"), "header"}};
        for (const auto& e : entries)
            for (const char* name : {e.name.c_str(), e.alias})
                if (name)
                    if (const auto [it, fresh] = flag_of.emplace(environment_name(name), name); !fresh)
                        throw usage_error(it->second == name ? "the flag --" + it->second + " is declared twice (rename the scenario's flag)"
                                                             : "the flags --" + it->second + " and --" + name +
                                                                   " are both read from " + it->first +
                                                                   " (rename the scenario's flag)");
    }

    static std::string canonical(const std::vector<entry>& entries, const std::string& key)
    {
        for (const auto& e : entries)
            if (e.alias && key == e.alias) return e.name;
        return key;
    }

    /// A flag and its alias given different values in one source; `first` was written first.
    static std::string disagreement(const setting& first, const setting& second)
    {
        // The flag's own name first, as in "--duration and --run-time disagree".
        const bool alias_first = first.key == "conns" || first.key == "run-time";
        const auto& a = alias_first ? second : first;
        const auto& b = alias_first ? first : second;
        if (a.from == origin::file)
            return a.where + ": " + a.key + " (line " + std::to_string(a.line) + ") and " + b.key + " (line " +
                   std::to_string(b.line) + ") disagree (give one of them)";
        return label(a) + " and " + label(b) + " disagree (give one of them)";
    }

    /// A key twice in one file is a mistake to point at, not a rule to learn (as the command
    /// line refuses --users 1 --users 2); threshold and header are repeatable there as on the
    /// command line.
    static void refuse_repeated_keys(const std::vector<setting>& file)
    {
        std::map<std::string, std::size_t> first_line;
        for (const auto& s : file)
            if (!is_list(s.key))
                if (const auto [it, fresh] = first_line.emplace(s.key, s.line); !fresh)
                    throw usage_error(s.where + ":" + std::to_string(s.line) + ": " + s.key + " is given twice (first on line " +
                                      std::to_string(it->second) + "; give it once)");
    }

    /// How errors name the flag `name`: after the source its value came from.
    std::string where(const std::string& name) const
    {
        const auto it = chosen_.find(name);
        return it == chosen_.end() ? "--" + name : label(it->second);
    }

    /// The load shape from its flags (or the builder's), checked: one shape, the flags that
    /// belong to it, and the run's users and duration that follow from it.
    void resolve_load(const std::vector<entry>& entries)
    {
        const auto given = [&](const char* name) { return chosen_.count(name) > 0; };
        // A shape's flags count when they say something: 0 and empty are their off values
        // (and what --print-config writes for them).
        const std::pair<const char*, bool> set[] = {
            {"spawn-rate", load_.spawn_rate != 0},          {"stages", !load_.stages.empty()},
            {"steps", !load_.steps.empty()},                {"batch-size", load_.batch_size != 0},
            {"step-duration", load_.step_duration.count() != 0}, {"step-ramp", load_.step_ramp.count() != 0},
            {"warmup-users", load_.warmup_users != 0},      {"warmup-duration", load_.warmup_duration.count() != 0},
            {"batch-interval", load_.batch_interval.count() != 0},
            {"arrival-rate", load_.arrival_rate != 0},      {"arrival-stages", !load_.arrival_stages.empty()},
            {"start-rate", load_.start_rate != 0},
            {"preallocated-users", load_.preallocated_users != 0}, {"max-users", load_.max_users != 0},
            {"poisson", config_.poisson}};
        const auto says = [&](std::string_view name) {
            for (const auto& [flag, value] : set)
                if (flag == name) return value;
            return false;
        };
        const auto from_builder = [&](const char* name) {
            for (const auto& e : entries)
                if (e.name == name) return e.base == origin::builder;
            return false;
        };
        // Which shape flag, if any: at most one.
        std::vector<std::string> shapes;
        for (const char* name : {"spawn-rate", "stages", "steps", "batch-size", "arrival-rate", "arrival-stages"})
            if (says(name)) shapes.push_back(name);
        if (shapes.size() > 1)
            throw usage_error(where(shapes[0]) + " and " + where(shapes[1]) + " are two load shapes (give one)");
        const std::string shape = shapes.empty() ? "" : shapes[0];
        // The flags that only mean something with their shape.
        static constexpr std::pair<const char*, const char*> belongs[] = {
            {"step-duration", "steps"}, {"step-ramp", "steps"},           {"warmup-users", "steps"},
            {"warmup-duration", "steps"}, {"batch-interval", "batch-size"}, {"start-rate", "arrival-stages"}};
        for (const auto& [flag, owner] : belongs)
            if (says(flag) && shape != owner) throw usage_error(where(flag) + " applies to --" + std::string(owner) + " only");
        const bool open_model = shape == "arrival-rate" || shape == "arrival-stages" || (shape.empty() && config_.arrivals);
        for (const char* flag : {"preallocated-users", "max-users", "poisson"})
            if (says(flag) && !open_model)
                throw usage_error(where(flag) + " applies to arrival rates only (--arrival-rate, --arrival-stages)");
        const auto refuse = [&](const char* flag, const std::string& why) {
            if (given(flag)) throw usage_error(where(flag) + " does not apply: " + why);
        };

        try {
            if (shape == "stages" || shape == "steps") {
                const auto why = "--" + shape + " says how many users run";
                refuse("users", why);
                refuse("ramp", why);
            }
            if (open_model) {
                const auto why = std::string("with an arrival rate, --preallocated-users and --max-users say how many users run");
                refuse("users", why);
                refuse("ramp", why);
            }
            if (shape == "arrival-rate" || shape == "arrival-stages") {
                if (load_.preallocated_users == 0 && load_.max_users == 0)
                    throw usage_error("--" + shape + " needs users to run the iterations: give --preallocated-users (and "
                                      "--max-users to start more when they are busy)");
                config_.load.reset();
                if (shape == "arrival-rate") {
                    if (!(load_.arrival_rate > 0)) throw usage_error("must be above 0 iterations per second (0: off)");
                    config_.arrivals = sched::arrival_rate{load_.arrival_rate, load_.preallocated_users, load_.max_users}.to_plan();
                } else {
                    config_.arrivals = sched::ramping_arrival_rate{load_.start_rate, sched::parse_rate_stages(load_.arrival_stages),
                                                                   load_.preallocated_users, load_.max_users}
                                           .to_plan();
                }
            } else if (shape.empty() && config_.arrivals && (says("preallocated-users") || says("max-users"))) {
                // The builder's arrival rate with other users.
                config_.arrivals->users(says("preallocated-users") ? load_.preallocated_users : config_.arrivals->preallocated(),
                                        says("max-users") ? load_.max_users : config_.arrivals->max_users());
            }
            if (shape == "stages") {
                config_.load = sched::parse_stages(load_.stages).to_plan();
            } else if (shape == "steps") {
                if (load_.step_duration.count() <= 0) throw usage_error("--steps needs --step-duration (how long each level is held)");
                if ((load_.warmup_users > 0) != (load_.warmup_duration.count() > 0))
                    throw usage_error("--warmup-users and --warmup-duration go together");
                config_.load = sched::steps{sched::parse_levels(load_.steps), load_.step_duration, load_.step_ramp,
                                            load_.warmup_users, load_.warmup_duration}
                                   .to_plan();
            } else if (shape == "spawn-rate") {
                refuse("ramp", "--spawn-rate says how users start");
                if (!(load_.spawn_rate > 0)) throw usage_error("must be above 0 users per second (0: off)");
                config_.load = sched::spawn_rate{config_.users, load_.spawn_rate}.to_plan();
            } else if (shape == "batch-size") {
                refuse("ramp", "--batch-size says how users start");
                config_.load = sched::batches{config_.users, load_.batch_size, load_.batch_interval}.to_plan();
            } else if (!shape.empty()) {
                // an arrival rate: done above
            } else if (config_.load) {
                // The builder's shape: --users and --ramp cannot change it.
                const auto why = "the scenario's load shape (" + config_.load->description() +
                                 ") says how users start; give --stages, --steps, --spawn-rate or --batch-size instead";
                refuse("users", why);
                refuse("ramp", why);
            }
        } catch (const usage_error& e) {
            const std::string what = e.what();
            if (what.starts_with("--") || shape.empty()) throw;
            throw usage_error(where(shape) + ": " + what);
        }
        if (shape != "" && shape != "arrival-rate" && shape != "arrival-stages") config_.arrivals.reset();
        if (config_.arrivals) {
            shape_sets_users_ = true;
            config_.users = config_.arrivals->max_users();
            config_.ramp = std::chrono::nanoseconds(0);
            if (config_.arrivals->has_own_length() && !given("duration") && !from_builder("duration"))
                config_.duration = config_.arrivals->length();
            return;
        }
        if (!config_.load) return;
        shape_sets_users_ = shape != "spawn-rate" && shape != "batch-size";
        config_.users = config_.load->peak();
        config_.ramp = std::chrono::nanoseconds(0);
        // Stages and steps last as long as they do, unless a duration was given.
        if (config_.load->has_own_length() && !given("duration") && !from_builder("duration"))
            config_.duration = config_.load->length();
    }

    void validate()
    {
        if (!target_text_.empty()) {
            try {
                config_.target = net::parse_url(target_text_);
            } catch (const usage_error& e) {
                throw usage_error(where("target") + ": " + e.what());
            }
        }
        for (const auto& t : thresholds_) {  // fail before the run
            try {
                report::parse_threshold(t.value);
            } catch (const usage_error& e) {
                // The message names --threshold; a file's or a variable's value is named by where it was written.
                const std::string_view prefix = "--threshold: ", what = e.what();
                if (t.from == origin::file || t.from == origin::environment)
                    throw usage_error(label(t) + ": " + std::string(what.starts_with(prefix) ? what.substr(prefix.size()) : what));
                throw;
            }
        }
        if (config_.users == 0) throw usage_error(where("users") + ": must be at least 1");
        if (config_.threads == 0 || config_.threads > 1024) throw usage_error(where("threads") + ": use 1 to 1024");
        if (config_.duration.count() <= 0) throw usage_error(where("duration") + ": must be longer than 0s");
        if (config_.connect_timeout.count() <= 0) throw usage_error(where("connect-timeout") + ": must be longer than 0s");
        if (config_.load && config_.load->length() > config_.duration)
            log(log_level::warn, "the load shape (" + config_.load->description() + ") takes " +
                                     format_duration(config_.load->length()) + ", longer than --duration (" +
                                     format_duration(config_.duration) + "): it will not run to its end");
        if (config_.ramp > config_.duration)
            log(log_level::warn, "--ramp (" + format_duration(config_.ramp) + ") is longer than --duration (" +
                                     format_duration(config_.duration) + "): not every user will start");
        std::error_code ec;  // the overloads with an error code: a name too long is an answer, not an exception
        if (!config_.ca_file.empty() && !std::filesystem::is_regular_file(config_.ca_file, ec))
            throw usage_error(where("ca-file") + ": " + wsload::detail::quoted(config_.ca_file) + " is not a readable file");
        // Fail now, not after a long run, when an output cannot be written.
        check_writable(where("json"), config_.json_file);
        check_writable(where("csv"), config_.csv_prefix.empty() ? "" : config_.csv_prefix + "_stats.csv");
        check_writable(where("html"), config_.html_file);
        check_writable(where("log-file"), config_.log_file);
    }

    static void check_writable(const std::string& flag, const std::string& path)
    {
        if (path.empty()) return;
        std::error_code ec;
        const bool existed = std::filesystem::exists(path, ec);
        std::ofstream probe(path, std::ios::app);
        if (!probe) throw usage_error(flag + ": cannot write " + wsload::detail::quoted(path));
        probe.close();
        if (!existed) std::filesystem::remove(path, ec);
    }

    /// --print-config: every flag as a `name = value` line a config file reads back, its origin
    /// in a comment after it. A value that no line can hold is written as a comment, saying so.
    void print_config(std::ostream& out, const std::vector<entry>& entries) const
    {
        config_writer w;
        w.comment(config_.name + ": the effective configuration, which --config FILE reads back");
        w.comment("after each value, where it came from: default, builder, file, env or command line");
        if (config_file_) w.comment("config file: " + config_file_->value + " (" + label(*config_file_) + ")");
        const auto print = [&](const entry& e) {
            const auto it = chosen_.find(e.name);
            if (e.name == "seed" && it == chosen_.end())
                w.commented("# seed =", "default: a new random seed each run");
            else if ((e.name == "users" && shape_sets_users_) || (e.name == "ramp" && (config_.load || config_.arrivals)))
                // Read back, they would clash with the shape that decided them.
                w.commented("# " + e.name + " = " + e.get(),
                            "from the load shape: " + (config_.arrivals ? config_.arrivals->summary() : config_.load->description()));
            else
                w.value(e.name, e.get(), it != chosen_.end() ? it->second : setting{.from = e.base});
        };
        for (const auto& e : entries)
            if (!e.own) print(e);
        if (thresholds_.empty()) w.commented("# threshold =", "none: one line each, repeatable");
        for (const auto& t : thresholds_) w.value("threshold", t.value, t);
        for (const auto& h : headers_) w.value("header", h.value, h);
        if (!flags_.empty()) {
            w.blank();
            w.comment("the scenario's flags");
            for (const auto& e : entries)
                if (e.own) print(e);
        }
        if (!ignored_variables_.empty()) {
            std::string names;
            for (const auto& v : ignored_variables_) names += (names.empty() ? "" : ", ") + v;
            w.blank();
            w.comment("ignored, no flag of this scenario: " + names);
        }
        w.write(out);
    }

    /// Control bytes (a newline in a typed value) escaped as quoted() does, without the quotes.
    static std::string one_line(std::string_view text)
    {
        const auto q = wsload::detail::quoted(text);
        return q.substr(1, q.size() - 2);
    }

    run_config& config_;
    std::string& target_text_;
    load_flags load_;
    bool shape_sets_users_ = false;  ///< the load shape says how many users run (not --users)
    std::vector<custom_flag>& flags_;
    std::map<std::string, setting> chosen_;       ///< per flag, the value of the highest source that gave one
    std::vector<setting> thresholds_;             ///< the builder's, the file's, the environment's, the command line's
    std::vector<setting> headers_;                ///< --header: the same sources, `Name: value` each
    std::optional<setting> config_file_;          ///< --config or WSLOAD_CONFIG
    std::vector<std::string> ignored_variables_;  ///< WSLOAD_* names no flag is read from
};

}  // namespace wsload::dsl
