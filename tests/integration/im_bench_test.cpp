// End to end: the real im_bench against the real im_server on 127.0.0.1, figures read back
// from the --json result and checked exactly.

#include <support/child_process.hpp>

#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wsload::test::child_process;
using wsload::test::im_server_process;
using wsload::test::temp_dir;

namespace {

struct bench_run {
    int status = -1;
    boost::json::object result;  ///< the --json document (empty if none was written)
    std::string err;             ///< everything im_bench wrote on stderr
    std::string out;

    std::uint64_t at(std::initializer_list<std::string_view> path) const
    {
        const boost::json::object* o = &result;
        auto key = path.begin();
        for (; key + 1 != path.end(); ++key) o = &o->at(*key).as_object();
        return o->at(*key).to_number<std::uint64_t>();
    }
    std::uint64_t counter(std::string_view name) const { return at({"counters", name}); }
    std::uint64_t failures(std::string_view name) const { return at({"connections", "failures", name}); }
    std::uint64_t disconnects(std::string_view name) const { return at({"connections", "disconnects", name}); }
    std::uint64_t latency_count(std::string_view name) const { return at({"latency_ms", name, "count"}); }

    /// Sum of a time-series column over every second.
    std::uint64_t series_sum(std::string_view column) const
    {
        const auto& ts = result.at("timeseries").as_object();
        const auto& columns = ts.at("columns").as_array();
        std::size_t c = 0;
        while (c < columns.size() && columns[c].as_string() != column) ++c;
        BOOST_REQUIRE(c < columns.size());
        std::uint64_t sum = 0;
        for (const auto& row : ts.at("rows").as_array()) sum += row.as_array()[c].to_number<std::uint64_t>();
        return sum;
    }
    std::size_t series_rows() const { return result.at("timeseries").as_object().at("rows").as_array().size(); }
};

boost::json::object read_json(const std::filesystem::path& file)
{
    std::ifstream in(file);
    if (!in) return {};
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str()).as_object();
}

std::vector<std::string> bench_args(std::vector<std::string> args, const std::filesystem::path& json)
{
    args.insert(args.begin(), WSLOAD_IM_BENCH);
    args.push_back("--json");
    args.push_back(json.string());
    return args;
}

/// Runs im_bench to its end (bounded) and reads its result.
bench_run run_bench(std::vector<std::string> args, std::chrono::milliseconds bound = 60s)
{
    temp_dir dir;
    const auto json = dir.path() / "result.json";
    child_process bench(bench_args(std::move(args), json));
    bench_run r;
    auto status = bench.wait_for_exit(bound);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "im_bench did not finish in time");
    r.status = *status;
    r.err = bench.stderr_text();
    r.out = bench.stdout_text();
    r.result = read_json(json);
    return r;
}

std::string ws_url(std::uint16_t port, const char* scheme = "ws")
{
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + "/ws";
}

/// Reads im_bench's progress lines until one contains `text` (bounded: ~60 s of lines).
bool wait_for_progress(child_process& bench, std::string_view text)
{
    for (int i = 0; i < 30; ++i) {
        auto line = bench.read_stderr_line(2s);
        if (!line) return false;
        if (line->find(text) != std::string::npos) return true;
    }
    return false;
}

