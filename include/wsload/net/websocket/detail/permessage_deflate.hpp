#pragma once
// permessage-deflate (RFC 7692) for the lean layer: the server's answer to the offer, checked
// as section 7 says a client must, and the compression of messages with Beast's zlib port
// (header-only: no new dependency, the same code Beast's layer compresses with).
//
// Memory: zlib's state is large (a compressor at 15 window bits and memLevel 8 takes ~262 KB,
// a decompressor ~39 KB), so a connection holds none until it needs one: its codec is made at
// the first message each way, and a side whose context is not taken over (no_context_takeover)
// uses the thread's stream, reset for each message, and never one of its own. A message is
// compressed and inflated whole, in one call, so a thread's stream is never shared by two
// messages at once.

#include <wsload/net/io_thread.hpp>
#include <wsload/net/websocket/deflate_options.hpp>

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/beast/zlib/error.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// What a server agreed to.
struct deflate_agreement {
    std::uint8_t client_bits = 15;  ///< the window the client's compressor may use
    std::uint8_t server_bits = 15;  ///< the server's window: what the decompressor needs
    bool client_no_context = false;  ///< the client resets its compressor after each message
    bool server_no_context = false;  ///< the server resets its compressor after each message
};

/// What a server answered in Sec-WebSocket-Extensions.
enum class extension_verdict {
    none,     ///< no extension: messages go uncompressed
    deflate,  ///< permessage-deflate, on the terms given
    invalid   ///< an answer section 7 forbids: the handshake fails
};

namespace deflate_parse {

inline bool is_tchar(char c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
inline void skip_ows(std::string_view& s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}
inline std::string_view token(std::string_view& s) noexcept
{
    std::size_t n = 0;
    while (n < s.size() && is_tchar(s[n])) ++n;
    const auto t = s.substr(0, n);
    s.remove_prefix(n);
    return t;
}
inline bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}
/// A parameter's value: a token or a quoted string (unescaped into `out`). False when malformed.
inline bool value(std::string_view& s, std::string& out)
{
    out.clear();
    if (s.empty() || s.front() != '"') {
        out = token(s);
        return !out.empty();
    }
    s.remove_prefix(1);
    while (!s.empty() && s.front() != '"') {
        if (s.front() == '\\') {
            s.remove_prefix(1);
            if (s.empty()) return false;
        }
        out += s.front();
        s.remove_prefix(1);
    }
    if (s.empty()) return false;
    s.remove_prefix(1);
    return true;
}
/// A window size, 8-15, as RFC 7692 section 7.1.2 writes it (no leading zero).
inline std::uint8_t window_bits(std::string_view v) noexcept
{
    if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return static_cast<std::uint8_t>(v[0] - '0');
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return static_cast<std::uint8_t>(10 + v[1] - '0');
    return 0;
}

}  // namespace deflate_parse

