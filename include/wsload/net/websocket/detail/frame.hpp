#pragma once
// The WebSocket frame format (RFC 6455 section 5) for the lean client layer: client frame
// headers and masking on the way out, and an incremental parser of server frames on the way in.
// It exists apart from the connection so that it needs no socket: the parser is fed whatever a
// read returned (a frame can be cut anywhere, several can come at once) and keeps only the
// state a frame cut in two needs, so an idle connection holds a few dozen bytes of it.

#include <wsload/net/websocket/detail/utf8_validator.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace wsload::net::detail {

namespace ws_opcode {
inline constexpr std::uint8_t continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA;
}

/// Close codes the client sends when the server breaks the protocol (section 7.4.1).
enum class frame_error : std::uint16_t { none = 0, protocol = 1002, invalid_data = 1007, too_big = 1009 };

/// A close frame's reason: at most 125 payload bytes, less the code's two (section 5.5).
inline constexpr std::size_t max_close_reason = 123;

/// The largest client frame header: 2 bytes, a 64-bit length and the masking key.
inline constexpr std::size_t max_client_header = 14;

/// Close codes a peer may put on the wire (section 7.4 and IANA's registry): 1000-1003 and
/// 1007-1014, or 3000-4999. Not 1004-1006 or 1015 (reserved, or for local use only), nothing
/// under 1000, no unassigned 10xx or 2xxx, nothing from 5000 on.
constexpr bool is_valid_close_code(std::uint16_t code) noexcept
{
    if (code < 1000 || code >= 5000) return false;
    if (code < 3000) return code <= 1003 || (code >= 1007 && code <= 1014);
    return true;
}

/// RSV1: the frame starts a compressed message (permessage-deflate, RFC 7692 section 6).
inline constexpr std::uint8_t rsv1 = 0x40;

/// Writes the header of a client frame (always masked: section 5.3) with the fewest length
/// bytes (section 5.2); returns its size, 6 to 14 bytes. `rsv` is 0 or rsv1.
inline std::size_t encode_client_header(char* out, std::uint8_t opcode, bool fin, std::uint64_t length,
                                        std::uint32_t key, std::uint8_t rsv = 0) noexcept
{
    auto* o = reinterpret_cast<unsigned char*>(out);
    o[0] = static_cast<unsigned char>((fin ? 0x80 : 0) | rsv | opcode);
    std::size_t n = 2;
    if (length < 126) {
        o[1] = static_cast<unsigned char>(0x80 | length);
    } else if (length <= 0xFFFF) {
        o[1] = 0x80 | 126;
        o[2] = static_cast<unsigned char>(length >> 8);
        o[3] = static_cast<unsigned char>(length);
        n = 4;
    } else {
        o[1] = 0x80 | 127;
        for (int i = 0; i < 8; ++i) o[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
        n = 10;
    }
    std::memcpy(o + n, &key, 4);  // the key's bytes in memory order are its bytes on the wire
    return n + 4;
}

/// Copies `n` payload bytes to `dst` masked with `key` (as encode_client_header wrote it),
/// `offset` being the position of `src` in the frame's payload (a frame masked in pieces).
inline void mask_copy(char* dst, const char* src, std::size_t n, std::uint32_t key, std::size_t offset) noexcept
{
    unsigned char k[4];
    std::memcpy(k, &key, 4);
    unsigned char rotated[8];
    for (std::size_t i = 0; i < 8; ++i) rotated[i] = k[(offset + i) & 3];
    std::uint64_t k8;
    std::memcpy(&k8, rotated, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, src + i, 8);
        w ^= k8;
        std::memcpy(dst + i, &w, 8);
    }
    for (; i < n; ++i) dst[i] = static_cast<char>(src[i] ^ rotated[i & 7]);
}

