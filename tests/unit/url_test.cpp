#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <wsload/core/error.hpp>
#include <wsload/net/url.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace data = boost::unit_test::data;

struct good_url {
    std::string text;
    std::string scheme;
    std::string host;
    std::uint16_t port;
    std::string target;
    bool tls;
    std::string host_header;
    std::string canonical;
};
std::ostream& operator<<(std::ostream& os, const good_url& c) { return os << '"' << c.text << '"'; }

struct bad_url {
    std::string text;
    std::string reason; ///< the message is: "<text>" is not a supported URL: <reason> (use ...)
};
std::ostream& operator<<(std::ostream& os, const bad_url& c) { return os << '"' << c.text << '"'; }

const std::vector<good_url> good_urls = {
    {"ws://localhost:8080/chat", "ws", "localhost", 8080, "/chat", false, "localhost:8080",
     "ws://localhost:8080/chat"},
    {"ws://example.com", "ws", "example.com", 80, "/", false, "example.com", "ws://example.com/"},
    {"wss://example.com", "wss", "example.com", 443, "/", true, "example.com",
     "wss://example.com/"},
    {"WSS://Example.COM:443/Path?Q=A", "wss", "example.com", 443, "/Path?Q=A", true,
     "example.com", "wss://example.com/Path?Q=A"},
    {"wss://example.com:80/", "wss", "example.com", 80, "/", true, "example.com:80",
     "wss://example.com:80/"},
    {"http://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket", "http", "127.0.0.1", 3000,
     "/socket.io/?EIO=4&transport=websocket", false, "127.0.0.1:3000",
     "http://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"},
    {"https://api.example.com/v1#section", "https", "api.example.com", 443, "/v1", true,
     "api.example.com", "https://api.example.com/v1"},
    {"ws://host?x=1", "ws", "host", 80, "/?x=1", false, "host", "ws://host/?x=1"},
    {"ws://host#frag", "ws", "host", 80, "/", false, "host", "ws://host/"},
    {"ws://host:65535/a%20b", "ws", "host", 65535, "/a%20b", false, "host:65535",
     "ws://host:65535/a%20b"},
    {"ws://host:00080/", "ws", "host", 80, "/", false, "host", "ws://host/"},
    {"ws://[::1]:9001/", "ws", "::1", 9001, "/", false, "[::1]:9001", "ws://[::1]:9001/"},
    {"wss://[2001:DB8::1]/x", "wss", "2001:db8::1", 443, "/x", true, "[2001:db8::1]",
     "wss://[2001:db8::1]/x"},
    {"ws://[::ffff:192.0.2.1]", "ws", "::ffff:192.0.2.1", 80, "/", false, "[::ffff:192.0.2.1]",
     "ws://[::ffff:192.0.2.1]/"},
    {"ws://[1:2:3:4:5:6:7:8]:1", "ws", "1:2:3:4:5:6:7:8", 1, "/", false, "[1:2:3:4:5:6:7:8]:1",
     "ws://[1:2:3:4:5:6:7:8]:1/"},
    {"ws://[::]/", "ws", "::", 80, "/", false, "[::]", "ws://[::]/"},
    {"tcp://10.0.0.1:9000", "tcp", "10.0.0.1", 9000, "/", false, "10.0.0.1:9000",
     "tcp://10.0.0.1:9000"},
    {"tls://broker:8883", "tls", "broker", 8883, "/", true, "broker:8883", "tls://broker:8883"},
    {"tls://broker", "tls", "broker", 443, "/", true, "broker", "tls://broker"},
    {"ws://my_host-1.local./", "ws", "my_host-1.local.", 80, "/", false, "my_host-1.local.",
     "ws://my_host-1.local./"},
};

const std::string hint = " (use ws://host:port/path or wss://...)";

std::string error_of(std::string_view text)
{
    try {
        wsload::net::parse_url(text);
    } catch (const wsload::usage_error& e) {
        return e.what();
    }
    return "no error";
}

