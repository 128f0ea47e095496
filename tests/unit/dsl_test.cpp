#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// The command line every scenario understands, parsed in-process: values reach the
// configuration, builder values are defaults, and bad input is a usage_error with one line.
#include <wsload/dsl/command_line.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct parsed {
    wsload::run_config config;
    std::string target = "ws://127.0.0.1:9000/ws";
    std::string mode = "messaging";
    std::chrono::nanoseconds interval = 1s;
    bool verbose = false;
    std::vector<wsload::dsl::custom_flag> flags;

    parsed()
    {
        flags.push_back(wsload::dsl::make_flag<std::string>("mode", mode, "what users do", {"connect-only", "messaging"}));
        flags.push_back(wsload::dsl::make_flag("message-interval", interval, "per user"));
        flags.push_back(wsload::dsl::make_flag("verbose", verbose, "say more"));
    }

    bool parse(std::vector<std::string> args)
    {
        args.insert(args.begin(), "scenario");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        // No WSLOAD_* variable of the test's own environment may change what is parsed.
        char* no_environment[] = {nullptr};
        std::ostringstream help;
        wsload::dsl::command_line cli(config, target, flags);
        return cli.parse(static_cast<int>(argv.size()), argv.data(), no_environment, help);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(command_line)

BOOST_AUTO_TEST_CASE(flags_override_the_builder_and_aliases_work)
{
    parsed p;
    p.config.users = 7;
    BOOST_TEST(p.parse({"--conns", "10000", "--ramp", "10s", "--run-time", "1h30m", "--ping-interval", "5s",
                        "--threads", "3", "--target", "wss://example.test/ws", "--mode", "connect-only",
                        "--message-interval", "250ms", "--verbose", "--seed", "42", "--insecure", "--quiet"}));
    BOOST_TEST(p.config.users == 10000u);
    BOOST_TEST(p.config.ramp.count() == std::chrono::nanoseconds(10s).count());
    BOOST_TEST(p.config.duration.count() == std::chrono::nanoseconds(90min).count());
    BOOST_TEST(p.config.ping_interval.count() == std::chrono::nanoseconds(5s).count());
    BOOST_TEST(p.config.threads == 3u);
    BOOST_TEST(p.config.seed == 42u);
    BOOST_TEST(p.config.insecure);
    BOOST_TEST(p.config.quiet);
    BOOST_REQUIRE(p.config.target.has_value());
    BOOST_TEST(p.config.target->host == "example.test");
    BOOST_TEST(p.config.target->tls);
    BOOST_TEST(p.mode == "connect-only");
    BOOST_TEST(p.interval.count() == std::chrono::nanoseconds(250ms).count());
    BOOST_TEST(p.verbose);
    BOOST_TEST((p.config.timer_slack == wsload::net::default_timer_slack));  // not given: the default
    BOOST_TEST(p.parse({"--timer-slack", "250us"}));
    BOOST_TEST(p.config.timer_slack.count() == 250'000);
    BOOST_TEST(p.parse({"--timer-slack", "0"}));
    BOOST_TEST(p.config.timer_slack.count() == 0);
}

BOOST_AUTO_TEST_CASE(without_flags_the_builder_values_stay)
{
    parsed p;
    p.config.users = 7;
    p.config.ramp = 3s;
    BOOST_TEST(p.parse({}));
    BOOST_TEST(p.config.users == 7u);
    BOOST_TEST(p.config.ramp.count() == std::chrono::nanoseconds(3s).count());
    BOOST_TEST(p.mode == "messaging");
    BOOST_TEST(!p.verbose);
    BOOST_TEST(p.config.target->port == 9000);
}

BOOST_AUTO_TEST_CASE(load_shapes_from_flags_set_users_and_duration)
{
    parsed p;
    BOOST_TEST(p.parse({"--stages", "10s:50,1m:50,10s:0"}));
    BOOST_REQUIRE(p.config.load.has_value());
    BOOST_TEST(p.config.users == 50u);  // the peak
    BOOST_TEST(p.config.duration.count() == std::chrono::nanoseconds(80s).count());  // the stages' own length
    BOOST_TEST(p.config.load->description() == "stages 10s:50, 1m:50, 10s:0");

    parsed given;  // a duration given wins over the shape's own length
    BOOST_TEST(given.parse({"--steps", "5,10", "--step-duration", "30s", "--warmup-users", "2", "--warmup-duration",
                            "10s", "--duration", "2m"}));
    BOOST_TEST(given.config.users == 10u);
    BOOST_TEST(given.config.duration.count() == std::chrono::nanoseconds(2min).count());
    BOOST_TEST(given.config.load->phases().size() == 3u);

    parsed rate;  // spawn rate and batches take --users
    BOOST_TEST(rate.parse({"--users", "100", "--spawn-rate", "20", "--duration", "1m"}));
    BOOST_TEST(rate.config.users == 100u);
    BOOST_TEST(rate.config.load->length().count() == std::chrono::nanoseconds(5s).count());
    BOOST_TEST(rate.config.duration.count() == std::chrono::nanoseconds(1min).count());
    parsed batches;
    BOOST_TEST(batches.parse({"--users", "10", "--batch-size", "4", "--batch-interval", "2s"}));
    BOOST_TEST(batches.config.load->length().count() == std::chrono::nanoseconds(4s).count());
}

BOOST_AUTO_TEST_CASE(arrival_rates_from_flags)
{
    parsed p;
    BOOST_TEST(p.parse({"--arrival-stages", "10s:20,20s:20", "--start-rate", "5", "--preallocated-users", "4",
                        "--max-users", "10", "--poisson"}));
    BOOST_REQUIRE(p.config.arrivals.has_value());
    BOOST_TEST(!p.config.load.has_value());
    BOOST_TEST(p.config.users == 10u);
    BOOST_TEST(p.config.poisson);
    BOOST_TEST(p.config.duration.count() == std::chrono::nanoseconds(30s).count());
    BOOST_TEST(p.config.arrivals->summary() == "arrival stages 10s:20/s, 20s:20/s, 4 users pre-allocated, up to 10");
    parsed constant;
    BOOST_TEST(constant.parse({"--arrival-rate", "2.5", "--max-users", "3", "--duration", "1m"}));
    BOOST_TEST(constant.config.arrivals->preallocated() == 0u);
    BOOST_TEST(constant.config.arrivals->max_users() == 3u);
    BOOST_TEST(constant.config.duration.count() == std::chrono::nanoseconds(1min).count());
}

BOOST_AUTO_TEST_CASE(the_builders_shape_stays_unless_a_shape_flag_replaces_it)
{
    parsed p;
    p.config.load = wsload::sched::stages{{5s, 20}, {5s, 0}}.to_plan();
    BOOST_TEST(p.parse({}));
    BOOST_TEST(p.config.users == 20u);
    BOOST_TEST(p.config.duration.count() == std::chrono::nanoseconds(10s).count());

    parsed replaced;
    replaced.config.load = wsload::sched::stages{{5s, 20}, {5s, 0}}.to_plan();
    BOOST_TEST(replaced.parse({"--stages", "1s:3"}));
    BOOST_TEST(replaced.config.users == 3u);

    parsed refused;
    refused.config.load = wsload::sched::stages{{5s, 20}, {5s, 0}}.to_plan();
    try {
        refused.parse({"--users", "5"});
        BOOST_FAIL("--users with the builder's stages");
    } catch (const wsload::usage_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "--users does not apply: the scenario's load shape (stages 5s:20, 5s:0) says how users start; give "
                   "--stages, --steps, --spawn-rate or --batch-size instead");
    }
}

BOOST_AUTO_TEST_CASE(headers_add_up_in_the_order_given)
{
    parsed p;
    p.config.headers = {{"X-From-Builder", "b"}};
    BOOST_TEST(p.parse({"--header", "Authorization:  Bearer abc.def ", "--header", "X-Empty:", "--header",
                        "Cookie: a=1; b=2", "--header", "X-Empty:"}));  // one given twice counts once
    const std::vector<wsload::net::header_field> expected{
        {"X-From-Builder", "b"}, {"Authorization", "Bearer abc.def"}, {"X-Empty", ""}, {"Cookie", "a=1; b=2"}};
    BOOST_TEST((p.config.headers == expected));
}

BOOST_AUTO_TEST_CASE(help_returns_false)
{
    parsed p;
    BOOST_TEST(!p.parse({"--help"}));
}

struct bad_case {
    std::vector<std::string> args;
    std::string message;
};
std::ostream& operator<<(std::ostream& os, const bad_case& c)
{
    for (const auto& a : c.args) os << a << ' ';
    return os;
}

const bad_case bad_cases[] = {
    {{"--ramp", "3x"}, "--ramp: \"3x\" is not a duration (use 30s, 2m or 1h30m)"},
    {{"--nope"}, "unknown flag --nope (see --help)"},
    {{"--users", "-5"}, "--users: \"-5\" is not a whole number"},
    {{"--users", "99999999999999999999999"}, "--users: \"99999999999999999999999\" is out of range"},
    {{"--threads", "0"}, "--threads: use 1 to 1024"},
    {{"--mode", "x"}, "--mode: \"x\" is not one of connect-only, messaging"},
    {{"--verbose=maybe"}, "--verbose: \"maybe\" is not a yes/no value (use true or false)"},
    {{"--duration", "30s", "--run-time", "1m"}, "--duration and --run-time disagree (give one of them)"},
    {{"--ca-file", "/nonexistent/ca.pem"}, "--ca-file: \"/nonexistent/ca.pem\" is not a readable file"},
    {{"--json", "/nonexistent/dir/out.json"}, "--json: cannot write \"/nonexistent/dir/out.json\""},
    {{"stray"}, "unexpected argument \"stray\" (flags start with --; see --help)"},
    {{"--con", "5"}, "unknown flag --con (see --help)"},  // no guessing of abbreviations
    {{"--compression", "gzip"},
     "--compression: \"gzip\" is not a compression setting (use off, on, no-context-takeover, client-no-context-takeover, "
     "server-no-context-takeover, client-max-window-bits=8-15, server-max-window-bits=8-15, level=0-9, mem-level=1-9, "
     "comma-separated)"},
    {{"--compression", "on,server-max-window-bits=16"},
     "--compression: \"server-max-window-bits=16\": server-max-window-bits takes a number from 8 to 15"},
    // Load shapes: one at a time, with the flags that belong to them.
    {{"--stages", "10s:5", "--steps", "1,2"}, "--stages and --steps are two load shapes (give one)"},
    {{"--spawn-rate", "5", "--batch-size", "2"}, "--spawn-rate and --batch-size are two load shapes (give one)"},
    {{"--stages", "10s:5", "--users", "7"}, "--users does not apply: --stages says how many users run"},
    {{"--steps", "5,10", "--step-duration", "1m", "--ramp", "1s"}, "--ramp does not apply: --steps says how many users run"},
    {{"--spawn-rate", "5", "--ramp", "10s"}, "--ramp does not apply: --spawn-rate says how users start"},
    {{"--step-duration", "1m"}, "--step-duration applies to --steps only"},
    {{"--batch-interval", "1s", "--spawn-rate", "2"}, "--batch-interval applies to --batch-size only"},
    {{"--steps", "5,10"}, "--steps needs --step-duration (how long each level is held)"},
    {{"--steps", "5,x", "--step-duration", "1m"}, "--steps: \"x\" is not a level (give users per level, e.g. 10,50,100)"},
    {{"--steps", "5", "--step-duration", "1m", "--warmup-users", "2"}, "--warmup-users and --warmup-duration go together"},
    {{"--stages", "10s"}, "--stages: \"10s\" is not a stage (write duration:target, e.g. 30s:100)"},
    {{"--arrival-rate", "5"}, "--arrival-rate needs users to run the iterations: give --preallocated-users (and --max-users "
                              "to start more when they are busy)"},
    {{"--arrival-rate", "5", "--preallocated-users", "2", "--users", "4"},
     "--users does not apply: with an arrival rate, --preallocated-users and --max-users say how many users run"},
    {{"--max-users", "5"}, "--max-users applies to arrival rates only (--arrival-rate, --arrival-stages)"},
    {{"--start-rate", "5", "--arrival-rate", "2", "--max-users", "2"}, "--start-rate applies to --arrival-stages only"},
    {{"--arrival-stages", "10s:x", "--max-users", "2"},
     "--arrival-stages: \"x\" is not a rate (iterations per second, in stage \"10s:x\")"},
    {{"--arrival-rate", "5", "--stages", "1s:1"}, "--stages and --arrival-rate are two load shapes (give one)"},
    // Run-wide headers: "Name: value", a header an upgrade may carry.
    {{"--header", "Authorization Bearer abc"}, "--header: \"Authorization Bearer abc\" is not a header (use \"Name: value\")"},
    {{"--header", "X Token: 1"}, "--header: \"X Token\" is not a valid HTTP header name"},
    {{"--header", "X-Token: a\r\nX-Evil: 1"}, "--header: the value of HTTP header \"X-Token\" holds a line break or a NUL byte"},
    {{"--header", "X-Ok: 1", "--header", "Host: example.test"},
     "--header: \"Host\" is set by the WebSocket handshake itself and cannot be given"},
    {{"--header", "Sec-WebSocket-Protocol: chat"},
     "--header: \"Sec-WebSocket-Protocol\" is set by the WebSocket handshake: ask for a subprotocol with .subprotocol(\"name\")"},
    {{"--header", "Cookie: a=1; b c=2"}, "--header: \"b c\" is not a valid cookie name"},
    // A slack of a millisecond or more would make every coalesced send count as late.
    {{"--timer-slack", "1ms"}, "--timer-slack: \"1ms\" is not under 1ms (a longer slack would make every send late; use e.g. 500us)"},
    {{"--timer-slack", "fast"}, "--timer-slack: \"fast\" is not a duration (use 30s, 2m or 1h30m)"},
};

BOOST_DATA_TEST_CASE(bad_input_is_a_usage_error, boost::unit_test::data::make(bad_cases), c)
{
    parsed p;
    try {
        p.parse(c.args);
        BOOST_FAIL("no error for " << c);
    } catch (const wsload::usage_error& e) {
        BOOST_TEST(std::string(e.what()) == c.message);
    }
}

BOOST_AUTO_TEST_SUITE_END()