/// Parses the frames a server sends, fed in pieces as reads return them. Checks every rule a
/// client must (section 5): no mask, no RSV bit (but RSV1 on a message's first frame once
/// permessage-deflate is agreed: allow_compression), known opcodes,
/// control frames whole and at most 125 bytes (they may come between the frames of a
/// message), continuations only inside a message, canonical lengths, text valid UTF-8 across
/// frames, a message within `max_message` (checked at each header: an announced length is
/// never allocated). A message that arrives whole in one piece is handed on in place; one cut
/// across frames or reads is gathered in a string that exists only until it is complete.
///
/// The handler gets `on_message(std::string_view data, bool binary)` (and, for a compressed
/// message, `on_compressed_message(data, binary)`, which returns a frame_error: its payload is
/// neither inflated nor checked as UTF-8 here), `on_ping(view)`,
/// `on_pong(view)` and `on_close(code, reason)` (0 and empty when the close frame had no code); views are valid
/// during the call only. After a close frame the parser takes nothing more.
class frame_parser {
public:
    /// Parses `data`; returns what the server did wrong, if anything. After an error or a close
    /// frame the rest of the input is ignored, and so is any later input.
    template <class Handler>
    frame_error feed(const char* data, std::size_t n, std::size_t max_message, Handler& h)
    {
        const char* p = data;
        const char* const end = data + n;
        while (p != end && !done_) {
            if (!in_payload_) {
                if (const auto e = parse_header(p, end, max_message); e != frame_error::none) return fail(e);
                if (!in_payload_) break;  // the header is cut: the rest comes with the next read
                if (remaining_ == 0) {
                    if (const auto e = end_of_frame({}, h); e != frame_error::none) return fail(e);
                    continue;
                }
            }
            const auto available = static_cast<std::size_t>(end - p);
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available));
            const auto e = payload(p, take, h);
            if (e != frame_error::none) return fail(e);
            p += take;
        }
        return frame_error::none;
    }

    /// permessage-deflate was agreed: RSV1 marks a compressed message (on its first frame only).
    void allow_compression() noexcept { compression_ = true; }

    /// True once a close frame or an error has ended parsing.
    bool done() const noexcept { return done_; }
    /// True while a frame or a message is incomplete.
    bool mid_message() const noexcept { return in_payload_ || header_have_ > 0 || message_op_ != 0; }

