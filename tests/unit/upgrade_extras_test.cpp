#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// What a WebSocket upgrade carries besides the handshake's own lines (net/upgrade_extras.hpp,
// websocket_options' header, origin, query, cookie): checked where they are given, encoded,
// merged with the run's --header lines and a cookie jar, and written the same by both layers.
#include <wsload/core/error.hpp>
#include <wsload/net/upgrade_extras.hpp>
#include <wsload/net/websocket/detail/upgrade.hpp>
#include <wsload/runtime/user.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

using wsload::net::header_field;

/// The message of the usage_error `f` throws; "(no error)" when it throws none.
template <class F>
std::string extras_error(F f)
{
    try {
        f();
    } catch (const wsload::usage_error& e) {
        return e.what();
    }
    return "(no error)";
}

const wsload::net::url extras_target = wsload::net::parse_url("ws://chat.test:8080/ws?room=7");

}  // namespace

BOOST_AUTO_TEST_SUITE(upgrade_extras)

BOOST_AUTO_TEST_CASE(query_parameters_are_percent_encoded_after_the_urls_own)
{
    BOOST_TEST(wsload::net::percent_encode("AZaz09-._~") == "AZaz09-._~");
    BOOST_TEST(wsload::net::percent_encode("a b&c=d/e?f#g+h%") == "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
    BOOST_TEST(wsload::net::percent_encode("caf\xc3\xa9\n") == "caf%C3%A9%0A");

    wsload::net::upgrade_extras e;
    e.query("token", "a.b/c=");
    e.query("user name", "J\xc3\xbcrgen & co");
    auto u = extras_target;
    e.apply_query(u);
    BOOST_TEST(u.target == "/ws?room=7&token=a.b%2Fc%3D&user%20name=J%C3%BCrgen%20%26%20co");

    for (const auto& [before, after] : std::vector<std::pair<std::string, std::string>>{
             {"/", "/?token=t"}, {"/ws", "/ws?token=t"}, {"/ws?", "/ws?token=t"}, {"/ws?a=1&", "/ws?a=1&token=t"}}) {
        wsload::net::url v;
        v.target = before;
        wsload::net::upgrade_extras t;
        t.query("token", "t");
        t.apply_query(v);
        BOOST_TEST(v.target == after);
    }
    BOOST_TEST(extras_error([] { wsload::net::upgrade_extras().query("", "x"); }) == "a query parameter needs a name");
}

BOOST_DATA_TEST_CASE(a_header_the_handshake_sets_cannot_be_given,
                     boost::unit_test::data::make(std::vector<std::string>{
                         "Host", "upgrade", "CONNECTION", "Sec-WebSocket-Key", "sec-websocket-version",
                         "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"}),
                     name)
{
    BOOST_TEST(extras_error([&] { wsload::net::upgrade_extras().header(name, "x"); }) ==
               "\"" + name + "\" is set by the WebSocket handshake itself and cannot be given");
    BOOST_TEST(extras_error([&] { wsload::websocket_options().header(name, "x"); }) ==
               "websocket_options::header: \"" + name + "\" is set by the WebSocket handshake itself and cannot be given");
}

BOOST_AUTO_TEST_CASE(misuse_is_a_one_line_usage_error_at_the_option)
{
    BOOST_TEST(extras_error([] { wsload::websocket_options().header("Sec-WebSocket-Protocol", "chat"); }) ==
               "websocket_options::header: \"Sec-WebSocket-Protocol\" is set by the WebSocket handshake: ask for a "
               "subprotocol with .subprotocol(\"name\")");
    BOOST_TEST(extras_error([] { wsload::websocket_options().header("X Token", "1"); }) ==
               "websocket_options::header: \"X Token\" is not a valid HTTP header name");
    BOOST_TEST(extras_error([] { wsload::websocket_options().header("", "1"); }) ==
               "websocket_options::header: \"\" is not a valid HTTP header name");
    for (const std::string& value : {std::string("a\r\nX-Evil: 1"), std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3)}) {
        BOOST_TEST(extras_error([&] { wsload::websocket_options().header("X-Token", value); }) ==
                   "websocket_options::header: the value of HTTP header \"X-Token\" holds a line break or a NUL byte");
        BOOST_TEST(extras_error([&] { wsload::websocket_options().origin(value); }) ==
                   "websocket_options::origin: the value of HTTP header \"Origin\" holds a line break or a NUL byte");
    }
    BOOST_TEST(extras_error([] { wsload::websocket_options().cookie("a b", "1"); }) ==
               "websocket_options::cookie: \"a b\" is not a valid cookie name");
    BOOST_TEST(extras_error([] { wsload::websocket_options().cookie("sid", "1; admin=1"); }) ==
               "websocket_options::cookie: the value of cookie \"sid\" holds a control byte or ';' (percent-encode it)");
    BOOST_TEST(extras_error([] { wsload::websocket_options().cookie("sid", "a\r\nb"); }) ==
               "websocket_options::cookie: the value of cookie \"sid\" holds a control byte or ';' (percent-encode it)");
    BOOST_TEST(extras_error([] { wsload::websocket_options().header("Cookie", "ok=1; b@d=2"); }) ==
               "websocket_options::header: \"b@d\" is not a valid cookie name");
    // What a header may hold otherwise is the server's business.
    BOOST_TEST(extras_error([] {
                   wsload::websocket_options()
                       .header("X_custom!#$%&'*+.^`|~", "tab\tinside, \"quotes\" and: colons")
                       .header("User-Agent", "k6/0.49")
                       .origin("")
                       .query("q", "\r\n");
               }) == "(no error)");
}

