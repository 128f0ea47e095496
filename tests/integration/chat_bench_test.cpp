// End to end, seed 001: the real chat_bench against the real chat_server on 127.0.0.1 over raw
// TCP. The connection test's steps, the stress mode's seed report, and its figures read back
// from --json and checked exactly, against the server's own counts too.

#include <support/child_process.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wsload::test::child_process;
using wsload::test::server_process;
using wsload::test::temp_dir;

namespace {

struct chat_run {
    int status = -1;
    std::string out, err;
    boost::json::object result;

    std::uint64_t counter(std::string_view name) const
    {
        return result.at("counters").as_object().at(name).to_number<std::uint64_t>();
    }
    /// The figure `field` of the request named `name` (over every type).
    std::uint64_t named(std::string_view name, std::string_view field) const
    {
        std::uint64_t n = 0;
        for (const auto& r : result.at("requests").as_array())
            if (r.as_object().at("name").as_string() == name) n += r.as_object().at(field).to_number<std::uint64_t>();
        return n;
    }
};

chat_run chat_bench(std::vector<std::string> args, bool with_json = true)
{
    temp_dir dir;
    const auto json = dir.path() / "result.json";
    args.insert(args.begin(), WSLOAD_CHAT_BENCH);
    if (with_json) args.insert(args.end(), {"--json", json.string()});
    child_process bench(args);
    chat_run r;
    const auto status = bench.wait_for_exit(60s);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "chat_bench did not finish in time");
    r.status = *status;
    r.out = bench.stdout_text();
    r.err = bench.stderr_text();
    if (std::ifstream in(json); in) {
        std::stringstream text;
        text << in.rdbuf();
        r.result = boost::json::parse(text.str()).as_object();
    }
    return r;
}

/// A count from the server's stop line: "... 52 logins, 5051 messages received, ...".
std::uint64_t chat_server_count(const std::string& line, std::string_view what)
{
    const auto at = line.find(what);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no \"" + std::string(what) + "\" in: " + line);
    auto start = line.rfind(' ', at - 2);
    return std::stoull(line.substr(start + 1, at - start - 2));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chat_tcp_example)

BOOST_AUTO_TEST_CASE(the_connection_test_passes_every_step, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_CHAT_SERVER);
    const auto r = chat_bench({"test", "127.0.0.1", std::to_string(server.port()), "--quiet"});
    BOOST_TEST(r.status == 0, r.out + r.err);
    for (const char* step : {"[PASS] connect", "[PASS] login", "[PASS] chat", "[PASS] group chat"})
        BOOST_TEST(r.out.find(step) != std::string::npos, step);
    BOOST_TEST(r.counter("requests_sent") == 6u);  // 2 logins, chat, create, join, group chat
    BOOST_TEST(r.counter("requests_answered") == 6u);
}

BOOST_AUTO_TEST_CASE(a_refused_login_fails_its_step_and_exits_1, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_CHAT_SERVER, {"--password", "secret"});
    const auto r = chat_bench({"test", "127.0.0.1", std::to_string(server.port()), "--quiet"});
    BOOST_TEST(r.status == 1, r.out + r.err);
    BOOST_TEST(r.out.find("[PASS] connect") != std::string::npos);
    BOOST_TEST(r.out.find("[FAIL] login") != std::string::npos, r.out);
    BOOST_TEST(r.named("login", "rejected") == 2u);  // the server answered, and said no
    BOOST_TEST(r.named("login", "answered") == 0u);
}