/// Every attempt counted once; every established connection ended once.
void check_accounting(const bench_run& r)
{
    const auto attempted = r.at({"connections", "attempted"});
    BOOST_TEST(attempted == r.at({"connections", "succeeded"}) + r.at({"connections", "failed"}));
    BOOST_TEST(r.at({"connections", "succeeded"}) == r.at({"connections", "disconnects_total"}));
    BOOST_TEST(r.counter("active_connections") == 0u);
    BOOST_TEST(r.counter("users_started") == r.counter("users_finished"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(im_bench_against_im_server)

BOOST_AUTO_TEST_CASE(connect_only_1000_users_all_connect_and_every_ping_is_answered, *boost::unit_test::timeout(120))
{
    im_server_process server(WSLOAD_IM_SERVER, {});
    auto r = run_bench({"--target", ws_url(server.port()), "--mode", "connect-only", "--conns", "1000",
                        "--ramp", "1s", "--duration", "4s", "--ping-interval", "1s", "--quiet"});
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.at({"connections", "attempted"}) == 1000u);
    BOOST_TEST(r.at({"connections", "succeeded"}) == 1000u);
    BOOST_TEST(r.at({"connections", "failed"}) == 0u);
    BOOST_TEST(r.at({"connections", "open_at_end"}) == 1000u);
    BOOST_TEST(r.disconnects("client_stop") == 1000u);  // closed by the run's end, with 1000
    BOOST_TEST(r.latency_count("connect") == 1000u);
    BOOST_TEST(r.latency_count("connect_tcp") == 1000u);
    BOOST_TEST(r.latency_count("connect_upgrade") == 1000u);
    // Each connection pings once a second for ~3 s after it opens.
    BOOST_TEST(r.counter("pings_sent") >= 2000u);
    BOOST_TEST(r.counter("pongs_received") == r.counter("pings_sent"));
    BOOST_TEST(r.counter("pongs_missed") == 0u);
    BOOST_TEST(r.latency_count("ping_round_trip") == r.counter("pongs_received"));
    // One row per second of the 4 s run; every connection opened in exactly one of them.
    BOOST_TEST(r.series_rows() == 4u);
    BOOST_TEST(r.series_sum("new_connections") == 1000u);
    BOOST_TEST(r.series_sum("connect_failures") == 0u);
    check_accounting(r);
}

BOOST_AUTO_TEST_CASE(a_closed_loop_measures_each_round_trip_from_its_own_send, *boost::unit_test::timeout(120))
{
    // --message-interval 0: the next message when the echo came. Each round trip counts from
    // its own send, so against a loopback echo they stay small however long the run (they once
    // counted from the user's first due time: P50 2.1 s, P99 4 s in a 4 s run).
    im_server_process server(WSLOAD_IM_SERVER, {"--threads", "1"});
    auto r = run_bench({"--target", ws_url(server.port()), "--mode", "messaging", "--conns", "10", "--ramp", "0",
                        "--duration", "3s", "--message-interval", "0", "--ping-interval", "0", "--quiet"});
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.status == 0);
    const auto sent = r.counter("messages_sent");
    BOOST_TEST(sent >= 1000u);  // 10 users in a closed loop for 3 s, even under a sanitizer
    BOOST_TEST(r.counter("requests_answered") == sent);
    const auto& rtt = r.result.at("latency_ms").as_object().at("round_trip").as_object();
    BOOST_TEST(rtt.at("p50").to_number<double>() < 50.0);
    BOOST_TEST(rtt.at("p99").to_number<double>() < 250.0);
    check_accounting(r);
}

BOOST_AUTO_TEST_CASE(messaging_every_message_comes_back_with_its_round_trip, *boost::unit_test::timeout(120))
{
    im_server_process server(WSLOAD_IM_SERVER, {"--threads", "1"});
    auto r = run_bench({"--target", ws_url(server.port()), "--mode", "messaging", "--conns", "100", "--ramp",
                        "500ms", "--duration", "3s", "--message-interval", "100ms", "--ping-interval", "0",
                        "--quiet"});
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.at({"connections", "succeeded"}) == 100u);
    const auto sent = r.counter("messages_sent");
    BOOST_TEST(sent >= 2000u);  // 100 users x 10/s x ~2.5 s
    BOOST_TEST(r.counter("messages_received") == sent);
    BOOST_TEST(r.counter("requests_answered") == sent);
    BOOST_TEST(r.counter("requests_timed_out") == 0u);
    BOOST_TEST(r.counter("requests_sent") ==
               r.counter("requests_answered") + r.counter("requests_timed_out") + r.counter("requests_failed"));
    BOOST_TEST(r.latency_count("round_trip") == sent);
    BOOST_TEST(r.counter("bytes_sent") == sent * 64);  // --message-bytes default
    BOOST_TEST(r.counter("bytes_received") == sent * 64);
    // The series covers the run up to its end; a send or reply in flight then (at most one
    // per user) completes during the closing and is in the totals only. Within each row,
    // counts and round trips are cut at the same instant.
    BOOST_TEST(r.series_sum("messages_sent") <= sent);
    BOOST_TEST(r.series_sum("messages_sent") + 100 >= sent);
    BOOST_TEST(r.series_sum("round_trips") <= sent);
    BOOST_TEST(r.series_sum("round_trips") + 100 >= sent);
    BOOST_TEST(r.series_sum("messages_received") == r.series_sum("round_trips"));
    // Each row's exact histogram (written from the run's spill) holds that row's round trips, and
    // bucket by bucket the rows are a part of the run's round-trip histogram.
    const auto& ts = r.result.at("timeseries").as_object();
    const auto& rows = ts.at("rows").as_array();
    const auto& seconds = ts.at("round_trip_histograms").as_array();
    BOOST_REQUIRE(seconds.size() == rows.size());
    const auto buckets_of = [](const boost::json::object& h) {
        std::map<std::uint64_t, std::uint64_t> out;
        for (const auto& b : h.at("buckets").as_array())
            out[b.as_array()[0].to_number<std::uint64_t>()] += b.as_array()[1].to_number<std::uint64_t>();
        return out;
    };
    std::map<std::uint64_t, std::uint64_t> in_rows;
    std::uint64_t counted = 0;
    for (std::size_t k = 0; k < seconds.size(); ++k) {
        const auto& h = seconds[k].as_object();
        const auto count = h.at("count").to_number<std::uint64_t>();
        BOOST_TEST(count == rows[k].as_array()[9].to_number<std::uint64_t>());  // column round_trips
        counted += count;
        for (const auto& [index, n] : buckets_of(h)) in_rows[index] += n;
    }
    BOOST_TEST(counted == r.series_sum("round_trips"));
    const auto total = buckets_of(r.result.at("histograms").as_object().at("round_trip").as_object());
    for (const auto& [index, n] : in_rows) {
        BOOST_TEST_INFO("bucket " << index);
        BOOST_TEST((total.contains(index) && total.at(index) >= n));
    }
    check_accounting(r);
}