/// Checks the server's Sec-WebSocket-Extensions (every such field joined with ", "; empty
/// when there was none) against what was offered (`offered`: null when nothing was), as
/// RFC 7692 section 7 says a client must: one extension, the one offered, each parameter known,
/// at most once, with a value where one is needed and none where not, windows of 8-15 bits,
/// server_max_window_bits no larger than asked, client_max_window_bits only when offered (and
/// no larger than offered), and what the client asked of the server (server_no_context_takeover,
/// server_max_window_bits) in the answer. `out` holds the terms when the verdict is `deflate`.
inline extension_verdict negotiate_deflate(std::string_view header, const deflate_options* offered,
                                           deflate_agreement& out)
{
    using namespace deflate_parse;
    out = deflate_agreement{};
    int extensions = 0;
    std::string v;
    bool seen_client_nct = false, seen_server_nct = false, seen_client_bits = false, seen_server_bits = false;
    for (;;) {
        skip_ows(header);
        if (header.empty()) break;
        if (header.front() == ',') {  // empty list elements are allowed (RFC 7230 section 7)
            header.remove_prefix(1);
            continue;
        }
        const auto name = token(header);
        if (name.empty()) return extension_verdict::invalid;
        if (!offered || !iequals(name, "permessage-deflate") || ++extensions > 1) return extension_verdict::invalid;
        for (;;) {
            skip_ows(header);
            if (header.empty() || header.front() == ',') break;
            if (header.front() != ';') return extension_verdict::invalid;
            header.remove_prefix(1);
            skip_ows(header);
            const auto param = token(header);
            if (param.empty()) return extension_verdict::invalid;
            skip_ows(header);
            bool has_value = false;
            if (!header.empty() && header.front() == '=') {
                header.remove_prefix(1);
                skip_ows(header);
                if (!value(header, v)) return extension_verdict::invalid;
                has_value = true;
            }
            if (iequals(param, "client_no_context_takeover")) {
                if (seen_client_nct || has_value) return extension_verdict::invalid;
                seen_client_nct = out.client_no_context = true;
            } else if (iequals(param, "server_no_context_takeover")) {
                if (seen_server_nct || has_value) return extension_verdict::invalid;
                seen_server_nct = out.server_no_context = true;
            } else if (iequals(param, "client_max_window_bits")) {
                // Only when offered (7.1.2.2), and then with a value no larger than offered.
                if (seen_client_bits || !has_value) return extension_verdict::invalid;
                const auto bits = window_bits(v);
                if (bits == 0) return extension_verdict::invalid;
                if (offered->client_max_window_bits() != 0 && bits > offered->client_max_window_bits())
                    return extension_verdict::invalid;
                seen_client_bits = true;
                out.client_bits = bits;
            } else if (iequals(param, "server_max_window_bits")) {
                // A server may name its window unasked (7.1.2.1), never larger than asked.
                if (seen_server_bits || !has_value) return extension_verdict::invalid;
                const auto bits = window_bits(v);
                if (bits == 0) return extension_verdict::invalid;
                if (offered->server_max_window_bits() != 0 && bits > offered->server_max_window_bits())
                    return extension_verdict::invalid;
                seen_server_bits = true;
                out.server_bits = bits;
            } else {
                return extension_verdict::invalid;  // unknown parameter (7.1)
            }
        }
    }
    if (extensions == 0) return extension_verdict::none;
    // What the client asked of the server, an acceptance includes (7.1.1.1, 7.1.2.1): a server
    // that does not support it declines the whole offer instead.
    if (offered->offers_server_no_context_takeover() && !out.server_no_context) return extension_verdict::invalid;
    if (offered->server_max_window_bits() != 0 && !seen_server_bits) return extension_verdict::invalid;
    // What the client asked for itself it does whatever the server said.
    if (offered->offers_client_no_context_takeover()) out.client_no_context = true;
    if (offered->client_max_window_bits() != 0)
        out.client_bits = std::min<std::uint8_t>(out.client_bits, static_cast<std::uint8_t>(offered->client_max_window_bits()));
    return extension_verdict::deflate;
}

namespace zlib = boost::beast::zlib;

/// One compressor and one decompressor per thread (io_thread::local), made at their first use:
/// the sides whose context is not taken over use them, reset for each message. And the
/// thread's scratch buffers for compressed and inflated messages.
class deflate_thread_state {
public:
    deflate_thread_state() = default;
    explicit deflate_thread_state(io_thread&) {}

    zlib::deflate_stream& deflater()
    {
        if (!deflater_) deflater_ = std::make_unique<zlib::deflate_stream>();
        return *deflater_;
    }
    zlib::inflate_stream& inflater()
    {
        if (!inflater_) inflater_ = std::make_unique<zlib::inflate_stream>();
        return *inflater_;
    }

    std::string deflated;  ///< a message compressed, until the socket has it (or a writer took it)
    std::string inflated;  ///< a message inflated, while it is handed on
    bool inflating = false;  ///< `inflated` is in use (a handler that made another connection read)

private:
    std::unique_ptr<zlib::deflate_stream> deflater_;
    std::unique_ptr<zlib::inflate_stream> inflater_;
};

enum class inflate_status { ok, too_big, bad_data };

/// A connection's side of permessage-deflate once agreed: the terms, the client's settings and,
/// for a side whose context is taken over, its own stream, made at its first message.
class deflate_codec {
public:
    deflate_codec(deflate_agreement a, const deflate_options& o)
        : agreed_(a), level_(static_cast<std::uint8_t>(o.level())), mem_level_(static_cast<std::uint8_t>(o.mem_level()))
    {}

    /// Whether messages go compressed: zlib cannot compress within a 256-byte window (it
    /// raises 8 bits to 9), so under client_max_window_bits=8 messages go uncompressed, which
    /// RFC 7692 allows for any message. Empty messages go uncompressed too.
    bool compresses(std::size_t n) const noexcept { return n > 0 && agreed_.client_bits >= 9; }