const std::vector<bad_url> bad_urls = {
    {"ftp://x", R"(scheme "ftp" is not one of ws, wss, http, https, tcp, tls)"},
    {"localhost:8080", "it does not start with a scheme such as ws://"},
    {"//host/", "it does not start with a scheme such as ws://"},
    {"", "it does not start with a scheme such as ws://"},
    {"1ws://host", "it does not start with a scheme such as ws://"},
    {"ws:/host", "it does not start with a scheme such as ws://"},
    {"ws://", "the host is empty"},
    {"ws:///path", "the host is empty"},
    {"ws://:8080/", "the host is empty"},
    {"ws://host:0/", R"(port "0" is not a number from 1 to 65535)"},
    {"ws://host:65536/", R"(port "65536" is not a number from 1 to 65535)"},
    {"ws://host:99999999999/", R"(port "99999999999" is not a number from 1 to 65535)"},
    {"ws://host:http/", R"(port "http" is not a number from 1 to 65535)"},
    {"ws://host:-1/", R"(port "-1" is not a number from 1 to 65535)"},
    {"ws://host:/", R"(port "" is not a number from 1 to 65535)"},
    {"ws://host:80:81/", R"(port "80:81" is not a number from 1 to 65535)"},
    {"ws://user:pw@host/", "user info (user@host) is not supported"},
    {"ws://user@host/", "user info (user@host) is not supported"},
    {"ws://ho st/", "it contains a space or control character"},
    {" ws://host/", "it contains a space or control character"},
    {"ws://host/\t", "it contains a space or control character"},
    {"ws://host/\x7f", "it contains a space or control character"},
    {"ws://h\xc3\xb6st/", "it contains a non-ASCII character (percent-encode it)"},
    {"tcp://host", "tcp:// needs a port, as in tcp://host:9000"},
    {"ws://ho!st/", "'!' is not allowed in a host name"},
    {"ws://[::1/", "'[' opens an IPv6 address that ']' does not close"},
    {"ws://[::1]x/", "unexpected text after the IPv6 address"},
    {"ws://[]/", R"("" is not an IPv6 address)"},
    {"ws://[1::2::3]/", R"("1::2::3" is not an IPv6 address)"},
    {"ws://[12345::]/", R"("12345::" is not an IPv6 address)"},
    {"ws://[1:2:3:4:5:6:7]/", R"("1:2:3:4:5:6:7" is not an IPv6 address)"},
    {"ws://[1:2:3:4:5:6:7:8:9]/", R"("1:2:3:4:5:6:7:8:9" is not an IPv6 address)"},
    {"ws://[1:2:3:4:5:6:7::8]/", R"("1:2:3:4:5:6:7::8" is not an IPv6 address)"},
    {"ws://[:1::]/", R"(":1::" is not an IPv6 address)"},
    {"ws://[1:]/", R"("1:" is not an IPv6 address)"},
    {"ws://[g::1]/", R"("g::1" is not an IPv6 address)"},
    {"ws://[1.2.3.4::]/", R"("1.2.3.4::" is not an IPv6 address)"},
    {"ws://[fe80::1%25eth0]/", R"("fe80::1%25eth0" is not an IPv6 address)"},
    {"ws://256.0.0.1/", R"("256.0.0.1" is not an IPv4 address)"},
    {"ws://1.2.3/", R"("1.2.3" is not an IPv4 address)"},
    {"ws://1.2.3.4.5/", R"("1.2.3.4.5" is not an IPv4 address)"},
    {"ws://1..2.3/", R"("1..2.3" is not an IPv4 address)"},
    {"ws://::1/", "the host is empty"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(url)

BOOST_DATA_TEST_CASE(parses_good_input, data::make(good_urls), c)
{
    const auto u = wsload::net::parse_url(c.text);
    BOOST_TEST(u.scheme == c.scheme);
    BOOST_TEST(u.host == c.host);
    BOOST_TEST(u.port == c.port);
    BOOST_TEST(u.target == c.target);
    BOOST_TEST(u.tls == c.tls);
    BOOST_TEST(u.host_header() == c.host_header);
    BOOST_TEST(u.to_string() == c.canonical);
}

BOOST_DATA_TEST_CASE(canonical_form_reads_back_unchanged, data::make(good_urls), c)
{
    const auto u = wsload::net::parse_url(c.canonical);
    BOOST_TEST(u.to_string() == c.canonical);
    BOOST_TEST(u.host == c.host);
    BOOST_TEST(u.port == c.port);
}

BOOST_DATA_TEST_CASE(rejects_bad_input_saying_why, data::make(bad_urls), c)
{
    BOOST_TEST(error_of(c.text) ==
               wsload::detail::quoted(c.text) + " is not a supported URL: " + c.reason + hint);
}

BOOST_AUTO_TEST_CASE(error_messages_are_one_line_and_quote_the_input)
{
    BOOST_TEST(error_of("ftp://x") ==
               R"("ftp://x" is not a supported URL: scheme "ftp" is not one of ws, wss, http, )"
               R"(https, tcp, tls (use ws://host:port/path or wss://...))");
    BOOST_TEST(error_of("ws://a/\n\"") ==
               R"("ws://a/\x0a\"" is not a supported URL: it contains a space or control )"
               R"(character (use ws://host:port/path or wss://...))");
}

BOOST_AUTO_TEST_SUITE_END()
