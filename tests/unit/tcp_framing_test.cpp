#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <wsload/net/tcp/framing.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace data = boost::unit_test::data;
using wsload::tcp::byte_order;
using wsload::tcp::decoded;
using wsload::tcp::framing;
using framing_status = decoded::status;

constexpr auto framing_unbounded = std::numeric_limits<std::size_t>::max();

// Bytes by value: "\x03" "abc" in a literal is easy to get wrong (\x03abc is one escape).
std::string framing_bytes(std::initializer_list<int> values)
{
    std::string out;
    for (int v : values) out += static_cast<char>(v);
    return out;
}

std::string framing_status_name(framing_status s)
{
    switch (s) {
    case framing_status::incomplete: return "incomplete";
    case framing_status::complete: return "complete";
    case framing_status::too_big: return "too_big";
    case framing_status::invalid: return "invalid";
    }
    return "status " + std::to_string(static_cast<int>(s));
}

bool framing_inside(std::string_view part, std::string_view whole)
{
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// A netstring ("5:hello,") as a scenario would write it: a custom framer that behaves.
decoded framing_netstring_decode(std::string_view in)
{
    auto const colon = in.find(':');
    if (colon == std::string_view::npos)
        return {.what = in.size() > 20 ? framing_status::invalid : framing_status::incomplete};
    if (colon == 0 || colon > 20) return {.what = framing_status::invalid};
    std::size_t length = 0;
    for (char c : in.substr(0, colon)) {
        if (c < '0' || c > '9') return {.what = framing_status::invalid};
        length = length * 10 + static_cast<std::size_t>(c - '0');
    }
    if (in.size() - colon - 1 < length + 1) return {};
    if (in[colon + 1 + length] != ',') return {.what = framing_status::invalid};
    return {framing_status::complete, colon + length + 2, in.substr(colon + 1, length)};
}

void framing_netstring_encode(std::string_view payload, std::string& out)
{
    out += std::to_string(payload.size());
    out += ':';
    out.append(payload);
    out += ',';
}

struct framing_config {
    std::string label;
    framing framer;
    std::vector<std::string> payloads; // what this framer can carry, in the order sent
};
std::ostream& operator<<(std::ostream& os, framing_config const& c) { return os << c.label; }

std::vector<std::string> framing_common_payloads(std::size_t largest)
{
    return {"", "a", "hello, world", "a\rb", framing_bytes({0, 1, 0x7f, 0x80, 0xff}), std::string(largest, 'x')};
}

std::vector<framing_config> framing_configs()
{
    std::vector<framing_config> configs = {
        {"lines", framing::lines(), framing_common_payloads(1000)},
        {"lines ';'", framing::lines(';'), framing_common_payloads(1000)},
        {"lines NUL", framing::lines('\0'), {"", "a", "a\r", "line\n", std::string(300, 'y')}},
        {"fixed 1", framing::fixed(1), {"a", "\n", framing_bytes({0}), "\r"}},
        {"fixed 5", framing::fixed(5), {"hello", "\r\n\r\n\n", framing_bytes({0, 0, 0, 0, 0}), "world"}},
        {"custom netstring", framing::custom(framing_netstring_decode, framing_netstring_encode),
         framing_common_payloads(1000)},
    };
    configs[1].payloads.push_back("a\r");
    configs[1].payloads.push_back("a\nb");
    for (unsigned header : {1u, 2u, 4u, 8u})
        for (auto order : {byte_order::big, byte_order::little})
            for (bool includes : {false, true}) {
                auto f = framing::length_prefixed(header, order, includes);
                // With a 1-byte header the largest payload is exactly the most the header can say.
                auto payloads = framing_common_payloads(header == 1 ? (includes ? 254 : 255) : 1000);
                if (header == 2) payloads.push_back(std::string(includes ? 65533 : 65535, 'z'));
                configs.push_back({f.describe(), f, payloads});
            }
    return configs;
}

std::string framing_encoded(framing const& f, std::string_view payload)
{
    std::string out;
    f.encode(payload, out);
    return out;
}

struct framing_encoding {
    framing framer;
    std::string payload;
    std::string bytes;
};
std::ostream& operator<<(std::ostream& os, framing_encoding const& c)
{
    return os << c.framer.describe() << " \"" << c.payload << '"';
}

std::vector<framing_encoding> const framing_encodings = {
    {framing::lines(), "abc", "abc\n"},
    {framing::lines(), "", "\n"},
    {framing::lines(';'), "a\nb", "a\nb;"},
    {framing::length_prefixed(1), "abc", framing_bytes({3}) + "abc"},
    {framing::length_prefixed(1, byte_order::little, true), "abc", framing_bytes({4}) + "abc"},
    {framing::length_prefixed(2), "abc", framing_bytes({0, 3}) + "abc"},
    {framing::length_prefixed(2, byte_order::little), "abc", framing_bytes({3, 0}) + "abc"},
    {framing::length_prefixed(2, byte_order::big, true), "abc", framing_bytes({0, 5}) + "abc"},
    {framing::length_prefixed(2, byte_order::big), std::string(258, 'q'), framing_bytes({1, 2}) + std::string(258, 'q')},
    {framing::length_prefixed(2, byte_order::little), std::string(258, 'q'), framing_bytes({2, 1}) + std::string(258, 'q')},
    {framing::length_prefixed(4), "abc", framing_bytes({0, 0, 0, 3}) + "abc"},
    {framing::length_prefixed(4, byte_order::little, true), "abc", framing_bytes({7, 0, 0, 0}) + "abc"},
    {framing::length_prefixed(8), "", framing_bytes({0, 0, 0, 0, 0, 0, 0, 0})},
    {framing::length_prefixed(8, byte_order::big, true), "abc", framing_bytes({0, 0, 0, 0, 0, 0, 0, 11}) + "abc"},
    {framing::length_prefixed(8, byte_order::little), "abc", framing_bytes({3, 0, 0, 0, 0, 0, 0, 0}) + "abc"},
    {framing::fixed(3), "abc", "abc"},
    {framing::custom(framing_netstring_decode), "abc", "abc"}, // default encode: as is
    {framing::custom(framing_netstring_decode, framing_netstring_encode), "abc", "3:abc,"},
};

struct framing_decode_case {
    std::string label;
    framing framer;
    std::string input;
    std::size_t max_payload;
    framing_status what;
    std::size_t consumed;
    std::string payload;
};
std::ostream& operator<<(std::ostream& os, framing_decode_case const& c) { return os << c.label; }

std::vector<framing_decode_case> const framing_decode_cases = {
    // lines: CRLF, limits, other delimiters
    {"CRLF stripped", framing::lines(), "abc\r\ndef\n", framing_unbounded, framing_status::complete, 5, "abc"},
    {"bare CRLF", framing::lines(), "\r\n", framing_unbounded, framing_status::complete, 2, ""},
    {"CR inside kept", framing::lines(), "a\rb\n", framing_unbounded, framing_status::complete, 4, "a\rb"},
    {"only one CR stripped", framing::lines(), "a\r\r\n", framing_unbounded, framing_status::complete, 4, "a\r"},
    {"no CR stripping for ';'", framing::lines(';'), "ab\r;", framing_unbounded, framing_status::complete, 4, "ab\r"},
    {"line at the limit", framing::lines(), "abc\n", 3, framing_status::complete, 4, "abc"},
    {"CRLF line at the limit", framing::lines(), "abc\r\n", 3, framing_status::complete, 5, "abc"},
    {"line over the limit", framing::lines(), "abcd\n", 3, framing_status::too_big, 0, ""},
    {"partial line at the limit", framing::lines(), "abc", 3, framing_status::incomplete, 0, ""},
    {"partial line at the limit + CR", framing::lines(), "abc\r", 3, framing_status::incomplete, 0, ""},
    {"partial line over the limit", framing::lines(), "abcd", 3, framing_status::too_big, 0, ""},
    {"two CRs over the limit", framing::lines(), "abc\r\r", 3, framing_status::too_big, 0, ""},
    {"';' line over the limit by its CR", framing::lines(';'), "abc\r", 3, framing_status::too_big, 0, ""},
    {"delimiter far past the limit", framing::lines(), std::string(100, 'x') + "\n", 10, framing_status::too_big, 0, ""},
    {"limit 0, empty line", framing::lines(), "\n", 0, framing_status::complete, 1, ""},
    {"limit 0, one byte", framing::lines(), "a", 0, framing_status::too_big, 0, ""},
    {"limit 0, a CR", framing::lines(), "\r", 0, framing_status::incomplete, 0, ""},
    {"empty buffer", framing::lines(), "", 0, framing_status::incomplete, 0, ""},
    // length-prefixed: too_big from the header alone, invalid lengths, 8-byte extremes
    {"too big from the header", framing::length_prefixed(4), framing_bytes({0, 0, 1, 0}), 255,
     framing_status::too_big, 0, ""},
    {"at the limit, waiting", framing::length_prefixed(4), framing_bytes({0, 0, 1, 0}), 256,
     framing_status::incomplete, 0, ""},
    {"little-endian too big", framing::length_prefixed(2, byte_order::little), framing_bytes({0, 1}), 255,
     framing_status::too_big, 0, ""},
    {"includes-header too big", framing::length_prefixed(2, byte_order::big, true), framing_bytes({0, 7}), 4,
     framing_status::too_big, 0, ""},
    {"includes-header at the limit", framing::length_prefixed(2, byte_order::big, true),
     framing_bytes({0, 7}) + "abcde", 5, framing_status::complete, 7, "abcde"},
    {"length below the header", framing::length_prefixed(2, byte_order::big, true), framing_bytes({0, 1}),
     framing_unbounded, framing_status::invalid, 0, ""},
    {"length 0 with header included", framing::length_prefixed(4, byte_order::little, true),
     framing_bytes({0, 0, 0, 0}), framing_unbounded, framing_status::invalid, 0, ""},
    {"length of the header alone", framing::length_prefixed(2, byte_order::big, true), framing_bytes({0, 2}) + "x",
     framing_unbounded, framing_status::complete, 2, ""},
    {"header split", framing::length_prefixed(8), framing_bytes({0xff, 0xff, 0xff}), 0, framing_status::incomplete,
     0, ""},
    {"8-byte length past size_t", framing::length_prefixed(8),
     framing_bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), framing_unbounded, framing_status::too_big, 0, ""},
    {"8-byte length, header included, fits size_t", framing::length_prefixed(8, byte_order::big, true),
     framing_bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), framing_unbounded, framing_status::incomplete,
     0, ""},
    {"8-byte length over a 1 MiB limit", framing::length_prefixed(8, byte_order::little),
     framing_bytes({1, 0, 0x10, 0, 0, 0, 0, 0}), 1 << 20, framing_status::too_big, 0, ""},
    {"1-byte header, empty payload", framing::length_prefixed(1), framing_bytes({0, 9}), 0, framing_status::complete,
     1, ""},
    // fixed
    {"fixed, empty buffer over the limit", framing::fixed(3), "", 2, framing_status::incomplete, 0, ""},
    {"fixed, begun over the limit", framing::fixed(3), "a", 2, framing_status::too_big, 0, ""},
    {"fixed, waiting", framing::fixed(3), "ab", 3, framing_status::incomplete, 0, ""},
    {"fixed, one of two", framing::fixed(3), "abcdef", 3, framing_status::complete, 3, "abc"},
};

