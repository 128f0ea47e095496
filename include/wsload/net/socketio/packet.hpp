#pragma once
// The packets of Socket.IO v4 over the WebSocket transport: Engine.IO v4 packets (one per
// WebSocket message: `0` open, `1` close, `2` ping, `3` pong, `4` message, `6` noop) and the
// Socket.IO v5 protocol packets that `4` carries:
//     <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
// e.g. `42["chat",{"text":"hi"}]`, `431["ok"]` (the ack of emit 1), `40/admin,{"token":"x"}`,
// `451-["file",{"_placeholder":true,"num":0}]` followed by one binary message.
// Pure functions over text: what the connection keeps of a packet is what it hands on. The
// header is parsed here; the JSON data is left as text for whoever asks for it, so a message is
// parsed once, and only when someone needs its values.

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::socketio {

/// Engine.IO v4 packet types (the first character of a text message).
enum class engine_packet : char { open = '0', close = '1', ping = '2', pong = '3', message = '4', upgrade = '5', noop = '6' };

/// Socket.IO v5 packet types (the character after the Engine.IO `4`).
enum class packet_type : char {
    connect = '0',
    disconnect = '1',
    event = '2',
    ack = '3',
    connect_error = '4',
    binary_event = '5',
    binary_ack = '6'
};

/// A Socket.IO packet's header and its data, as views into the message it was parsed from.
struct packet {
    packet_type type = packet_type::event;
    std::string_view nsp = "/";            ///< its namespace ("/" when the packet names none)
    std::optional<std::uint64_t> id;       ///< the ack id: an emit that asks for an ack, or the ack itself
    std::uint32_t attachments = 0;         ///< binary messages that follow (binary_event, binary_ack)
    std::string_view data;                 ///< the JSON data, unparsed (may be empty)
};

/// The most attachments one packet may announce: a server claiming more is broken (and each one
/// announced is memory the client would hold until they came).
inline constexpr std::uint32_t max_attachments = 1000;

/// What Engine.IO's open packet says: `0{"sid":"..","pingInterval":25000,"pingTimeout":20000,..}`.
struct open_packet {
    std::string sid;
    std::chrono::milliseconds ping_interval{25000};
    std::chrono::milliseconds ping_timeout{20000};
};

/// Parses an open packet's JSON; nullopt when it is not an object with a string sid and
/// positive integer ping settings.
inline std::optional<open_packet> parse_open_packet(std::string_view json)
{
    boost::system::error_code ec;
    const auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    open_packet p;
    const auto* sid = o.if_contains("sid");
    if (!sid || !sid->is_string()) return std::nullopt;
    p.sid = std::string(sid->get_string());
    const auto millis = [&](std::string_view key, std::chrono::milliseconds& into) {
        const auto* f = o.if_contains(key);
        if (!f) return true;  // the default
        if (!f->is_int64() && !f->is_uint64()) return false;
        const auto n = f->is_int64() ? f->get_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(f->get_uint64(), std::numeric_limits<std::int64_t>::max()));
        if (n <= 0 || n > 24LL * 3600 * 1000) return false;
        into = std::chrono::milliseconds(n);
        return true;
    };
    if (!millis("pingInterval", p.ping_interval) || !millis("pingTimeout", p.ping_timeout)) return std::nullopt;
    return p;
}

/// Parses the Socket.IO packet in `text` (what follows an Engine.IO `4`). nullopt when it is not
/// one: an unknown type, a broken attachment count, namespace or id, data that cannot be JSON
/// (it must start with `[`, `{` or `"`, as every data a v5 packet carries does), or an event
/// or ack without the array they must carry.
inline std::optional<packet> parse_packet(std::string_view text) noexcept
{
    if (text.empty() || text[0] < '0' || text[0] > '6') return std::nullopt;
    packet p;
    p.type = static_cast<packet_type>(text[0]);
    std::size_t at = 1;
    const auto digits_end = [&](std::size_t from) {
        while (from < text.size() && text[from] >= '0' && text[from] <= '9') ++from;
        return from;
    };
    if (p.type == packet_type::binary_event || p.type == packet_type::binary_ack) {
        const auto end = digits_end(at);
        if (end == at || end >= text.size() || text[end] != '-' || end - at > 4) return std::nullopt;
        std::from_chars(text.data() + at, text.data() + end, p.attachments);
        if (p.attachments > max_attachments) return std::nullopt;
        at = end + 1;
    }
    if (at < text.size() && text[at] == '/') {
        const auto comma = text.find(',', at);
        // A namespace runs to its comma, or to the end when nothing follows it (`41/admin`).
        const auto end = comma == std::string_view::npos ? text.size() : comma;
        p.nsp = text.substr(at, end - at);
        for (const char c : p.nsp)
            if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '[' || c == '{') return std::nullopt;
        at = comma == std::string_view::npos ? end : end + 1;
    }
    if (const auto end = digits_end(at); end != at) {
        if (end - at > 19) return std::nullopt;  // past 64 bits: no client made that id
        std::uint64_t id = 0;
        std::from_chars(text.data() + at, text.data() + end, id);
        p.id = id;
        at = end;
    }
    p.data = text.substr(at);
    if (!p.data.empty() && p.data[0] != '[' && p.data[0] != '{' && p.data[0] != '"') return std::nullopt;
    const bool carries_array = p.type == packet_type::event || p.type == packet_type::binary_event ||
                               p.type == packet_type::ack || p.type == packet_type::binary_ack;
    if (carries_array && (p.data.empty() || p.data[0] != '[')) return std::nullopt;
    if ((p.type == packet_type::ack || p.type == packet_type::binary_ack) && !p.id) return std::nullopt;
    return p;
}