BOOST_AUTO_TEST_CASE(thresholds_decide_the_exit_status, *boost::unit_test::timeout(120))
{
    im_server_process server(WSLOAD_IM_SERVER, {});
    const std::vector<std::string> common{"--target", ws_url(server.port()), "--mode", "messaging", "--conns", "20",
                                          "--ramp", "0", "--duration", "2s", "--message-interval", "100ms",
                                          "--quiet", "--threshold", "connect.success >= 99%", "--threshold",
                                          "failures.refused == 0"};
    auto passing = run_bench(common);
    BOOST_TEST(passing.status == 0);
    const auto& verdicts = passing.result.at("thresholds").as_array();
    BOOST_REQUIRE(verdicts.size() == 2u);
    for (const auto& v : verdicts) BOOST_TEST(v.as_object().at("passed").as_bool());

    auto args = common;
    args.insert(args.end(), {"--threshold", "messages_received < 10"});
    auto failing = run_bench(args);
    BOOST_TEST(failing.status == 1);
    BOOST_TEST(failing.out.find("FAIL messages_received < 10") != std::string::npos);
    BOOST_TEST(!failing.result.at("thresholds").as_array()[2].as_object().at("passed").as_bool());
    BOOST_TEST(failing.result.at("grades").as_array().size() >= 3u);
}