// A custom decode that misbehaves: returns `answer(buffered)` for a fixed buffer.
struct framing_misbehaving {
    std::string label;
    std::function<decoded(std::string_view)> answer;
    std::size_t max_payload;
    framing_status what;
    std::size_t consumed;       // expected
    std::size_t payload_offset; // expected, into the buffer
    std::size_t payload_size;   // expected
};
std::ostream& operator<<(std::ostream& os, framing_misbehaving const& c) { return os << c.label; }

std::string const framing_elsewhere = "abcdefgh";

std::vector<framing_misbehaving> const framing_misbehavings = {
    {"consumes more than buffered", [](std::string_view b) { return decoded{framing_status::complete, b.size() + 1, b}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"consumes nothing", [](std::string_view b) { return decoded{framing_status::complete, 0, b.substr(0, 0)}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"payload in another string",
     [](std::string_view) { return decoded{framing_status::complete, 4, std::string_view(framing_elsewhere).substr(0, 2)}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"payload runs past the frame", [](std::string_view b) { return decoded{framing_status::complete, 4, b.substr(2, 3)}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"payload in the next frame", [](std::string_view b) { return decoded{framing_status::complete, 4, b.substr(5, 1)}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"payload starts before the buffer",
     [](std::string_view b) { return decoded{framing_status::complete, 4, std::string_view(b.data() - 1, 2)}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"status outside the enumeration",
     [](std::string_view b) { return decoded{static_cast<framing_status>(7), 4, b.substr(0, 4)}; }, framing_unbounded,
     framing_status::invalid, 0, 0, 0},
    {"incomplete with leftovers", [](std::string_view b) { return decoded{framing_status::incomplete, 5, b}; },
     framing_unbounded, framing_status::incomplete, 0, 0, 0},
    {"invalid with leftovers", [](std::string_view b) { return decoded{framing_status::invalid, 5, b}; },
     framing_unbounded, framing_status::invalid, 0, 0, 0},
    {"its own too_big", [](std::string_view b) { return decoded{framing_status::too_big, 5, b}; }, framing_unbounded,
     framing_status::too_big, 0, 0, 0},
    {"payload over max_payload", [](std::string_view b) { return decoded{framing_status::complete, 4, b.substr(1, 3)}; },
     2, framing_status::too_big, 0, 0, 0},
    {"payload at max_payload", [](std::string_view b) { return decoded{framing_status::complete, 4, b.substr(1, 3)}; },
     3, framing_status::complete, 4, 1, 3},
    {"whole buffer as the frame", [](std::string_view b) { return decoded{framing_status::complete, b.size(), b}; },
     framing_unbounded, framing_status::complete, 8, 0, 8},
    {"empty payload pointing elsewhere",
     [](std::string_view) { return decoded{framing_status::complete, 3, std::string_view(framing_elsewhere).substr(1, 0)}; },
     framing_unbounded, framing_status::complete, 3, 0, 0},
    {"default-constructed payload", [](std::string_view) { return decoded{framing_status::complete, 3, {}}; },
     framing_unbounded, framing_status::complete, 3, 0, 0},
};

} // namespace

BOOST_AUTO_TEST_SUITE(tcp_framing)

BOOST_DATA_TEST_CASE(encode_then_decode_gives_the_payload_back, data::make(framing_configs()), c)
{
    for (auto const& payload : c.payloads) {
        BOOST_TEST_CONTEXT("payload of " << payload.size() << " bytes")
        {
            std::string out = "before";
            c.framer.encode(payload, out);
            BOOST_TEST(out.substr(0, 6) == "before");
            std::string_view const frame = std::string_view(out).substr(6);
            auto const d = c.framer.decode(frame, framing_unbounded);
            BOOST_TEST(framing_status_name(d.what) == "complete");
            BOOST_TEST(d.consumed == frame.size());
            BOOST_TEST(std::string(d.payload) == payload);
            BOOST_TEST(framing_inside(d.payload, frame));
            // The limit is inclusive, and one byte less is too_big from the same bytes.
            BOOST_TEST(framing_status_name(c.framer.decode(frame, payload.size()).what) == "complete");
            if (!payload.empty())
                BOOST_TEST(framing_status_name(c.framer.decode(frame, payload.size() - 1).what) == "too_big");
        }
    }
}

BOOST_DATA_TEST_CASE(every_split_point_of_a_frame_is_incomplete, data::make(framing_configs()), c)
{
    for (auto const& payload : c.payloads) {
        auto const frame = framing_encoded(c.framer, payload);
        for (std::size_t cut = 0; cut < frame.size(); ++cut) {
            auto const d = c.framer.decode(std::string_view(frame).substr(0, cut), framing_unbounded);
            if (d.what != framing_status::incomplete || d.consumed != 0 || !d.payload.empty())
                BOOST_TEST_ERROR("payload of " << payload.size() << " bytes cut at " << cut << ": "
                                               << framing_status_name(d.what) << ", consumed " << d.consumed);
        }
    }
}

BOOST_DATA_TEST_CASE(several_frames_in_one_buffer_come_out_in_order, data::make(framing_configs()), c)
{
    std::string stream;
    for (auto const& payload : c.payloads) c.framer.encode(payload, stream);
    auto const first = framing_encoded(c.framer, c.payloads.front());
    auto const partial = first.substr(0, first.size() - 1);
    stream += partial;

    std::vector<std::string> got;
    std::string_view rest = stream;
    for (;;) {
        auto const d = c.framer.decode(rest, framing_unbounded);
        if (d.what != framing_status::complete) {
            BOOST_TEST(framing_status_name(d.what) == "incomplete");
            break;
        }
        BOOST_REQUIRE(got.size() < c.payloads.size());
        got.emplace_back(d.payload);
        rest.remove_prefix(d.consumed);
    }
    BOOST_TEST(got == c.payloads, boost::test_tools::per_element());
    BOOST_TEST(std::string(rest) == partial);
}

BOOST_DATA_TEST_CASE(encodes_exact_bytes, data::make(framing_encodings), c)
{
    BOOST_TEST(framing_encoded(c.framer, c.payload) == c.bytes);
}

BOOST_DATA_TEST_CASE(decodes_exactly, data::make(framing_decode_cases), c)
{
    auto const d = c.framer.decode(c.input, c.max_payload);
    BOOST_TEST(framing_status_name(d.what) == framing_status_name(c.what));
    BOOST_TEST(d.consumed == c.consumed);
    BOOST_TEST(std::string(d.payload) == c.payload);
    if (d.what == framing_status::complete) BOOST_TEST(framing_inside(d.payload, c.input));
}

BOOST_AUTO_TEST_CASE(refuses_payloads_it_cannot_frame_and_leaves_out_alone)
{
    auto const refusal = [](framing const& f, std::string const& payload) {
        std::string out = "kept";
        std::string message;
        try {
            f.encode(payload, out);
            message = "(no error)";
        } catch (std::length_error const& e) {
            message = e.what();
        }
        BOOST_TEST(out == "kept");
        return message;
    };
    auto const prefix = std::string("wsload::tcp: a ");
    BOOST_TEST(refusal(framing::length_prefixed(1), std::string(256, 'x')) ==
               prefix + "256-byte payload cannot be framed as length-prefixed (1 byte, excluding header): "
                        "the header says at most 255 bytes");
    BOOST_TEST(refusal(framing::length_prefixed(1, byte_order::big, true), std::string(255, 'x')) ==
               prefix + "255-byte payload cannot be framed as length-prefixed (1 byte, including header): "
                        "the header says at most 254 bytes");
    BOOST_TEST(refusal(framing::length_prefixed(2, byte_order::little), std::string(65536, 'x')) ==
               prefix + "65536-byte payload cannot be framed as length-prefixed (2 bytes, little-endian, "
                        "excluding header): the header says at most 65535 bytes");
    BOOST_TEST(refusal(framing::length_prefixed(2, byte_order::big, true), std::string(65534, 'x')) ==
               prefix + "65534-byte payload cannot be framed as length-prefixed (2 bytes, big-endian, "
                        "including header): the header says at most 65533 bytes");
    BOOST_TEST(refusal(framing::lines(), "a\nb") ==
               prefix + "3-byte payload cannot be framed as lines: it holds the delimiter");
    BOOST_TEST(refusal(framing::lines(), "a\r") == prefix + "2-byte payload cannot be framed as lines: it ends in \\r");
    BOOST_TEST(refusal(framing::lines(';'), "a;") ==
               prefix + "2-byte payload cannot be framed as lines (delimiter \";\"): it holds the delimiter");
    BOOST_TEST(refusal(framing::fixed(3), "ab") ==
               prefix + "2-byte payload cannot be framed as fixed (3 bytes): every message is 3 bytes");
    BOOST_TEST(refusal(framing::fixed(3), "abcd") ==
               prefix + "4-byte payload cannot be framed as fixed (3 bytes): every message is 3 bytes");
}

BOOST_AUTO_TEST_CASE(a_custom_encode_that_throws_leaves_out_alone)
{
    auto const f = framing::custom(framing_netstring_decode, [](std::string_view payload, std::string& out) {
        out += "half a frame";
        throw std::length_error(std::string(payload));
    });
    std::string out = "kept";
    BOOST_CHECK_THROW(f.encode("x", out), std::length_error);
    BOOST_TEST(out == "kept");
}

BOOST_AUTO_TEST_CASE(factories_refuse_bad_settings_in_one_line)
{
    auto const message = [](auto make) -> std::string {
        try {
            make();
        } catch (std::invalid_argument const& e) {
            return e.what();
        }
        return "(no error)";
    };
    for (unsigned header : {0u, 3u, 5u, 16u})
        BOOST_TEST(message([&] { framing::length_prefixed(header); }) ==
                   "wsload::tcp::framing::length_prefixed: a " + std::to_string(header) +
                       "-byte header (use 1, 2, 4 or 8)");
    BOOST_TEST(message([] { framing::fixed(0); }) == "wsload::tcp::framing::fixed: a size of 0 (use 1 byte or more)");
    BOOST_TEST(message([] { framing::custom({}); }) ==
               "wsload::tcp::framing::custom: no decode function (pass one)");
}

BOOST_AUTO_TEST_CASE(describes_itself)
{
    BOOST_TEST(framing().describe() == "lines");
    BOOST_TEST(framing::lines().describe() == "lines");
    BOOST_TEST(framing::lines(';').describe() == "lines (delimiter \";\")");
    BOOST_TEST(framing::lines('\0').describe() == "lines (delimiter \"\\x00\")");
    BOOST_TEST(framing::length_prefixed(4).describe() == "length-prefixed (4 bytes, big-endian, excluding header)");
    BOOST_TEST(framing::length_prefixed(2, byte_order::little, true).describe() ==
               "length-prefixed (2 bytes, little-endian, including header)");
    BOOST_TEST(framing::length_prefixed(1, byte_order::little).describe() == "length-prefixed (1 byte, excluding header)");
    BOOST_TEST(framing::fixed(1).describe() == "fixed (1 byte)");
    BOOST_TEST(framing::fixed(16).describe() == "fixed (16 bytes)");
    BOOST_TEST(framing::custom(framing_netstring_decode).describe() == "custom");
}

BOOST_AUTO_TEST_CASE(copies_decode_alike)
{
    auto const original = framing::custom(framing_netstring_decode, framing_netstring_encode);
    framing copy;
    BOOST_TEST(framing_encoded(copy, "abc") == "abc\n"); // the default is lines
    copy = original;
    auto const d = copy.decode("3:abc,", framing_unbounded);
    BOOST_TEST(framing_status_name(d.what) == "complete");
    BOOST_TEST(std::string(d.payload) == "abc");
    BOOST_TEST(framing_encoded(copy, "abc") == "3:abc,");
}

BOOST_DATA_TEST_CASE(a_misbehaving_custom_decode_is_never_trusted, data::make(framing_misbehavings), c)
{
    // Bytes on either side of the buffered view, so that a view just outside it is a valid pointer.
    std::string const buffer = "0123456789";
    auto const buffered = std::string_view(buffer).substr(1, 8);
    auto const d = framing::custom(c.answer).decode(buffered, c.max_payload);
    BOOST_TEST(framing_status_name(d.what) == framing_status_name(c.what));
    BOOST_TEST(d.consumed == c.consumed);
    BOOST_TEST(d.payload.size() == c.payload_size);
    if (d.what == framing_status::complete)
        BOOST_TEST(d.payload.data() == buffered.data() + c.payload_offset);
    else
        BOOST_TEST(d.payload.empty());
}

BOOST_AUTO_TEST_SUITE_END()
