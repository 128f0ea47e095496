// --log-file and --log-users end to end: the bundled benches against their bundled servers on
// 127.0.0.1, over WebSocket (both layers), raw TCP and HTTP. The file is read back: every line
// in Locust's form, the chosen users' connects, messages (with their contents), requests and
// closes at DEBUG, nothing per message of the other users, and every secret masked.

#include <support/child_process.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wsload::test::child_process;
using wsload::test::server_process;
using wsload::test::temp_dir;

namespace {

struct logged_run {
    int status = -1;
    std::string err;
    std::vector<std::string> lines;  ///< the log file's, without their line breaks

    /// The lines whose text (after `LEVEL/component: `) starts with `prefix`.
    std::vector<std::string> starting(const std::string& component, const std::string& prefix) const
    {
        std::vector<std::string> out;
        const auto head = "] DEBUG/" + component + ": " + prefix;
        for (const auto& l : lines)
            if (l.size() > 24 && l.compare(24, head.size(), head) == 0) out.push_back(l.substr(24 + head.size()));
        return out;
    }
    std::size_t mentioning(const std::string& text) const
    {
        return static_cast<std::size_t>(
            std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
    }
};

/// Runs `binary args... --log-file F` and reads F back.
logged_run run_logged(const char* binary, std::vector<std::string> args)
{
    temp_dir dir("wsload-log");
    const auto file = dir.path() / "run.log";
    args.insert(args.begin(), binary);
    args.insert(args.end(), {"--log-file", file.string()});
    child_process p(args);
    const auto status = p.wait_for_exit(60s);
    BOOST_REQUIRE_MESSAGE(status.has_value(), std::string(binary) + " did not finish in time");
    logged_run r;
    r.status = *status;
    r.err = p.stderr_text();
    std::ifstream in(file);
    BOOST_REQUIRE_MESSAGE(in, "no log file was written: " + r.err);
    for (std::string line; std::getline(in, line);) r.lines.push_back(line);
    return r;
}

/// Every line in the form `[YYYY-MM-DD HH:MM:SS,mmm] LEVEL/component: text`.
void check_line_format(const logged_run& r)
{
    static const std::regex form(R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] (DEBUG|INFO|WARNING|ERROR)/[a-z_]+: .*)");
    for (const auto& l : r.lines) BOOST_REQUIRE_MESSAGE(std::regex_match(l, form), "not in the log form: " + l);
}

std::string log_test_ws_url(std::uint16_t port)
{
    // The token in the query must not reach the file.
    return "ws://127.0.0.1:" + std::to_string(port) + "/ws?room=1&token=s3cr3t-ws";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_file_and_traced_users)

// 4 users each send 3 echoed messages of 64 bytes; users 1 and 2 are traced.
BOOST_DATA_TEST_CASE(websocket_users_1_and_2_log_their_traffic_and_the_others_nothing,
                     boost::unit_test::data::make({"lean", "beast"}), layer)
{
    server_process server(WSLOAD_IM_SERVER, {});
    const auto r = run_logged(WSLOAD_IM_BENCH,
                              {"--target", log_test_ws_url(server.port()), "--mode", "messaging", "--users", "4",
                               "--ramp", "0s", "--duration", "1500ms", "--message-interval", "400ms", "--quiet",
                               "--threads", "2", "--ws-layer", layer, "--log-users", "1-2", "--seed", "7",
                               "--header", "Authorization: Bearer s3cr3t-hdr", "--header", "X-Trace: visible",
                               "--header", "Cookie: sid=s3cr3t-cookie"});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_REQUIRE(!r.lines.empty());
    check_line_format(r);
    const auto url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws?room=1&token=***";
    for (const std::string user : {"1", "2"}) {
        const auto tag = "user_" + user + " ";
        const auto connected = r.starting("websocket", tag + "connected to " + url + " in ");
        BOOST_TEST(connected.size() == 1u, user);
        if (!connected.empty()) BOOST_TEST(connected[0].find("(tcp ") != std::string::npos, connected[0]);
        if (!connected.empty()) BOOST_TEST(connected[0].find(", upgrade ") != std::string::npos, connected[0]);
        // The run's --header lines, their secrets masked.
        const auto added = r.starting("websocket", tag + "upgrade adds: ");
        BOOST_TEST(added.size() == 1u, user);
        if (!added.empty()) BOOST_TEST(added[0] == "Authorization: ***, X-Trace: visible, Cookie: ***");
        // The first message, whole (64 bytes), sent and echoed back.
        const auto head = R"({"from":"u)" + user + R"(","seq":0,"pad":")";
        const auto first = head + std::string(64 - head.size() - 2, 'x') + "\"}";
        const auto sent = r.starting("websocket", tag + "sent: ");
        const auto received = r.starting("websocket", tag + "received: ");
        const auto answered = r.starting("websocket", tag + "request answered in ");
        BOOST_TEST(sent.size() >= 3u, user);
        BOOST_TEST(sent.size() <= 4u, user);
        BOOST_REQUIRE(!sent.empty());
        BOOST_TEST(sent[0] == first);
        BOOST_REQUIRE(!received.empty());
        BOOST_TEST(received[0] == first);
        BOOST_TEST(received.size() == answered.size());
        BOOST_TEST(sent.size() == received.size());
        BOOST_TEST(r.starting("websocket", tag + "closed (client_stop").size() == 1u, user);
    }
    // Nothing per user for users 0 and 3, and the tokens nowhere.
    BOOST_TEST(r.mentioning("user_0") == 0u);
    BOOST_TEST(r.mentioning("user_3") == 0u);
    BOOST_TEST(r.mentioning("s3cr3t") == 0u);
    BOOST_TEST(r.err.find("s3cr3t") == std::string::npos);
}