BOOST_AUTO_TEST_CASE(stress_counts_every_message_once_on_both_sides, *boost::unit_test::timeout(90))
{
    server_process server(WSLOAD_CHAT_SERVER, {"--threads", "2"});
    constexpr std::uint64_t clients = 40;
    auto r = chat_bench({"stress", "127.0.0.1", std::to_string(server.port()), std::to_string(clients), "4",
                         "--interval", "0.05", "--quiet"});
    BOOST_TEST(r.status == 0, r.out + r.err);
    // The seed's report, after wsload's.
    for (const char* line : {"===== Stress test report (seed 001) =====", "connect success: 40/40 (100.0%)",
                             "login success: 40/40 (100.0%)", "average QPS:", "average sent per client:",
                             "Connect time:"})
        BOOST_TEST(r.out.find(line) != std::string::npos, line);

    BOOST_TEST(r.result.at("connections").as_object().at("attempted").to_number<std::uint64_t>() == clients);
    BOOST_TEST(r.result.at("connections").as_object().at("succeeded").to_number<std::uint64_t>() == clients);
    BOOST_TEST(r.named("login", "answered") == clients);
    const auto sent = r.counter("requests_sent");
    BOOST_TEST(sent == r.counter("requests_answered") + r.counter("requests_rejected") +
                           r.counter("requests_timed_out") + r.counter("requests_failed"));
    BOOST_TEST(r.counter("requests_timed_out") == 0u);
    BOOST_TEST(r.counter("requests_failed") == 0u);
    BOOST_TEST(r.counter("messages_sent") == sent);  // every line a request
    BOOST_TEST(r.named("chat", "sent") > clients * 40);  // ~80 per client in 4 s at 50 ms
    // Each request was answered once (an ack, or a login reply); the rest received are the
    // chats forwarded to this client by the server.
    const auto acks = r.counter("requests_answered") + r.counter("requests_rejected");
    BOOST_TEST(r.counter("messages_received") >= acks);

    // The server saw exactly what the clients sent, and forwarded each accepted chat once.
    BOOST_REQUIRE(server.stop() == 0);
    const auto& line = server.process().stderr_text();
    BOOST_TEST(chat_server_count(line, "logins") == clients);
    BOOST_TEST(chat_server_count(line, "messages received") == r.counter("messages_sent"));
    BOOST_TEST(chat_server_count(line, "messages forwarded") == r.named("chat", "answered"));
    BOOST_TEST(r.counter("messages_received") <= acks + r.named("chat", "answered"));
}

BOOST_AUTO_TEST_CASE(the_seed_steps_run_each_level_and_compare_them, *boost::unit_test::timeout(90))
{
    server_process server(WSLOAD_CHAT_SERVER, {"--threads", "2"});
    // run_stress_test.py's form: a warm-up of 2 clients, then levels of 4 and 8, 1 s each.
    auto r = chat_bench({"steps", "--server", "127.0.0.1", "--port", std::to_string(server.port()), "--clients", "4,8",
                         "--duration", "1", "--warmup-clients", "2", "--warmup-duration", "1", "--interval", "0.05",
                         "--quiet", "--threads", "2"});
    BOOST_TEST(r.status == 0, r.out + r.err);
    BOOST_TEST(r.out.find("--- Levels compared (seed 001) ---") != std::string::npos, r.out);
    BOOST_TEST(r.result.at("config").as_object().at("load").as_string() == "steps warm-up 2 for 1s, 4,8 users, 1s each");
    const auto& phases = r.result.at("phases").as_array();
    BOOST_REQUIRE(phases.size() == 3u);
    const std::uint64_t started[] = {2, 2, 4};  // users are kept from one level to the next
    const char* names[] = {"warm-up", "level 4", "level 8"};
    std::uint64_t logins = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& p = phases[i].as_object();
        BOOST_TEST(p.at("name").as_string() == names[i]);
        BOOST_TEST(p.at("counters").as_object().at("users_started").to_number<std::uint64_t>() == started[i]);
        BOOST_TEST(p.at("connections").as_object().at("failed").to_number<std::uint64_t>() == 0u);
        for (const auto& q : p.at("requests").as_array())
            if (q.as_object().at("name").as_string() == "login")
                logins += q.as_object().at("answered").to_number<std::uint64_t>();
    }
    BOOST_TEST(logins == 8u);  // every user logged in once, in the level it started in
    BOOST_TEST(r.named("login", "answered") == 8u);
    BOOST_TEST(r.counter("requests_failed") == 0u);
}

BOOST_AUTO_TEST_CASE(the_seed_positional_form_is_checked, *boost::unit_test::timeout(30))
{
    const auto r = chat_bench({"stress", "127.0.0.1", "6000"}, false);
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.err == "wsload: chat_bench stress takes HOST PORT CLIENTS DURATION (got 2 arguments before the flags)\n");
}

BOOST_AUTO_TEST_SUITE_END()