BOOST_AUTO_TEST_CASE(lines_merge_the_run_wide_headers_the_jar_and_the_connections_own)
{
    wsload::http::cookie_jar jar;
    jar.set("session=s1; Path=/", "chat.test", "/login");
    jar.set("theme=dark", "chat.test", "/login");
    jar.set("other=no", "elsewhere.test", "/");
    jar.set("secure=no; Secure", "chat.test", "/");  // ws://: not sent

    wsload::net::upgrade_extras e;
    e.header("X-Trace", "1");
    e.header("Authorization", "Bearer mine");
    e.header("X-Trace", "2");                 // a name may repeat, in order
    e.origin("https://first.test");
    e.header("Origin", "https://app.test");  // replaces the first, where it stood
    e.cookie("theme", "light");               // wins over the jar's
    e.header("Cookie", "lang=en; a=1");
    e.cookies_from(jar);
    const std::vector<header_field> run_wide{
        {"Authorization", "Bearer run"}, {"X-Run", "r"}, {"Cookie", "a=0; run=1"}, {"authorization", "Bearer run2"}};

    const std::vector<header_field> expected{
        {"X-Run", "r"},
        {"X-Trace", "1"},
        {"Authorization", "Bearer mine"},
        {"X-Trace", "2"},
        {"Origin", "https://app.test"},
        {"Cookie", "run=1; session=s1; theme=light; lang=en; a=1"},
    };
    BOOST_TEST((e.lines(run_wide, extras_target) == expected));

    BOOST_TEST((wsload::net::upgrade_extras().lines({}, extras_target).empty()));
    BOOST_TEST((wsload::net::upgrade_extras().lines(run_wide, extras_target) ==
                std::vector<header_field>{{"Authorization", "Bearer run"}, {"X-Run", "r"}, {"authorization", "Bearer run2"},
                                          {"Cookie", "a=0; run=1"}}));
}

BOOST_AUTO_TEST_CASE(the_lean_layer_writes_the_extras_after_the_handshakes_lines)
{
    wsload::net::detail::ws_connect_options o;
    o.subprotocol = "chat";
    o.headers = {{"Origin", "https://app.test"}, {"Cookie", "a=1; b=2"}};
    BOOST_TEST(wsload::net::detail::make_upgrade_request(extras_target, "S2V5", o) ==
               "GET /ws?room=7 HTTP/1.1\r\nHost: chat.test:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: S2V5\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"
               "User-Agent: wsload\r\nOrigin: https://app.test\r\nCookie: a=1; b=2\r\n\r\n");
    o.headers = {{"X-A", "1"}, {"Origin", "o"}, {"x-a", "2"}, {"X-B", "3"}, {"X-A", "4"}};  // as Beast orders them
    BOOST_TEST(wsload::net::detail::make_upgrade_request(extras_target, "S2V5", o).ends_with(
        "Sec-WebSocket-Protocol: chat\r\nUser-Agent: wsload\r\nX-A: 1\r\nx-a: 2\r\nX-A: 4\r\nOrigin: o\r\nX-B: 3\r\n\r\n"));
    o.subprotocol.clear();
    o.headers = {{"user-agent", "k6/0.49"}};  // the user's replaces wsload's
    BOOST_TEST(wsload::net::detail::make_upgrade_request(extras_target, "S2V5", o) ==
               "GET /ws?room=7 HTTP/1.1\r\nHost: chat.test:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: S2V5\r\nSec-WebSocket-Version: 13\r\nuser-agent: k6/0.49\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(logged_extras_keep_their_secrets_masked)
{
    BOOST_TEST(wsload::mask_secrets("Cookie: session=s1") == "Cookie: ***");
    BOOST_TEST(wsload::mask_secrets("Authorization: Bearer abc") == "Authorization: ***");
    BOOST_TEST(wsload::mask_secrets("X-Auth-Token: abc") == "X-Auth-Token: ***");
    BOOST_TEST(wsload::mask_secrets("x-api-key: abc") == "x-api-key: ***");
    BOOST_TEST(wsload::mask_secrets("Origin: https://app.test") == "Origin: https://app.test");
    BOOST_TEST(wsload::mask_secrets("your token: is here") == "your token: is here");  // prose, not a header

    wsload::net::upgrade_extras e;
    e.query("access_token", "a&b=c");
    e.query("room", "7");
    auto u = extras_target;
    e.apply_query(u);
    BOOST_TEST(wsload::mask_secrets(u.to_string()) == "ws://chat.test:8080/ws?room=7&access_token=***&room=7");
}

BOOST_AUTO_TEST_SUITE_END()
