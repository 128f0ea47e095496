// libFuzzer target: wsload's own WebSocket frame parser, the lean layer's read path
// (net/websocket/detail/frame.hpp: frame_parser) and its UTF-8 validator (net/websocket/detail/utf8_validator.hpp).
// Input: two option bytes, then what the server sends after the upgrade.
//   byte 0: low 6 bits, the bytes per feed call (0: varied sizes, empty feeds included, drawn
//           from byte 1); bits 6-7, the message limit: 64 KiB, none (SIZE_MAX), 125 or 0 (bit 7
//           is the small limit, as in fuzz_frames; bit 6 the extreme of each)
//   byte 1: the seed of the varied sizes
// Checked:
//   - cuts change nothing: the stream fed in one call and fed in pieces give the same events
//     (kind, bytes, binary or not, close code and reason) and the same frame_error;
//   - the parser agrees, event for event and on the error, with reference_decode below, which
//     is written from RFC 6455 section 5 and knows nothing of the parser;
//   - what the handler gets is legal: messages within the limit, control payloads <= 125
//     bytes, text and close reasons valid UTF-8 by Beast's checker (an independent one), close
//     codes 0 or allowed, nothing after a close; after a close or an error input is ignored;
//   - utf8_validator and Beast's utf8_checker give the same verdicts on the raw stream cut at
//     the same points;
//   - once per process, is_valid_close_code against the reference's table, for every code.
// The parser reads each piece from its own heap block, so ASan sees a read past a piece, or a
// view into an earlier piece kept after its call.

#include "fuzz_check.hpp"

#include <wsload/net/websocket/detail/utf8_validator.hpp>
#include <wsload/net/websocket/detail/frame.hpp>

#include <boost/beast/websocket/detail/utf8_checker.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using wsload::net::detail::frame_error;
using wsload::net::detail::frame_parser;
using wsload::net::detail::utf8_validator;
using beast_utf8_checker = boost::beast::websocket::detail::utf8_checker;

struct lean_options {
    std::size_t read_size = 0;  ///< bytes per feed call; 0: varied
    std::uint8_t seed = 0;
    std::size_t max_message = 64 * 1024;

    static lean_options take(std::string_view& input)
    {
        // 64 KiB as wsload's default; no limit at all tests the length arithmetic near
        // SIZE_MAX; 125 lets a message cut in fragments outgrow it; 0 allows empty messages only.
        static constexpr std::size_t limits[] = {64 * 1024, SIZE_MAX, 125, 0};
        lean_options o;
        const auto byte = [&input]() -> unsigned {
            if (input.empty()) return 0;
            const auto b = static_cast<unsigned char>(input.front());
            input.remove_prefix(1);
            return b;
        };
        const unsigned b0 = byte();
        o.seed = static_cast<std::uint8_t>(byte());
        o.read_size = b0 & 0x3f;
        o.max_message = limits[b0 >> 6];
        return o;
    }
};

/// The sizes of the pieces the stream is fed in, adding up to `total`.
std::vector<std::size_t> piece_sizes(std::size_t total, const lean_options& o)
{
    std::vector<std::size_t> sizes;
    std::uint32_t x = (std::uint32_t{o.seed} << 1 | 1) * 2654435761u;  // odd, so xorshift never sticks at 0
    for (std::size_t left = total; left > 0;) {
        std::size_t n = o.read_size;
        if (n == 0) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // Mostly small pieces, which cut headers, lengths and code points anywhere; now and
            // then an empty read (which must change nothing) or a large one (several frames).
            n = (x & 7) == 0 ? 0 : (x & 0x38) == 0 ? (x >> 8) % 512 : (x >> 8) % 16 + 1;
        }
        n = std::min(n, left);
        sizes.push_back(n);
        left -= n;
    }
    return sizes;
}