BOOST_AUTO_TEST_CASE(abort_on_fail_ends_the_run_once_a_threshold_cannot_pass, *boost::unit_test::timeout(60))
{
    const auto port = wsload::test::free_tcp_port();
    auto r = run_bench({"--target", ws_url(port), "--conns", "1000", "--ramp", "20s", "--duration", "30s",
                        "--quiet", "--threshold", "failures.refused < 5", "--abort-on-fail"});
    BOOST_TEST(r.status == 3);  // nothing connected: the run failed, which outranks the threshold
    BOOST_TEST(r.result.at("run").as_object().at("ended_early").as_bool());
    BOOST_TEST(r.result.at("run").as_object().at("elapsed_s").to_number<double>() < 5.0);
    BOOST_TEST(r.failures("refused") >= 5u);
    BOOST_TEST(r.failures("refused") == r.at({"connections", "attempted"}));
}

BOOST_AUTO_TEST_CASE(nothing_listening_every_attempt_fails_as_refused, *boost::unit_test::timeout(60))
{
    const auto port = wsload::test::free_tcp_port();
    auto r = run_bench({"--target", ws_url(port), "--mode", "connect-only", "--conns", "50", "--ramp", "0",
                        "--duration", "10s", "--quiet"});
    BOOST_TEST(r.status == 3);
    BOOST_TEST(r.at({"connections", "attempted"}) == 50u);
    BOOST_TEST(r.at({"connections", "succeeded"}) == 0u);
    BOOST_TEST(r.failures("refused") == 50u);
    BOOST_TEST(r.at({"connections", "failed"}) == 50u);
    BOOST_TEST(r.result.at("run").as_object().at("elapsed_s").to_number<double>() < 5.0);  // ends when users do
    check_accounting(r);
}

BOOST_AUTO_TEST_CASE(server_killed_mid_run_every_connection_ends_once_as_network, *boost::unit_test::timeout(120))
{
    auto server = std::make_unique<im_server_process>(WSLOAD_IM_SERVER, std::vector<std::string>{});
    temp_dir dir;
    const auto json = dir.path() / "result.json";
    child_process bench(bench_args({"--target", ws_url(server->port()), "--mode", "connect-only", "--conns", "200",
                                    "--ramp", "200ms", "--duration", "30s", "--ping-interval", "1s"},
                                   json));
    BOOST_REQUIRE_MESSAGE(wait_for_progress(bench, "conns 200/200"), "connections did not open: " << bench.stderr_text());
    server->process().send_signal(SIGKILL);
    server.reset();
    auto status = bench.wait_for_exit(20s);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "im_bench hung after the server died");
    bench_run r;
    r.status = *status;
    r.result = read_json(json);
    BOOST_TEST_INFO("stderr: " << bench.stderr_text());
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.at({"connections", "succeeded"}) == 200u);
    BOOST_TEST(r.disconnects("network") == 200u);
    BOOST_TEST(r.at({"connections", "disconnects_total"}) == 200u);
    BOOST_TEST(r.at({"connections", "open_at_end"}) == 0u);
    BOOST_TEST(r.result.at("run").as_object().at("elapsed_s").to_number<double>() < 20.0);
    check_accounting(r);
}

BOOST_AUTO_TEST_CASE(wss_verifies_the_certificate_unless_given_the_ca, *boost::unit_test::timeout(120))
{
    temp_dir certs;
    wsload::test::make_self_signed_certificate(certs.path());
    const auto cert = (certs.path() / "cert.pem").string();
    im_server_process server(WSLOAD_IM_SERVER,
                             {"--tls-cert", cert, "--tls-key", (certs.path() / "key.pem").string()});
    const std::vector<std::string> common{"--target", ws_url(server.port(), "wss"), "--mode", "connect-only",
                                          "--conns", "20", "--ramp", "0", "--duration", "2s", "--quiet"};

    auto untrusted = run_bench(common);
    BOOST_TEST(untrusted.status == 3);
    BOOST_TEST(untrusted.failures("tls") == 20u);
    BOOST_TEST(untrusted.at({"connections", "succeeded"}) == 0u);

    auto args = common;
    args.insert(args.end(), {"--ca-file", cert});
    auto trusted = run_bench(args);
    BOOST_TEST_INFO("stderr: " << trusted.err);
    BOOST_TEST(trusted.status == 0);
    BOOST_TEST(trusted.at({"connections", "succeeded"}) == 20u);
    BOOST_TEST(trusted.latency_count("connect_tls") == 20u);
    check_accounting(trusted);
}