// Raw TCP: chat_bench's stress users log in with {"password":...}; users 1 and 2 are traced.
BOOST_AUTO_TEST_CASE(tcp_lines_show_the_login_with_its_password_masked, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_CHAT_SERVER, {});
    const auto r = run_logged(WSLOAD_CHAT_BENCH, {"stress", "127.0.0.1", std::to_string(server.port()), "4", "1",
                                                  "--interval", "0.2", "--quiet", "--log-users", "1-2"});
    BOOST_TEST(r.status == 0, r.err);
    check_line_format(r);
    for (const std::string user : {"1", "2"}) {
        const auto tag = "user_" + user + " ";
        BOOST_TEST(r.starting("tcp", tag + "connected to tcp://127.0.0.1:" + std::to_string(server.port()) + " in ").size() ==
                   1u);
        const auto sent = r.starting("tcp", tag + "sent: ");
        BOOST_REQUIRE(!sent.empty());
        // Users log in as first_id (1) + index.
        const auto id = std::to_string(1 + std::stoi(user));
        BOOST_TEST(sent[0] == R"({"msgid":1,"id":)" + id + R"(,"password":"***"})");
        BOOST_TEST(r.starting("tcp", tag + "request \"login\" answered in ").size() == 1u);
        BOOST_TEST(r.starting("tcp", tag + "received: ").size() >= 1u);
    }
    BOOST_TEST(r.mentioning("user_0") == 0u);
    BOOST_TEST(r.mentioning("user_3") == 0u);
    BOOST_TEST(r.mentioning("123456") == 0u);  // chat_bench's password
}

// HTTP: upload_bench's students log in (password in the body, token and Set-Cookie in the
// response) and upload once with "Authorization: Bearer <token>".
BOOST_AUTO_TEST_CASE(http_requests_and_responses_show_status_with_credentials_masked, *boost::unit_test::timeout(60))
{
    server_process server(WSLOAD_UPLOAD_SERVER, {"--password", "hunter2"});
    const auto r = run_logged(WSLOAD_UPLOAD_BENCH,
                              {"--target", "http://127.0.0.1:" + std::to_string(server.port()), "--users", "3",
                               "--uploads", "1", "--period", "200ms", "--min-mb", "0.01", "--max-mb", "0.01",
                               "--duration", "20s", "--ramp", "0s", "--quiet", "--password", "hunter2", "--log-users",
                               "1-2"});
    BOOST_TEST(r.status == 0, r.err);
    check_line_format(r);
    for (const std::string user : {"1", "2"}) {
        const auto tag = "user_" + user + " ";
        const auto requests = r.starting("http", tag + "request: ");
        const auto responses = r.starting("http", tag + "response ");
        BOOST_REQUIRE(requests.size() == 2u);  // the login and the one upload
        BOOST_REQUIRE(responses.size() == 2u);
        BOOST_TEST(requests[0].starts_with("POST /api/login HTTP/1.1\\r\\n"), requests[0]);
        BOOST_TEST(requests[0].find(R"("password":"***")") != std::string::npos, requests[0]);
        BOOST_TEST(responses[0].starts_with("200 in "), responses[0]);
        BOOST_TEST(responses[0].find(R"("token":"***")") != std::string::npos, responses[0]);
        BOOST_TEST(responses[0].find("Set-Cookie: ***\\r\\n") != std::string::npos, responses[0]);
        BOOST_TEST(requests[1].starts_with("POST /api/upload"), requests[1]);
        BOOST_TEST(requests[1].find("\\r\\nAuthorization: ***\\r\\n") != std::string::npos, requests[1]);
        BOOST_TEST(responses[1].starts_with("201 in "), responses[1]);
    }
    BOOST_TEST(r.mentioning("user_0") == 0u);
    BOOST_TEST(r.mentioning("hunter2") == 0u);
    BOOST_TEST(r.mentioning("Bearer") == 0u);
    BOOST_TEST(r.mentioning("session=") == 0u);
}

BOOST_AUTO_TEST_CASE(a_bad_spec_or_a_file_that_cannot_be_opened_is_a_usage_error_before_the_run)
{
    for (const auto& [flag, value, message] :
         {std::tuple<std::string, std::string, std::string>{
              "--log-users", "3-1", "wsload: --log-users: \"3-1\" is not a list of user numbers: 3-1 runs backwards (use e.g. 0-9 or 3,7,100-199)\n"},
          {"--log-file", "/nonexistent-dir/run.log", "wsload: --log-file: cannot write \"/nonexistent-dir/run.log\"\n"}}) {
        child_process p({WSLOAD_IM_BENCH, "--target", "ws://127.0.0.1:9/ws", "--users", "1", "--ramp", "0s", "--duration", "1s",
                         flag, value});
        const auto status = p.wait_for_exit(20s);
        BOOST_REQUIRE(status.has_value());
        BOOST_TEST(*status == 2);
        BOOST_TEST(p.stderr_text() == message);
    }
}

BOOST_AUTO_TEST_SUITE_END()