bool beast_write(beast_utf8_checker& c, std::string_view s)
{
    // Never an empty write: the parser hands on empty views with a null data(), and Beast's
    // checker does pointer arithmetic on it that UBSan rightly rejects.
    return s.empty() || c.write(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

bool beast_utf8_valid(std::string_view s)
{
    return s.empty() || boost::beast::websocket::detail::check_utf8(s.data(), s.size());
}

/// Bytes as a one-line C string: what a failed check shows.
std::string printable(std::string_view s, std::size_t max = 24)
{
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            out += static_cast<char>(c);
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

enum class event_kind : std::uint8_t { text, binary, ping, pong, close };

struct event {
    event_kind kind;
    std::string payload;     ///< a message's or a ping's or pong's bytes; a close frame's reason
    std::uint16_t code = 0;  ///< a close frame's code
    bool operator==(const event&) const = default;
};

/// What one decoding of the stream led to: the parser's, fed whole or in pieces, or the reference's.
struct parse_result {
    std::vector<event> events;
    frame_error error = frame_error::none;
    bool done = false;         ///< a close frame or an error ended it
    bool mid_message = false;  ///< the stream ended inside a frame or a fragmented message
};

std::string describe(const parse_result& r)
{
    static constexpr const char* names[] = {"text", "binary", "ping", "pong", "close"};
    std::string out;
    for (const auto& e : r.events) {
        out += names[static_cast<int>(e.kind)];
        out += '(';
        if (e.kind == event_kind::close) out += std::to_string(e.code) + ", ";
        out += std::to_string(e.payload.size()) + ": " + printable(e.payload) + ") ";
    }
    out += "error " + std::to_string(static_cast<unsigned>(r.error));
    if (r.error == frame_error::none)
        out += r.done ? ", closed" : r.mid_message ? ", mid-message" : ", between messages";
    return out;
}

/// `other` (the parser fed in pieces, or the reference) decoded the stream as the parser fed it
/// whole did. mid_message() is compared only while the stream is open: after an error it tells
/// where in a header the parser stopped, which depends on the cut. The detail is built only
/// when a check fails (WSLOAD_FUZZ_CHECK evaluates it then alone): it costs two describe()s.
void check_same(const char* name, const parse_result& other, const parse_result& whole)
{
    const auto both = [&] {
        return std::string(name) + ": " + describe(other) + " | whole: " + describe(whole);
    };
    WSLOAD_FUZZ_CHECK(other.events == whole.events, both());
    WSLOAD_FUZZ_CHECK(other.error == whole.error, both());
    WSLOAD_FUZZ_CHECK(other.done == whole.done, both());
    WSLOAD_FUZZ_CHECK(whole.done || other.mid_message == whole.mid_message, both());
}

/// The handler the parser calls: checks that each event is one a client may act on, and
/// keeps a copy (the views die with the call).
struct recorder {
    explicit recorder(std::size_t limit) : max_message(limit) {}

    std::size_t max_message;
    std::vector<event> events;
    bool closed = false;

    void on_message(std::string_view data, bool binary)
    {
        WSLOAD_FUZZ_CHECK(!closed);
        WSLOAD_FUZZ_CHECK(data.size() <= max_message);
        if (!binary) WSLOAD_FUZZ_CHECK(beast_utf8_valid(data), printable(data));
        events.push_back({binary ? event_kind::binary : event_kind::text, std::string(data)});
    }
    void on_ping(std::string_view data) { control(event_kind::ping, data); }
    void on_pong(std::string_view data) { control(event_kind::pong, data); }
    void on_close(std::uint16_t code, std::string_view reason)
    {
        WSLOAD_FUZZ_CHECK(!closed);
        WSLOAD_FUZZ_CHECK(code == 0 || wsload::net::detail::is_valid_close_code(code), std::to_string(code));
        WSLOAD_FUZZ_CHECK(code != 0 || reason.empty(), printable(reason));  // no reason without a code
        WSLOAD_FUZZ_CHECK(reason.size() <= wsload::net::detail::max_close_reason);
        WSLOAD_FUZZ_CHECK(beast_utf8_valid(reason), printable(reason));
        closed = true;
        events.push_back({event_kind::close, std::string(reason), code});
    }

private:
    void control(event_kind kind, std::string_view data)
    {
        WSLOAD_FUZZ_CHECK(!closed);
        WSLOAD_FUZZ_CHECK(data.size() <= 125);
        events.push_back({kind, std::string(data)});
    }
};

/// The parser's state once the stream is in, checked against what the events say.
parse_result finish(const frame_parser& parser, recorder& r, frame_error error)
{
    parse_result out{std::move(r.events), error, parser.done(), parser.mid_message()};
    WSLOAD_FUZZ_CHECK(out.done == (error != frame_error::none || r.closed));
    return out;
}

parse_result parse_whole(std::string_view stream, std::size_t max_message)
{
    frame_parser parser;
    recorder r(max_message);
    const frame_error error = parser.feed(stream.data(), stream.size(), max_message, r);
    WSLOAD_FUZZ_CHECK(error == frame_error::none || parser.done());
    if (parser.done()) {
        // Once done, the parser takes nothing more: the same bytes again change nothing.
        const std::size_t events = r.events.size();
        WSLOAD_FUZZ_CHECK(parser.feed(stream.data(), stream.size(), max_message, r) == frame_error::none);
        WSLOAD_FUZZ_CHECK(r.events.size() == events);
    }
    return finish(parser, r, error);
}

parse_result parse_in_pieces(std::string_view stream, const std::vector<std::size_t>& sizes,
                             std::size_t max_message)
{
    frame_parser parser;
    recorder r(max_message);
    frame_error error = frame_error::none;
    std::size_t at = 0;
    for (const std::size_t n : sizes) {
        // Each piece in a block of its own, freed after the call, as a read buffer is reused.
        const auto piece = std::make_unique<char[]>(n);
        if (n > 0) std::memcpy(piece.get(), stream.data() + at, n);
        at += n;
        const bool was_done = parser.done();
        const std::size_t events = r.events.size();
        const frame_error e = parser.feed(piece.get(), n, max_message, r);
        if (was_done) {
            WSLOAD_FUZZ_CHECK(e == frame_error::none && r.events.size() == events);  // ignored
        } else if (e != frame_error::none) {
            WSLOAD_FUZZ_CHECK(parser.done());
            error = e;
        }
    }
    return finish(parser, r, error);
}

/// Close codes a peer may send, from section 7.4 and IANA's registry rather than from
/// ws_frame.hpp: RFC 6455's 1000-1003 and 1007-1011, IANA's 1012-1014, and 3000-4999
/// (registered and private use). 1004 is reserved; 1005, 1006 and 1015 are never on the wire;
/// 0-999 are unused, the rest of 1000-2999 reserved, and nothing past 4999 is defined.
bool close_code_allowed(unsigned code)
{
    switch (code) {
    case 1000: case 1001: case 1002: case 1003:
    case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
        return true;
    default:
        return code >= 3000 && code <= 4999;
    }
}

/// RFC 6455 section 5 as a client reads a server, written from the RFC: one pass over the whole
/// stream, frame by frame, a whole frame at a time. Where the RFC lets a client choose, it
/// chooses as a client that fails as early as it can: an error as soon as the bytes that show
/// it are in (the first two bytes of a header, its length, a prefix of a text payload), and
/// a message's limit on the announced length (section 10.4).
parse_result reference_decode(std::string_view in, std::size_t max_message)
{
    parse_result r;
    const auto fail = [&r](frame_error e) {
        r.error = e;
        r.done = true;
        return r;
    };
    const auto incomplete = [&r]() {
        r.mid_message = true;
        return r;
    };
    std::size_t pos = 0;
    int message_opcode = -1;  // the opcode of the data message in progress; -1: none
    std::string message;
    beast_utf8_checker utf8;
    for (;;) {
        const std::size_t left = in.size() - pos;
        if (left == 0) {
            r.mid_message = message_opcode >= 0;
            return r;
        }
        if (left < 2) return incomplete();
        const auto byte = [&](std::size_t i) -> unsigned { return static_cast<unsigned char>(in[pos + i]); };
        const bool fin = (byte(0) & 0x80) != 0;
        const unsigned rsv = (byte(0) >> 4) & 7;
        const unsigned opcode = byte(0) & 0xf;
        const bool masked = (byte(1) & 0x80) != 0;
        const unsigned length7 = byte(1) & 0x7f;
        const bool control = (opcode & 0x8) != 0;

        if (rsv != 0) return fail(frame_error::protocol);  // 5.2: no extension was negotiated
        if (masked) return fail(frame_error::protocol);    // 5.1: a client fails on a masked frame
        if (opcode != 0x0 && opcode != 0x1 && opcode != 0x2 && opcode != 0x8 && opcode != 0x9 && opcode != 0xa)
            return fail(frame_error::protocol);  // 5.2: reserved opcodes
        if (control) {
            if (!fin || length7 > 125) return fail(frame_error::protocol);  // 5.5: whole, <= 125 bytes
        } else if (opcode == 0x0) {
            if (message_opcode < 0) return fail(frame_error::protocol);  // 5.4: nothing to continue
        } else if (message_opcode >= 0) {
            return fail(frame_error::protocol);  // 5.4: messages do not interleave (no extension)
        }

        const std::size_t header = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
        if (left < header) return incomplete();
        std::uint64_t length = length7;
        if (length7 >= 126) {
            length = 0;
            for (std::size_t i = 2; i < header; ++i) length = length << 8 | byte(i);
        }
        if (length7 == 127 && (length >> 63) != 0) return fail(frame_error::protocol);  // 5.2: top bit 0
        if ((length7 == 126 && length < 126) || (length7 == 127 && length < 0x10000))
            return fail(frame_error::protocol);  // 5.2: "the minimal number of bytes MUST be used"
        if (!control) {
            // No overflow: length < 2^63 and the message so far is within the input.
            if (message.size() + length > max_message) return fail(frame_error::too_big);
            if (opcode != 0x0) {
                message_opcode = static_cast<int>(opcode);
                message.clear();
                utf8.reset();
            }
        }

        const auto available = static_cast<std::size_t>(std::min<std::uint64_t>(length, left - header));
        const std::string_view payload = in.substr(pos + header, available);
        // 8.1: bytes that cannot be UTF-8 fail the connection when they are seen, not at the
        // message's end (Beast's checker also rejects a code point that cannot be completed).
        if (!control && message_opcode == 0x1 && !beast_write(utf8, payload))
            return fail(frame_error::invalid_data);
        if (available < length) return incomplete();
        pos += header + available;

        if (opcode == 0x9) {
            r.events.push_back({event_kind::ping, std::string(payload)});
        } else if (opcode == 0xa) {
            r.events.push_back({event_kind::pong, std::string(payload)});
        } else if (opcode == 0x8) {
            // 5.5.1: a body, if any, starts with a 2-byte code; the rest is a UTF-8 reason.
            if (payload.size() == 1) return fail(frame_error::protocol);
            unsigned code = 0;
            std::string_view reason;
            if (payload.size() >= 2) {
                code = static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1]);
                reason = payload.substr(2);
                if (!close_code_allowed(code)) return fail(frame_error::protocol);
                if (!beast_utf8_valid(reason)) return fail(frame_error::invalid_data);
            }
            r.events.push_back({event_kind::close, std::string(reason), static_cast<std::uint16_t>(code)});
            r.done = true;  // 5.5.1: a server sends nothing after its close; the rest is ignored
            return r;
        } else {
            message.append(payload);
            if (fin) {
                if (message_opcode == 0x1 && !utf8.finish()) return fail(frame_error::invalid_data);
                r.events.push_back({message_opcode == 0x1 ? event_kind::text : event_kind::binary, message});
                message_opcode = -1;
                message.clear();
            }
        }
    }
}

/// utf8_validator against Beast's checker on any bytes, cut as the parser's input was.
void check_utf8_validator(std::string_view bytes, const std::vector<std::size_t>& sizes)
{
    utf8_validator ours;
    beast_utf8_checker theirs;
    std::size_t at = 0;
    for (const std::size_t n : sizes) {
        if (n == 0) continue;
        const std::string_view piece = bytes.substr(at, n);
        at += n;
        const bool ours_ok = ours.feed(piece.data(), piece.size());
        const bool theirs_ok = beast_write(theirs, piece);
        WSLOAD_FUZZ_CHECK(ours_ok == theirs_ok, printable(bytes.substr(at > 8 ? at - 8 : 0, 8)));
        if (!ours_ok) {
            // Once it has said no, it says no to whatever follows (it did not, once: see the
            // utf8_validator case in ws_layer_test.cpp).
            for (std::size_t rest = at; rest < bytes.size(); ++rest)
                WSLOAD_FUZZ_CHECK(!ours.feed(bytes.data() + rest, 1), "accepted again after a rejection");
            WSLOAD_FUZZ_CHECK(!ours.complete());
            return;
        }
    }
    WSLOAD_FUZZ_CHECK(ours.complete() == theirs.finish(), printable(bytes.substr(at > 8 ? at - 8 : 0, 8)));
    // Whole or in pieces, the same verdict.
    WSLOAD_FUZZ_CHECK(utf8_validator::valid(bytes) == ours.complete());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using wsload::fuzz::verbose;
    // A close frame ends the stream, so an input tries one close code at most, and coverage
    // says little about which: every code is compared once per process instead.
    [[maybe_unused]] static const bool close_codes_agree = [] {
        for (unsigned code = 0; code <= 0xffff; ++code)
            WSLOAD_FUZZ_CHECK(wsload::net::detail::is_valid_close_code(static_cast<std::uint16_t>(code)) ==
                                  close_code_allowed(code),
                              std::to_string(code));
        return true;
    }();

    std::string_view stream(reinterpret_cast<const char*>(data), size);
    const auto options = lean_options::take(stream);
    const auto sizes = piece_sizes(stream.size(), options);

    check_utf8_validator(stream, sizes);

    const parse_result whole = parse_whole(stream, options.max_message);
    const parse_result pieces = parse_in_pieces(stream, sizes, options.max_message);
    const parse_result reference = reference_decode(stream, options.max_message);
    if (verbose())
        std::fprintf(stderr, "lean_frames: %zu bytes in %zu piece(s), limit %zu: %s\n", stream.size(),
                     sizes.size(), options.max_message, describe(whole).c_str());

    WSLOAD_FUZZ_CHECK(whole.events.size() <= stream.size() / 2);  // a frame is at least 2 bytes

    check_same("in pieces", pieces, whole);     // cut invariance
    check_same("reference", reference, whole);  // the parser against the RFC
    return 0;
}