BOOST_AUTO_TEST_CASE(sigint_closes_connections_and_still_reports, *boost::unit_test::timeout(120))
{
    im_server_process server(WSLOAD_IM_SERVER, {});
    temp_dir dir;
    const auto json = dir.path() / "result.json";
    child_process bench(bench_args({"--target", ws_url(server.port()), "--mode", "connect-only", "--conns", "100",
                                    "--ramp", "0", "--duration", "60s"},
                                   json));
    BOOST_REQUIRE_MESSAGE(wait_for_progress(bench, "conns 100/100"), "connections did not open: " << bench.stderr_text());
    bench.send_signal(SIGINT);
    auto status = bench.wait_for_exit(15s);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "im_bench did not stop on SIGINT");
    BOOST_TEST(*status == 4);  // interrupted: reported, but not a pass
    auto doc = read_json(json);
    BOOST_REQUIRE(!doc.empty());
    bench_run r;
    r.result = doc;
    BOOST_TEST(doc.at("run").as_object().at("interrupted").as_bool());
    BOOST_TEST(doc.at("run").as_object().at("exit_status").as_int64() == 4);
    BOOST_TEST(r.disconnects("client_stop") == 100u);
    BOOST_TEST(bench.stdout_text().find("wsload report") != std::string::npos);
    check_accounting(r);
}

