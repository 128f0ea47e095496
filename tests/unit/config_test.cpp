#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Config files (--config), WSLOAD_* variables and --print-config, parsed in-process as
// scenario::run parses them, with a given environment and no run: builder < file < environment
// < command line, errors that name the file and line or the variable, and a printed
// configuration that reads back to the same one.
#include <wsload/dsl/command_line.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

/// A small scenario as run() hands it to the command line: builder values and three flags of
/// its own, parsed with `environment` (NAME=value) instead of the process's.
struct cfg_scenario {
    wsload::run_config config;
    std::string target = "ws://127.0.0.1:9000/ws";
    std::string mode = "stress";
    std::chrono::nanoseconds interval = 1s;
    bool verbose = false;
    std::vector<wsload::dsl::custom_flag> flags;
    std::vector<std::string> environment;
    std::ostringstream out;

    cfg_scenario()
    {
        config.name = "chat";
        config.users = 100;
        config.threads = 4;
        config.thresholds = {"connect.p99 < 100ms"};
        flags.push_back(wsload::dsl::make_flag<std::string>("mode", mode, "what users do", {"test", "stress"}));
        flags.push_back(wsload::dsl::make_flag("interval", interval, "each user sends one message per interval"));
        flags.push_back(wsload::dsl::make_flag("verbose", verbose, "say more"));
    }

    /// True: the run would start; false: --help or --print-config printed to `out`.
    bool parse(std::vector<std::string> args)
    {
        args.insert(args.begin(), "chat_bench");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        std::vector<char*> env;
        for (auto& v : environment) env.push_back(v.data());
        env.push_back(nullptr);
        wsload::dsl::command_line cli(config, target, flags);
        return cli.parse(static_cast<int>(argv.size()), argv.data(), env.data(), out);
    }

    std::string print_config(std::vector<std::string> args)
    {
        args.push_back("--print-config");
        BOOST_REQUIRE(!parse(std::move(args)));
        return out.str();
    }
};

/// The comment after `key = value` in --print-config output: where the value came from.
std::string cfg_origin(const std::string& printed, const std::string& key)
{
    std::istringstream in(printed);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(key + " =")) return line.substr(line.find("  # ") + 4);
    return "(no line for " + key + ")";
}

/// --print-config output without its comments: the configuration alone.
std::string cfg_values(const std::string& printed)
{
    std::istringstream in(printed);
    std::string values;
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line.front() != '#') values += line.substr(0, line.find("  #")) + "\n";
    return values;
}

/// A file in a directory of its own under the temporary directory, removed with it.
struct cfg_file {
    std::filesystem::path dir;
    std::filesystem::path path;