private:
    static bool is_control(std::uint8_t op) noexcept { return op >= ws_opcode::close; }

    frame_error fail(frame_error e) noexcept
    {
        done_ = true;
        message_.reset();
        control_.reset();
        return e;
    }

    frame_error parse_header(const char*& p, const char* end, std::size_t max_message)
    {
        while (header_have_ < 2 && p != end) header_[header_have_++] = static_cast<unsigned char>(*p++);
        if (header_have_ < 2) return frame_error::none;
        const unsigned char b0 = header_[0], b1 = header_[1];
        const std::uint8_t op = b0 & 0x0F;
        const bool fin = b0 & 0x80;
        const unsigned len7 = b1 & 0x7F;
        if (b0 & 0x30) return frame_error::protocol;  // RSV2-3: no extension uses them
        if ((b0 & rsv1) && !(compression_ && (op == ws_opcode::text || op == ws_opcode::binary)))
            return frame_error::protocol;  // RSV1 only on a compressed message's first frame (RFC 7692 section 6)
        if (b1 & 0x80) return frame_error::protocol;  // a server must not mask (section 5.1)
        switch (op) {
        case ws_opcode::continuation:
            if (message_op_ == 0) return frame_error::protocol;  // no message to continue
            break;
        case ws_opcode::text:
        case ws_opcode::binary:
            if (message_op_ != 0) return frame_error::protocol;  // a new message inside one
            break;
        case ws_opcode::close:
        case ws_opcode::ping:
        case ws_opcode::pong:
            if (!fin || len7 > 125) return frame_error::protocol;  // section 5.5
            break;
        default: return frame_error::protocol;  // reserved opcodes
        }
        const std::size_t need = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
        while (header_have_ < need && p != end) header_[header_have_++] = static_cast<unsigned char>(*p++);
        if (header_have_ < need) return frame_error::none;

        std::uint64_t length = len7;
        if (len7 == 126) {
            length = std::uint64_t{header_[2]} << 8 | header_[3];
            if (length < 126) return frame_error::protocol;  // not the shortest form
        } else if (len7 == 127) {
            length = 0;
            for (int i = 2; i < 10; ++i) length = length << 8 | header_[i];
            if (length >> 63 || length <= 0xFFFF) return frame_error::protocol;
        }
        header_have_ = 0;
        if (!is_control(op)) {
            const std::uint64_t before = message_ ? message_->size() : 0;
            if (length > max_message || before > max_message - length) return frame_error::too_big;
            if (op != ws_opcode::continuation) {
                message_op_ = op;
                compressed_ = b0 & rsv1;
                utf8_.reset();
            }
        }
        frame_op_ = op;
        frame_fin_ = fin;
        remaining_ = length;
        frame_start_ = true;
        in_payload_ = true;
        return frame_error::none;
    }

    template <class Handler>
    frame_error payload(const char* p, std::size_t n, Handler& h)
    {
        const bool whole = frame_start_ && n == remaining_;
        frame_start_ = false;
        remaining_ -= n;
        if (is_control(frame_op_)) {
            if (whole) return end_of_frame({p, n}, h);
            if (!control_) control_ = std::make_unique<std::string>();
            control_->append(p, n);
            if (remaining_ > 0) return frame_error::none;
            const std::unique_ptr<std::string> c = std::move(control_);
            return end_of_frame(*c, h);
        }
        if (message_op_ == ws_opcode::text && !compressed_ && !utf8_.feed(p, n)) return frame_error::invalid_data;  // fail fast
        if (whole && frame_fin_ && !message_) return end_of_frame({p, n}, h);  // the common case: in place
        if (!message_) message_ = std::make_unique<std::string>();
        message_->append(p, n);
        if (remaining_ > 0) return frame_error::none;
        return end_of_frame({}, h);
    }

    /// A frame is complete; `control_payload` is a control frame's payload, or an unfragmented
    /// message's when it came whole.
    template <class Handler>
    frame_error end_of_frame(std::string_view in_place, Handler& h)
    {
        in_payload_ = false;
        switch (frame_op_) {
        case ws_opcode::ping: h.on_ping(in_place); return frame_error::none;
        case ws_opcode::pong: h.on_pong(in_place); return frame_error::none;
        case ws_opcode::close: return close_frame(in_place, h);
        default: break;
        }
        if (!frame_fin_) return frame_error::none;
        if (message_op_ == ws_opcode::text && !compressed_ && !utf8_.complete()) return frame_error::invalid_data;
        const bool binary = message_op_ == ws_opcode::binary;
        message_op_ = 0;
        if (compressed_) [[unlikely]] {
            compressed_ = false;
            const std::unique_ptr<std::string> m = std::move(message_);
            return compressed_message(m ? std::string_view(*m) : in_place, binary, h);
        }
        if (message_) {
            const std::unique_ptr<std::string> m = std::move(message_);  // gone once handed on
            h.on_message(*m, binary);
        } else {
            h.on_message(in_place, binary);
        }
        return frame_error::none;
    }

    template <class Handler>
    frame_error compressed_message(std::string_view payload, bool binary, Handler& h)
    {
        if constexpr (requires { h.on_compressed_message(payload, binary); })
            return h.on_compressed_message(payload, binary);
        else
            return frame_error::protocol;  // unreachable: only such a handler allows compression
    }

    template <class Handler>
    frame_error close_frame(std::string_view payload, Handler& h)
    {
        std::uint16_t code = 0;
        std::string_view reason;
        if (payload.size() == 1) return frame_error::protocol;
        if (payload.size() >= 2) {
            code = static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                              static_cast<unsigned char>(payload[1]));
            if (!is_valid_close_code(code)) return frame_error::protocol;
            reason = payload.substr(2);
            if (!utf8_validator::valid(reason)) return frame_error::invalid_data;
        }
        done_ = true;
        message_.reset();
        h.on_close(code, reason);
        return frame_error::none;
    }

    std::unique_ptr<std::string> message_;  ///< a message cut across frames or reads, until complete
    std::unique_ptr<std::string> control_;  ///< a control frame cut across reads (rare)
    std::uint64_t remaining_ = 0;           ///< payload bytes of the current frame still to come
    unsigned char header_[10];              ///< a header cut across reads (a server's is at most 10 bytes)
    std::uint8_t header_have_ = 0;
    std::uint8_t frame_op_ = 0;
    std::uint8_t message_op_ = 0;  ///< text or binary while a message is in progress, else 0
    utf8_validator utf8_;
    bool frame_fin_ = false;
    bool frame_start_ = false;
    bool in_payload_ = false;
    bool done_ = false;
    bool compression_ = false;  ///< permessage-deflate agreed: RSV1 allowed on a message's first frame
    bool compressed_ = false;   ///< the message in progress is compressed
};

}  // namespace wsload::net::detail