BOOST_AUTO_TEST_CASE(wsload_report_merges_three_concurrent_runs, *boost::unit_test::timeout(120))
{
    im_server_process server(WSLOAD_IM_SERVER, {});
    temp_dir dir;
    std::vector<std::unique_ptr<child_process>> runs;
    std::vector<std::string> files;
    for (int i = 0; i < 3; ++i) {
        files.push_back((dir.path() / ("part" + std::to_string(i) + ".json")).string());
        runs.push_back(std::make_unique<child_process>(bench_args(
            {"--target", ws_url(server.port()), "--mode", "messaging", "--conns", "20", "--ramp", "0", "--duration",
             "3s", "--message-interval", "100ms", "--quiet"},
            files.back())));
    }
    std::vector<bench_run> parts(3);
    for (int i = 0; i < 3; ++i) {
        auto status = runs[i]->wait_for_exit(30s);
        BOOST_REQUIRE(status.has_value() && *status == 0);
        parts[i].result = read_json(files[i]);
    }
    const auto merged_file = (dir.path() / "all.json").string();
    std::vector<std::string> merge{WSLOAD_REPORT, "merge"};
    merge.insert(merge.end(), files.begin(), files.end());
    merge.insert(merge.end(), {"-o", merged_file});
    child_process merger(merge);
    BOOST_REQUIRE((merger.wait_for_exit(30s) == 0));
    bench_run all;
    all.result = read_json(merged_file);
    BOOST_REQUIRE(!all.result.empty());

    const auto sum = [&](auto get) { return get(parts[0]) + get(parts[1]) + get(parts[2]); };
    for (const char* c : {"connect_attempts", "connect_successes", "messages_sent", "messages_received",
                          "requests_answered", "bytes_received"})
        BOOST_TEST(all.counter(c) == sum([&](const bench_run& p) { return p.counter(c); }), c);
    BOOST_TEST(all.at({"connections", "attempted"}) == 60u);
    BOOST_TEST(all.latency_count("round_trip") == sum([](const bench_run& p) { return p.latency_count("round_trip"); }));
    BOOST_TEST(all.latency_count("connect") == 60u);
    BOOST_TEST(all.series_sum("round_trips") ==
               sum([](const bench_run& p) { return p.series_sum("round_trips"); }));  // aligned, nothing lost
    BOOST_TEST(all.result.at("config").as_object().at("users").to_number<std::uint64_t>() == 60u);

    child_process text({WSLOAD_REPORT, "text", merged_file});
    BOOST_REQUIRE((text.wait_for_exit(30s) == 0));
    BOOST_TEST(text.stdout_text().find("attempted:             60") != std::string::npos);

    child_process bad({WSLOAD_REPORT, "text", (dir.path() / "missing.json").string()});
    BOOST_TEST((bad.wait_for_exit(30s) == 2));
    BOOST_TEST(bad.stderr_text().find("wsload-report: cannot read") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(command_line)

struct usage_case {
    std::vector<std::string> args;
    std::string expected;  ///< part of the one-line error
};
std::ostream& operator<<(std::ostream& os, const usage_case& c)
{
    for (const auto& a : c.args) os << a << ' ';
    return os;
}

const usage_case usage_cases[] = {
    {{"--ramp", "3x"}, "wsload: --ramp: \"3x\" is not a duration (use 30s, 2m or 1h30m)"},
    {{"--bogus"}, "wsload: unknown flag --bogus (see --help)"},
    {{"--conns", "ten"}, "wsload: --conns: \"ten\" is not a whole number"},
    {{"--users", "0"}, "wsload: --users: must be at least 1"},
    {{"--mode", "chat"}, "wsload: --mode: \"chat\" is not one of connect-only, messaging"},
    {{"--target", "ftp://x/"}, "wsload: --target: \"ftp://x/\" is not a supported URL"},
    {{"--duration", "0"}, "wsload: --duration: must be longer than 0s"},
    {{"--users", "5", "--conns", "6"}, "wsload: --users and --conns disagree"},
    {{"--log-level", "loud"}, "wsload: --log-level: \"loud\" is not a log level"},
    {{"--threads"}, "wsload: the required argument for option '--threads' is missing"},
    {{"--threshold", "connect.p99 < soon"}, "wsload: --threshold: \"connect.p99 < soon\": \"soon\" is not a duration"},
    {{"--header", "X-Token abc"}, "wsload: --header: \"X-Token abc\" is not a header (use \"Name: value\")"},
    {{"--header", "Upgrade: h2c"}, "wsload: --header: \"Upgrade\" is set by the WebSocket handshake itself and cannot be given"},
    // A target the behaviour's transport cannot use ends the run with one line, not an error per user.
    {{"--target", "tcp://127.0.0.1:9", "--users", "20", "--ramp", "0s", "--duration", "5s", "--quiet"},
     "wsload: \"tcp://127.0.0.1:9\" is not a WebSocket URL (WebSocket takes ws:// and wss://)"},
    {{"--target", "http://127.0.0.1:9/x", "--users", "20", "--ramp", "0s", "--duration", "5s", "--quiet"},
     "wsload: \"http://127.0.0.1:9/x\" is not a WebSocket URL (WebSocket takes ws:// and wss://)"},
};

BOOST_DATA_TEST_CASE(bad_input_is_one_line_and_status_2, boost::unit_test::data::make(usage_cases), c)
{
    auto args = c.args;
    args.insert(args.begin(), WSLOAD_IM_BENCH);
    child_process bench(args);
    auto status = bench.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 2);
    const auto err = bench.stderr_text();
    BOOST_TEST(err.find(c.expected) == 0u, "stderr was: " << err);
    BOOST_TEST(std::count(err.begin(), err.end(), '\n') == 1);
}

BOOST_AUTO_TEST_CASE(help_lists_every_flag_with_its_default)
{
    child_process bench({WSLOAD_IM_BENCH, "--help"});
    auto status = bench.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 0);
    const auto out = bench.stdout_text();
    for (const char* flag : {"--target", "--users", "--conns", "--ramp", "--duration", "--run-time",
                             "--ping-interval", "--threads", "--log-level", "--json", "--quiet", "--insecure",
                             "--ca-file", "--header", "--mode", "--message-interval"})
        BOOST_TEST(out.find(flag) != std::string::npos, flag << " missing from --help");
    BOOST_TEST(out.find("(=30s)") != std::string::npos);  // im_bench's default ramp, shown
}

BOOST_AUTO_TEST_SUITE_END()