    explicit cfg_file(const std::string& text, const std::string& name = "load.conf")
    {
        static std::atomic<int> serial{0};
        dir = std::filesystem::temp_directory_path() /
              ("wsload-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
        std::filesystem::create_directories(dir);
        path = dir / name;
        std::ofstream(path, std::ios::binary) << text;
    }
    ~cfg_file()
    {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    cfg_file(const cfg_file&) = delete;
    cfg_file& operator=(const cfg_file&) = delete;

    std::string name() const { return path.string(); }
};

/// `text` with every {FILE} replaced by `file`.
std::string cfg_expand(std::string text, const std::string& file)
{
    for (auto at = text.find("{FILE}"); at != std::string::npos; at = text.find("{FILE}", at + file.size()))
        text.replace(at, 6, file);
    return text;
}

/// One row of a table: a config file (none when empty), variables and flags.
struct cfg_case {
    std::string file;
    std::vector<std::string> environment;
    std::vector<std::string> args;
    std::string expected;  ///< a value, origin or message; {FILE} is the config file's name
};
std::ostream& operator<<(std::ostream& os, const cfg_case& c)
{
    os << "file \"" << c.file << "\", env";
    for (const auto& v : c.environment) os << ' ' << v;
    os << ", args";
    for (const auto& a : c.args) os << ' ' << a;
    return os;
}

/// Parses `c` in `s` with --print-config; returns what was printed.
std::string cfg_print(cfg_scenario& s, const cfg_case& c, std::optional<cfg_file>& file)
{
    auto args = c.args;
    if (!c.file.empty()) {
        file.emplace(c.file);
        args.insert(args.begin(), {"--config", file->name()});
    }
    s.environment = c.environment;
    return s.print_config(args);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flag_precedence)

// The builder (100) < the file < WSLOAD_USERS < --users: each row adds the next level up, or
// leaves one out to show that the next one still wins over what is below.
const cfg_case users_cases[] = {
    {"", {}, {}, "100  # builder"},
    {"users = 500\n", {}, {}, "500  # file {FILE}:1"},
    {"users = 500\n", {"WSLOAD_USERS=50"}, {}, "50  # env WSLOAD_USERS"},
    {"users = 500\n", {"WSLOAD_USERS=50"}, {"--users", "5"}, "5  # command line"},
    {"", {"WSLOAD_USERS=50"}, {}, "50  # env WSLOAD_USERS"},
    {"", {"WSLOAD_USERS=50"}, {"--users", "5"}, "5  # command line"},
    {"users = 500\n", {}, {"--users", "5"}, "5  # command line"},
    // An alias is the same flag at its own level.
    {"conns = 500\n", {}, {}, "500  # file {FILE}:1"},
    {"users = 500\n", {"WSLOAD_CONNS=50"}, {}, "50  # env WSLOAD_CONNS"},
    {"conns = 500\n", {"WSLOAD_USERS=50"}, {"--conns", "5"}, "5  # command line"},
};

BOOST_DATA_TEST_CASE(a_wsload_flag_takes_the_highest_source, boost::unit_test::data::make(users_cases), c)
{
    cfg_scenario s;
    std::optional<cfg_file> file;
    const auto printed = cfg_print(s, c, file);
    const auto name = file ? file->name() : std::string();
    const auto expected = cfg_expand(c.expected, name);
    BOOST_TEST(std::to_string(s.config.users) + "  # " + cfg_origin(printed, "users") == expected);
}

const cfg_case interval_cases[] = {
    {"", {}, {}, "1s  # default"},
    {"interval = 50ms\n", {}, {}, "50ms  # file {FILE}:1"},
    {"interval = 50ms\n", {"WSLOAD_INTERVAL=5s"}, {}, "5s  # env WSLOAD_INTERVAL"},
    {"interval = 50ms\n", {"WSLOAD_INTERVAL=5s"}, {"--interval", "250ms"}, "250ms  # command line"},
    {"", {"WSLOAD_INTERVAL=5s"}, {"--interval", "250ms"}, "250ms  # command line"},
    {"interval = 50ms\n", {}, {"--interval=250ms"}, "250ms  # command line"},
};

BOOST_DATA_TEST_CASE(a_scenario_flag_takes_the_highest_source, boost::unit_test::data::make(interval_cases), c)
{
    cfg_scenario s;
    std::optional<cfg_file> file;
    const auto printed = cfg_print(s, c, file);
    const auto expected = cfg_expand(c.expected, file ? file->name() : std::string());
    BOOST_TEST(wsload::format_duration(s.interval) + "  # " + cfg_origin(printed, "interval") == expected);
}

// Switches can be turned off at a higher level as well as on: --quiet=false beats quiet = true.
const cfg_case quiet_cases[] = {
    {"", {}, {}, "false  # default"},
    {"quiet = true\n", {}, {}, "true  # file {FILE}:1"},
    {"quiet = true\n", {"WSLOAD_QUIET=false"}, {}, "false  # env WSLOAD_QUIET"},
    {"quiet = true\n", {"WSLOAD_QUIET=false"}, {"--quiet"}, "true  # command line"},
    {"quiet = true\n", {"WSLOAD_QUIET=false"}, {"-q"}, "true  # command line"},
    {"quiet = yes\n", {}, {"--quiet=false"}, "false  # command line"},
    {"quiet = off\n", {"WSLOAD_QUIET=1"}, {}, "true  # env WSLOAD_QUIET"},
};

BOOST_DATA_TEST_CASE(a_switch_takes_the_highest_source, boost::unit_test::data::make(quiet_cases), c)
{
    cfg_scenario s;
    std::optional<cfg_file> file;
    const auto printed = cfg_print(s, c, file);
    const auto expected = cfg_expand(c.expected, file ? file->name() : std::string());
    BOOST_TEST(std::string(s.config.quiet ? "true" : "false") + "  # " + cfg_origin(printed, "quiet") == expected);
}

const cfg_case verbose_cases[] = {
    {"verbose = true\n", {}, {}, "true  # file {FILE}:1"},
    {"verbose = true\n", {"WSLOAD_VERBOSE=no"}, {}, "false  # env WSLOAD_VERBOSE"},
    {"", {"WSLOAD_VERBOSE=no"}, {"--verbose"}, "true  # command line"},
    {"verbose = on\n", {}, {"--verbose=false"}, "false  # command line"},
};

BOOST_DATA_TEST_CASE(a_scenario_switch_takes_the_highest_source, boost::unit_test::data::make(verbose_cases), c)
{
    cfg_scenario s;
    std::optional<cfg_file> file;
    const auto printed = cfg_print(s, c, file);
    const auto expected = cfg_expand(c.expected, file ? file->name() : std::string());
    BOOST_TEST(std::string(s.verbose ? "true" : "false") + "  # " + cfg_origin(printed, "verbose") == expected);
}

BOOST_AUTO_TEST_CASE(thresholds_add_up_from_every_source_and_count_once)
{
    cfg_file file("threshold = rtt.p99 < 5ms\nthreshold = connect.p99 < 100ms\nthreshold = failures.refused == 0\n");
    cfg_scenario s;
    s.environment = {"WSLOAD_THRESHOLD=pong.rate >= 99%"};
    BOOST_TEST(s.parse({"--config", file.name(), "--threshold", "rtt.p99 < 5ms", "--threshold", "behaviour_errors == 0"}));
    const std::vector<std::string> expected{"connect.p99 < 100ms", "rtt.p99 < 5ms", "failures.refused == 0",
                                            "pong.rate >= 99%", "behaviour_errors == 0"};
    BOOST_TEST(s.config.thresholds == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(headers_add_up_from_every_source_and_print_back)
{
    cfg_file file("header = X-From-File: f\nheader = Authorization: Bearer abc\n");
    cfg_scenario s;
    s.environment = {"WSLOAD_HEADER=X-From-Env: e"};
    BOOST_TEST(s.parse({"--config", file.name(), "--header", "X-From-Flag: c", "--header", "Authorization: Bearer abc"}));
    const std::vector<wsload::net::header_field> expected{
        {"X-From-File", "f"}, {"Authorization", "Bearer abc"}, {"X-From-Env", "e"}, {"X-From-Flag", "c"}};
    BOOST_TEST((s.config.headers == expected));

    cfg_scenario first;
    const auto printed = first.print_config({"--header", "X-A: 1", "--header", "Cookie: a=1; b=2"});
    BOOST_TEST(printed.find("header = X-A: 1                  # command line\n"
                            "header = Cookie: a=1; b=2        # command line\n") != std::string::npos, printed);
    cfg_file again(printed, "again.conf");
    cfg_scenario second;
    BOOST_TEST(second.parse({"--config", again.name()}));
    BOOST_TEST((second.config.headers == first.config.headers));

    cfg_file bad("users = 3\nheader = Host: x\n");
    cfg_scenario t;
    try {
        t.parse({"--config", bad.name()});
        BOOST_FAIL("no error for a Host header");
    } catch (const wsload::usage_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   bad.name() + ":2: header: \"Host\" is set by the WebSocket handshake itself and cannot be given");
    }
}

BOOST_AUTO_TEST_CASE(the_command_line_names_a_file_before_the_environment_does)
{
    cfg_file from_flag("users = 1\n"), from_variable("users = 2\n");
    cfg_scenario s;
    s.environment = {"WSLOAD_CONFIG=" + from_variable.name()};
    BOOST_TEST(s.parse({}));
    BOOST_TEST(s.config.users == 2u);
    cfg_scenario t;
    t.environment = {"WSLOAD_CONFIG=" + from_variable.name()};
    BOOST_TEST(t.parse({"--config", from_flag.name()}));
    BOOST_TEST(t.config.users == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_files)

BOOST_AUTO_TEST_CASE(comments_blank_lines_and_spaces_are_skipped)
{
    cfg_file file("# load profile for the chat test\n"
                  "\n"
                  "   users   =   500   # after a value too\n"
                  "\tramp=2s\t\n"
                  "target = wss://chat.test:8443/ws\r\n"
                  "threshold = connect.success >= 99%\n"
                  "json =\n"
                  "mode = test\n"
                  "interval = 1m30s");  // no newline at the end
    cfg_scenario s;
    s.config.json_file = "builder.json";
    BOOST_TEST(s.parse({"--config", file.name()}));
    BOOST_TEST(s.config.users == 500u);
    BOOST_TEST(s.config.ramp.count() == std::chrono::nanoseconds(2s).count());
    BOOST_REQUIRE(s.config.target.has_value());
    BOOST_TEST(s.config.target->host == "chat.test");
    BOOST_TEST(s.config.target->port == 8443);
    BOOST_TEST(s.config.json_file == "");  // an empty value is a value: no JSON file
    BOOST_TEST(s.mode == "test");
    BOOST_TEST(s.interval.count() == std::chrono::nanoseconds(90s).count());
    const std::vector<std::string> thresholds{"connect.p99 < 100ms", "connect.success >= 99%"};
    BOOST_TEST(s.config.thresholds == thresholds, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_switch_reads_yes_and_no_words)
{
    cfg_file file("quiet = true\ninsecure = yes\ntls-resume = on\nabort-on-fail = 1\nverbose = true\n");
    cfg_scenario s;
    BOOST_TEST(s.parse({"--config", file.name()}));
    BOOST_TEST(s.config.quiet);
    BOOST_TEST(s.config.insecure);
    BOOST_TEST(s.config.tls_resume);
    BOOST_TEST(s.config.abort_on_fail);
    BOOST_TEST(s.verbose);
}

const cfg_case bad_cfg_cases[] = {
    {"users = 5\nuserz = 6\n", {}, {}, "{FILE}:2: unknown key \"userz\" (a key is a flag without its --; see --help)"},
    {"--users = 5\n", {}, {}, "{FILE}:1: unknown key \"--users\" (a key is a flag without its --; see --help)"},
    {"help = true\n", {}, {}, "{FILE}:1: unknown key \"help\" (a key is a flag without its --; see --help)"},
    {"print-config = true\n", {}, {}, "{FILE}:1: unknown key \"print-config\" (a key is a flag without its --; see --help)"},
    {"config = other.conf\n", {}, {}, "{FILE}:1: unknown key \"config\" (a key is a flag without its --; see --help)"},
    {"[wsload]\nusers = 5\n", {}, {}, "{FILE}:2: unknown key \"wsload.users\" (a key is a flag without its --; see --help)"},
    {"# settings\nusers 500\n", {}, {}, "{FILE}:2: \"users 500\" is not a \"name = value\" line"},
    {"quiet\n", {}, {}, "{FILE}:1: \"quiet\" is not a \"name = value\" line"},
    {"users = 5\n\nramp = 3x\n", {}, {}, "{FILE}:3: ramp: \"3x\" is not a duration (use 30s, 2m or 1h30m)"},
    {"mode = fast\n", {}, {}, "{FILE}:1: mode: \"fast\" is not one of test, stress"},
    {"quiet = maybe\n", {}, {}, "{FILE}:1: quiet: \"maybe\" is not a yes/no value (use true or false)"},
    {"users =\n", {}, {}, "{FILE}:1: users: \"\" is not a whole number"},
    {"users = 5\nramp = 1s\nusers = 6\n", {}, {}, "{FILE}:3: users is given twice (first on line 1; give it once)"},
    {"users = 5\nusers = 5\n", {}, {}, "{FILE}:2: users is given twice (first on line 1; give it once)"},
    {"duration = 30s\nrun-time = 1m\n", {}, {}, "{FILE}: duration (line 1) and run-time (line 2) disagree (give one of them)"},
    {"conns = 6\nusers = 5\n", {}, {}, "{FILE}: users (line 2) and conns (line 1) disagree (give one of them)"},
    {"users = 0\n", {}, {}, "{FILE}:1: users: must be at least 1"},
    {"\nthreads = 2000\n", {}, {}, "{FILE}:2: threads: use 1 to 1024"},
    {"target = http//x\n", {}, {},
     "{FILE}:1: target: \"http//x\" is not a supported URL: it does not start with a scheme such as ws:// (use "
     "ws://host:port/path or wss://...)"},
    {"threshold = connect.p99 < 1 parsec\n", {}, {},
     "{FILE}:1: threshold: \"connect.p99 < 1 parsec\": \"1 parsec\" is not a duration (use 100ms, 1s or 250us) (e.g. "
     "\"connect.p99 < 100ms\", \"connect.success >= 99%\", \"failures.refused == 0\")"},
    // A value from a higher source is named after that source, whatever a file said.
    {"users = 5\n", {}, {"--users", "0"}, "--users: must be at least 1"},
    {"users = 5\n", {"WSLOAD_USERS=0"}, {}, "WSLOAD_USERS: must be at least 1"},
    {"", {}, {"--config", "/nonexistent/wsload.conf"}, "--config: cannot read \"/nonexistent/wsload.conf\": No such file or directory"},
    {"", {"WSLOAD_CONFIG=/nonexistent/wsload.conf"}, {},
     "WSLOAD_CONFIG: cannot read \"/nonexistent/wsload.conf\": No such file or directory"},
    {"", {}, {"--config", "/"}, "--config: cannot read \"/\": Is a directory"},
    {"", {}, {"--config", "a.conf", "--config", "b.conf"}, "option '--config' cannot be specified more than once (see --help)"},
};

BOOST_DATA_TEST_CASE(a_bad_file_is_one_line_naming_file_and_line, boost::unit_test::data::make(bad_cfg_cases), c)
{
    cfg_scenario s;
    std::optional<cfg_file> file;
    try {
        cfg_print(s, c, file);
        BOOST_FAIL("no error for " << c);
    } catch (const wsload::usage_error& e) {
        BOOST_TEST(std::string(e.what()) == cfg_expand(c.expected, file ? file->name() : std::string()));
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(environment_variables)

BOOST_AUTO_TEST_CASE(a_flag_is_read_from_wsload_and_its_name_upper_cased_with_underscores)
{
    BOOST_TEST(wsload::dsl::environment_name("users") == "WSLOAD_USERS");
    BOOST_TEST(wsload::dsl::environment_name("ping-interval") == "WSLOAD_PING_INTERVAL");
    BOOST_TEST(wsload::dsl::environment_name("tls-resume") == "WSLOAD_TLS_RESUME");
    BOOST_TEST(wsload::dsl::environment_name("interval") == "WSLOAD_INTERVAL");
    BOOST_TEST(wsload::dsl::environment_name("max-mb") == "WSLOAD_MAX_MB");

    cfg_scenario s;
    s.environment = {"WSLOAD_PING_INTERVAL=5s", "WSLOAD_CONNS=7",      "WSLOAD_TLS_RESUME=true",
                     "WSLOAD_INTERVAL=250ms",   "WSLOAD_RUN_TIME=2m",  "WSLOAD_TARGET=wss://chat.test/ws",
                     "WSLOAD_LOG_LEVEL=debug",  "WSLOAD_MODE=test",    "WSLOAD_CSV=/tmp/wsload-config-test-none"};
    BOOST_TEST(s.parse({}));
    BOOST_TEST(s.config.ping_interval.count() == std::chrono::nanoseconds(5s).count());
    BOOST_TEST(s.config.users == 7u);
    BOOST_TEST(s.config.tls_resume);
    BOOST_TEST(s.interval.count() == std::chrono::nanoseconds(250ms).count());
    BOOST_TEST(s.config.duration.count() == std::chrono::nanoseconds(2min).count());
    BOOST_TEST(s.config.target->host == "chat.test");
    BOOST_TEST((s.config.level == wsload::log_level::debug));
    BOOST_TEST(s.mode == "test");
    BOOST_TEST(s.config.csv_prefix == "/tmp/wsload-config-test-none");
}

BOOST_AUTO_TEST_CASE(other_variables_are_ignored_and_listed_by_print_config)
{
    cfg_scenario s;
    // Not flags: a typo, wsload's own test switch, the two actions, a name in lower case, and
    // names without the prefix.
    s.environment = {"WSLOAD_USRES=5",  "WSLOAD_FUZZ_VERBOSE=1", "WSLOAD_HELP=1", "WSLOAD_PRINT_CONFIG=1",
                     "WSLOAD_users=5",  "wsload_users=5",        "USERS=5",       "WORKER_OFFSET=10"};
    BOOST_TEST(s.parse({}));  // neither WSLOAD_HELP nor WSLOAD_PRINT_CONFIG turns a run into a no-op
    BOOST_TEST(s.config.users == 100u);
    cfg_scenario t;
    t.environment = s.environment;
    const auto printed = t.print_config({});
    BOOST_TEST(printed.ends_with(
        "\n# ignored, no flag of this scenario: WSLOAD_FUZZ_VERBOSE, WSLOAD_HELP, WSLOAD_PRINT_CONFIG, WSLOAD_USRES, "
        "WSLOAD_users\n"));
}

const cfg_case bad_env_cases[] = {
    {"", {"WSLOAD_USERS=abc"}, {}, "WSLOAD_USERS: \"abc\" is not a whole number"},
    {"", {"WSLOAD_USERS="}, {}, "WSLOAD_USERS: \"\" is not a whole number"},
    {"", {"WSLOAD_PING_INTERVAL=5 s"}, {}, "WSLOAD_PING_INTERVAL: \"5 s\" is not a duration (use 30s, 2m or 1h30m)"},
    {"", {"WSLOAD_MODE=fast"}, {}, "WSLOAD_MODE: \"fast\" is not one of test, stress"},
    {"", {"WSLOAD_QUIET=maybe"}, {}, "WSLOAD_QUIET: \"maybe\" is not a yes/no value (use true or false)"},
    {"", {"WSLOAD_THREADS=0"}, {}, "WSLOAD_THREADS: use 1 to 1024"},
    {"", {"WSLOAD_DURATION=30s", "WSLOAD_RUN_TIME=1m"}, {}, "WSLOAD_DURATION and WSLOAD_RUN_TIME disagree (give one of them)"},
    {"", {"WSLOAD_THRESHOLD=rtt.p99 < soon"}, {},
     "WSLOAD_THRESHOLD: \"rtt.p99 < soon\": \"soon\" is not a duration (use 100ms, 1s or 250us) (e.g. \"connect.p99 < "
     "100ms\", \"connect.success >= 99%\", \"failures.refused == 0\")"},
};

BOOST_DATA_TEST_CASE(a_bad_variable_is_one_line_naming_it, boost::unit_test::data::make(bad_env_cases), c)
{
    cfg_scenario s;
    std::optional<cfg_file> file;
    try {
        cfg_print(s, c, file);
        BOOST_FAIL("no error for " << c);
    } catch (const wsload::usage_error& e) {
        BOOST_TEST(std::string(e.what()) == c.expected);
    }
}

BOOST_AUTO_TEST_CASE(flags_that_share_a_variable_are_refused)
{
    for (const std::string name : {"ping_interval", "config", "THREADS"}) {
        cfg_scenario s;
        bool own = false;
        s.flags.push_back(wsload::dsl::make_flag(name, own, "clashes"));
        try {
            s.parse({});
            BOOST_FAIL("no error for --" << name);
        } catch (const wsload::usage_error& e) {
            const std::string expected =
                name == "config" ? "the flag --config is declared twice (rename the scenario's flag)"
                : name == "THREADS"
                    ? "the flags --threads and --THREADS are both read from WSLOAD_THREADS (rename the scenario's flag)"
                    : "the flags --ping-interval and --ping_interval are both read from WSLOAD_PING_INTERVAL (rename the "
                      "scenario's flag)";
            BOOST_TEST(std::string(e.what()) == expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(print_config)

BOOST_AUTO_TEST_CASE(prints_every_flag_its_value_and_origin_then_stops)
{
    cfg_file file("users = 500\nquiet = true\n");
    cfg_scenario s;
    s.environment = {"WSLOAD_PING_INTERVAL=5s", "WSLOAD_NOPE=1"};
    const auto printed = s.print_config({"--config", file.name(), "--interval", "250ms", "--ramp", "1s500us"});
    const auto f = file.name();
    BOOST_TEST(printed == "# chat: the effective configuration, which --config FILE reads back\n"
                          "# after each value, where it came from: default, builder, file, env or command line\n"
                          "# config file: " + f + " (--config)\n"
                          "target = ws://127.0.0.1:9000/ws  # builder\n"
                          "users = 500                      # file " + f + ":1\n"
                          "ramp = 1s500us                   # command line\n"
                          "duration = 1m                    # default\n"
                          "spawn-rate = 0                   # default\n"
                          "stages =                         # default\n"
                          "steps =                          # default\n"
                          "step-duration = 0s               # default\n"
                          "step-ramp = 0s                   # default\n"
                          "warmup-users = 0                 # default\n"
                          "warmup-duration = 0s             # default\n"
                          "batch-size = 0                   # default\n"
                          "batch-interval = 0s              # default\n"
                          "arrival-rate = 0                 # default\n"
                          "arrival-stages =                 # default\n"
                          "start-rate = 0                   # default\n"
                          "preallocated-users = 0           # default\n"
                          "max-users = 0                    # default\n"
                          "poisson = false                  # default\n"
                          "iterations = 0                   # default\n"
                          "iterations-per-user = 0          # default\n"
                          "ramp-down-timeout = 30s          # default\n"
                          "ping-interval = 5s               # env WSLOAD_PING_INTERVAL\n"
                          "threads = 4                      # builder\n"
                          "timer-slack = 500us              # default\n"
                          "connect-timeout = 10s            # default\n"
                          "grace = 5s                       # default\n"
                          "ws-layer = lean                  # default\n"
                          "compression = off                # default\n"
                          "insecure = false                 # default\n"
                          "tls-resume = false               # default\n"
                          "ca-file =                        # default\n"
                          "# seed =                         # default: a new random seed each run\n"
                          "log-level = warn                 # default\n"
                          "log-file =                       # default\n"
                          "log-users =                      # default\n"
                          "json =                           # default\n"
                          "csv =                            # default\n"
                          "html =                           # default\n"
                          "metrics-listen =                 # default\n"
                          "live-max-users = 0               # default\n"
                          "quiet = true                     # file " + f + ":2\n"
                          "abort-on-fail = false            # default\n"
                          "threshold = connect.p99 < 100ms  # builder\n"
                          "\n"
                          "# the scenario's flags\n"
                          "mode = stress                    # default\n"
                          "interval = 250ms                 # command line\n"
                          "verbose = false                  # default\n"
                          "\n"
                          "# ignored, no flag of this scenario: WSLOAD_NOPE\n");
}

BOOST_AUTO_TEST_CASE(what_it_prints_reads_back_to_the_same_configuration)
{
    cfg_file file("users = 500\nverbose = yes\nconnect-timeout = 2.5s\n");
    cfg_scenario first;
    first.environment = {"WSLOAD_PING_INTERVAL=5s", "WSLOAD_MODE=test", "WSLOAD_WS_LAYER=beast"};
    const auto printed = first.print_config({"--config", file.name(), "--ramp", "1s500us", "--run-time", "1h30m",
                                             "--threshold", "rtt.p99 < 5ms", "--seed", "42", "-q", "--insecure",
                                             "--log-level", "info", "--log-users", "7,1-3", "--interval", "1.000000001s"});
    cfg_file again(printed, "again.conf");
    cfg_scenario second;
    const auto reprinted = second.print_config({"--config", again.name()});

    BOOST_TEST(cfg_values(reprinted) == cfg_values(printed));
    const auto& a = first.config;
    const auto& b = second.config;
    BOOST_TEST(b.users == a.users);
    BOOST_TEST(b.log_users.to_string() == "1-3,7");
    BOOST_TEST(a.log_users.to_string() == "1-3,7");
    BOOST_TEST(b.ramp.count() == a.ramp.count());
    BOOST_TEST(b.ramp.count() == std::chrono::nanoseconds(1s + 500us).count());
    BOOST_TEST(b.duration.count() == a.duration.count());
    BOOST_TEST(b.ping_interval.count() == a.ping_interval.count());
    BOOST_TEST(b.connect_timeout.count() == a.connect_timeout.count());
    BOOST_TEST(b.grace.count() == a.grace.count());
    BOOST_TEST(b.threads == a.threads);
    BOOST_TEST((b.ws_layer == a.ws_layer && b.ws_layer == wsload::websocket_layer::beast));
    BOOST_TEST(b.seed == 42u);
    BOOST_TEST((b.insecure && b.quiet && !b.tls_resume && !b.abort_on_fail));
    BOOST_TEST((b.level == a.level && b.level == wsload::log_level::info));
    BOOST_TEST(b.thresholds == a.thresholds, boost::test_tools::per_element());
    BOOST_TEST(b.target->to_string() == a.target->to_string());
    BOOST_TEST(second.mode == "test");
    BOOST_TEST(second.verbose);
    BOOST_TEST(second.interval.count() == first.interval.count());
    BOOST_TEST(second.interval.count() == 1'000'000'001);
    BOOST_TEST(cfg_origin(reprinted, "users") == "file " + again.name() + ":5");  // after 3 comment lines and target
}

BOOST_AUTO_TEST_CASE(a_load_shape_reads_back_and_the_users_it_decides_are_comments)
{
    cfg_scenario first;
    const auto printed = first.print_config({"--stages", "5s:20,10s:20,5s:0", "--ramp-down-timeout", "3s"});
    BOOST_TEST(printed.find("\n# users = 20") != std::string::npos);
    BOOST_TEST(printed.find("from the load shape: stages 5s:20, 10s:20, 5s:0") != std::string::npos);
    BOOST_TEST(printed.find("\nstages = 5s:20,10s:20,5s:0") != std::string::npos);
    cfg_file again(printed, "again.conf");
    cfg_scenario second;
    const auto reprinted = second.print_config({"--config", again.name()});
    BOOST_TEST(cfg_values(reprinted) == cfg_values(printed));
    BOOST_REQUIRE(second.config.load.has_value());
    BOOST_TEST(second.config.load->description() == first.config.load->description());
    BOOST_TEST(second.config.users == 20u);
    BOOST_TEST(second.config.duration.count() == std::chrono::nanoseconds(20s).count());
    BOOST_TEST(second.config.ramp_down_timeout.count() == std::chrono::nanoseconds(3s).count());

    cfg_scenario rate;  // a spawn rate takes --users: only the ramp is the shape's
    const auto rate_printed = rate.print_config({"--users", "30", "--spawn-rate", "10"});
    BOOST_TEST(rate_printed.find("\nusers = 30") != std::string::npos);
    BOOST_TEST(rate_printed.find("\n# ramp = 0s") != std::string::npos);
    cfg_file rate_again(rate_printed, "rate.conf");
    cfg_scenario rate_second;
    rate_second.print_config({"--config", rate_again.name()});
    BOOST_TEST(rate_second.config.load->description() == "30 users at 10/s");
}

BOOST_AUTO_TEST_CASE(a_value_no_line_can_hold_is_a_comment_that_says_so)
{
    cfg_scenario s;
    const auto printed = s.print_config({"--mode", "test", "--metrics-listen", "127.0.0.1:9#1"});
    BOOST_TEST(printed.find("\n# metrics-listen = \"127.0.0.1:9#1\"  # command line; not written: a config file value "
                            "holds no #, line break or edge space\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_is_printed_instead_and_lists_both_flags)
{
    cfg_scenario s;
    BOOST_TEST(!s.parse({"--print-config", "--help"}));
    const auto help = s.out.str();
    BOOST_TEST(help.starts_with("Usage: chat_bench [flags]"));
    BOOST_TEST(help.find("--config FILE") != std::string::npos);
    BOOST_TEST(help.find("--print-config") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(durations_and_numbers_print_in_forms_that_read_back)
{
    using wsload::dsl::format_flag_value;
    using ns = std::chrono::nanoseconds;
    BOOST_TEST(format_flag_value(ns(0)) == "0s");
    BOOST_TEST(format_flag_value(ns(250ms)) == "250ms");
    BOOST_TEST(format_flag_value(ns(1500ms)) == "1.5s");
    BOOST_TEST(format_flag_value(ns(90min)) == "1h30m");
    BOOST_TEST(format_flag_value(ns(1s + 500us)) == "1s500us");  // "1.001s" would not read back
    BOOST_TEST(format_flag_value(ns(2min + 3ns)) == "2m3ns");
    BOOST_TEST(format_flag_value(0.25) == "0.25");
    BOOST_TEST(format_flag_value(1e-7) == "1e-07");  // std::to_string: "0.000000"
    for (const ns d : {ns(1s + 500us), ns(2min + 3ns), ns(1h + 1ns), ns(999'999'999), ns(1234567ns)})
        BOOST_TEST(wsload::parse_duration(format_flag_value(d)).count() == d.count());
    BOOST_TEST(wsload::dsl::parse_flag_value<double>(format_flag_value(1e-7)) == 1e-7);
}

BOOST_AUTO_TEST_SUITE_END()