/// The first element of a JSON array given as text, when it is a string: an event's name
/// (`["chat", ...]` → "chat"), read without parsing the rest. Escapes are decoded; nullopt when
/// the array does not start with a well-formed string.
inline std::optional<std::string> event_name(std::string_view array)
{
    std::size_t at = 0;
    const auto skip_space = [&] {
        while (at < array.size() && (array[at] == ' ' || array[at] == '\t' || array[at] == '\n' || array[at] == '\r')) ++at;
    };
    skip_space();
    if (at >= array.size() || array[at] != '[') return std::nullopt;
    ++at;
    skip_space();
    if (at >= array.size() || array[at] != '"') return std::nullopt;
    ++at;
    std::string name;
    while (at < array.size()) {
        const char c = array[at++];
        if (c == '"') return name;
        if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
        if (c != '\\') {
            name += c;
            continue;
        }
        if (at >= array.size()) return std::nullopt;
        switch (const char e = array[at++]) {
        case '"': case '\\': case '/': name += e; break;
        case 'b': name += '\b'; break;
        case 'f': name += '\f'; break;
        case 'n': name += '\n'; break;
        case 'r': name += '\r'; break;
        case 't': name += '\t'; break;
        case 'u': {
            if (array.size() - at < 4) return std::nullopt;
            unsigned code = 0;
            const auto [p, ec] = std::from_chars(array.data() + at, array.data() + at + 4, code, 16);
            if (ec != std::errc{} || p != array.data() + at + 4) return std::nullopt;
            at += 4;
            // Names are ASCII in practice; a code point past it is kept as UTF-8 (a lone
            // surrogate as the replacement character: this is a label, not data).
            if (code >= 0xD800 && code <= 0xDFFF) code = 0xFFFD;
            if (code < 0x80) {
                name += static_cast<char>(code);
            } else if (code < 0x800) {
                name += static_cast<char>(0xC0 | (code >> 6));
                name += static_cast<char>(0x80 | (code & 0x3F));
            } else {
                name += static_cast<char>(0xE0 | (code >> 12));
                name += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                name += static_cast<char>(0x80 | (code & 0x3F));
            }
            break;
        }
        default: return std::nullopt;
        }
    }
    return std::nullopt;
}

/// Appends a JSON string literal of `s` (quoted, escaped) to `out`.
inline void append_json_string(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
}

/// The text of an Engine.IO message carrying a Socket.IO packet: `4` + type + [attachments-] +
/// [namespace,] + [id] + data. `data` is JSON text the caller made (or empty).
inline std::string encode_packet(packet_type type, std::string_view nsp, std::optional<std::uint64_t> id,
                                 std::string_view data, std::uint32_t attachments = 0)
{
    std::string out;
    out.reserve(8 + nsp.size() + data.size());
    out += '4';
    out += static_cast<char>(type);
    char digits[24];
    if (type == packet_type::binary_event || type == packet_type::binary_ack) {
        const auto r = std::to_chars(digits, digits + sizeof digits, attachments);
        out.append(digits, r.ptr);
        out += '-';
    }
    if (!nsp.empty() && nsp != "/") {
        out += nsp;
        out += ',';
    }
    if (id) {
        const auto r = std::to_chars(digits, digits + sizeof digits, *id);
        out.append(digits, r.ptr);
    }
    out += data;
    return out;
}

/// The data of an event packet: `["event",<args>]` where `args` is the JSON text of the
/// arguments after the name, comma-separated (empty: none).
inline std::string event_data(std::string_view event, std::string_view args)
{
    std::string out;
    out.reserve(4 + event.size() + args.size());
    out += '[';
    append_json_string(out, event);
    if (!args.empty()) {
        out += ',';
        out += args;
    }
    out += ']';
    return out;
}

}  // namespace wsload::socketio