    /// `in` compressed into `out` (replacing it), without the 00 00 FF FF the flush ends with.
    void compress(std::string_view in, std::string& out, deflate_thread_state& t)
    {
        zlib::deflate_stream* s = own_deflater_.get();
        if (agreed_.client_no_context) {
            s = &t.deflater();
            s->reset(level_, agreed_.client_bits, mem_level_, zlib::Strategy::normal);  // keeps its buffers
        } else if (!s) {
            own_deflater_ = std::make_unique<zlib::deflate_stream>();
            s = own_deflater_.get();
            s->reset(level_, agreed_.client_bits, mem_level_, zlib::Strategy::normal);
        }
        out.clear();
        out.resize(std::max<std::size_t>(in.size() / 2, 64));
        zlib::z_params zp;
        zp.next_in = in.data();
        zp.avail_in = in.size();
        std::size_t produced = 0;
        for (;;) {
            zp.next_out = out.data() + produced;
            zp.avail_out = out.size() - produced;
            boost::system::error_code ec;
            s->write(zp, zlib::Flush::sync, ec);
            produced = out.size() - zp.avail_out;
            if (zp.avail_in == 0 && zp.avail_out > 0) break;  // all taken and flushed
            if (ec && ec != zlib::error::need_buffers) break;  // cannot happen with valid parameters
            out.resize(out.size() * 2);
        }
        out.resize(produced);
        if (out.size() >= 4 && std::string_view(out).substr(out.size() - 4) == std::string_view("\0\0\xff\xff", 4))
            out.resize(out.size() - 4);
    }

    /// `in` (a message's compressed payload) inflated into `out`, at most `limit` bytes: past
    /// it, too_big, and `out` never grew beyond limit + 1 bytes (a bomb costs no memory).
    inflate_status inflate(std::string_view in, std::size_t limit, std::string& out, deflate_thread_state& t)
    {
        zlib::inflate_stream* s = own_inflater_.get();
        if (agreed_.server_no_context) {
            s = &t.inflater();
            s->reset(agreed_.server_bits);
        } else if (!s) {
            own_inflater_ = std::make_unique<zlib::inflate_stream>();
            s = own_inflater_.get();
            s->reset(agreed_.server_bits);
        }
        out.clear();
        std::size_t produced = 0;
        bool ended = false;
        auto st = run(*s, in.data(), in.size(), limit, out, produced, ended);
        static constexpr char tail[4] = {0, 0, '\xff', '\xff'};
        if (st == inflate_status::ok && !ended) st = run(*s, tail, 4, limit, out, produced, ended);
        if (ended && !agreed_.server_no_context) s->reset(agreed_.server_bits);  // a final block ends the context
        out.resize(std::min(produced, out.size()));
        return st;
    }

private:
    static inflate_status run(zlib::inflate_stream& s, const char* p, std::size_t n, std::size_t limit, std::string& out,
                              std::size_t& produced, bool& ended)
    {
        zlib::z_params zp;
        zp.next_in = p;
        zp.avail_in = n;
        for (;;) {
            if (produced == out.size()) {
                if (out.size() > limit) return inflate_status::too_big;
                out.resize(std::min(limit + 1, std::max<std::size_t>(out.size() * 2, 4096)));
            }
            zp.next_out = out.data() + produced;
            zp.avail_out = out.size() - produced;
            boost::system::error_code ec;
            s.write(zp, zlib::Flush::sync, ec);
            produced = out.size() - zp.avail_out;
            if (ec == zlib::error::end_of_stream) {
                ended = true;
                break;
            }
            if (ec == zlib::error::need_buffers) {
                if (zp.avail_out == 0) continue;
                break;  // the input is used up
            }
            if (ec) return inflate_status::bad_data;
            if (zp.avail_in == 0 && zp.avail_out > 0) break;
        }
        return produced > limit ? inflate_status::too_big : inflate_status::ok;
    }

    deflate_agreement agreed_;
    std::uint8_t level_;
    std::uint8_t mem_level_;
    std::unique_ptr<zlib::deflate_stream> own_deflater_;
    std::unique_ptr<zlib::inflate_stream> own_inflater_;
};

}  // namespace wsload::net::detail
