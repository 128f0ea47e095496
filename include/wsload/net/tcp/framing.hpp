#pragma once
// How a raw-TCP transport cuts its byte stream into messages, and puts a message on it.
// Pure functions over bytes, no I/O: the transport, the unit tests and the fuzzer share them.

#include <wsload/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace wsload::tcp {

/// Byte order of a length header.
enum class byte_order : std::uint8_t { big, little };

/// What framing::decode found at the start of the buffered bytes. `consumed` and `payload` are
/// set only when `what` is complete; `payload` points into the decoded buffer.
struct decoded {
    enum class status : std::uint8_t {
        incomplete, ///< more bytes are needed
        complete,   ///< one frame: use `payload`, then drop `consumed` bytes
        too_big,    ///< its payload exceeds max_payload: close instead of buffering it
        invalid     ///< the bytes cannot be a frame; the stream cannot be resynchronised
    };
    status what = status::incomplete;
    std::size_t consumed = 0;   ///< bytes of the whole frame, header or delimiter included
    std::string_view payload{}; ///< the message, inside the frame
};

/// A framer: a small copyable value chosen once per connection. The default is lines().
class framing {
public:
    framing() = default;

    /// Messages end with `delimiter`. With '\n', a "\r" before it is stripped from the payload.
    static framing lines(char delimiter = '\n');
    /// A length header of `header_bytes` (1, 2, 4 or 8, else std::invalid_argument), then the
    /// payload; the length counts the header too when `length_includes_header`.
    static framing length_prefixed(unsigned header_bytes, byte_order order = byte_order::big,
                                   bool length_includes_header = false);
    /// Every message is exactly `size` bytes (std::invalid_argument when 0).
    static framing fixed(std::size_t size);
    /// A scenario's own: `decode(buffered)` looks for one frame at the start as framing::decode
    /// does (its answer is checked, never trusted); `encode(payload, out)` appends one frame,
    /// by default the payload as is. An empty `decode` is std::invalid_argument.
    static framing custom(std::function<decoded(std::string_view)> decode,
                          std::function<void(std::string_view, std::string&)> encode = {});

    /// Appends one frame carrying `payload` to `out`, or throws std::length_error and leaves
    /// `out` as it was when the framer cannot carry it: longer than the header can say, a line
    /// holding the delimiter (or ending in "\r" before a '\n' delimiter), a fixed size mismatch.
    void encode(std::string_view payload, std::string& out) const;

    /// Looks for one frame at the start of `buffered`; allocates nothing. A frame whose payload
    /// is known to exceed `max_payload` bytes is too_big as soon as that is known: its length
    /// header read, or for lines more than max_payload bytes (+ "\r") buffered without the
    /// delimiter. A custom decode that keeps answering incomplete is not cut short here.
    decoded decode(std::string_view buffered, std::size_t max_payload) const;

    /// For errors and reports: "lines", "length-prefixed (4 bytes, big-endian, excluding
    /// header)", "fixed (16 bytes)", "custom".
    std::string describe() const;

private:
    enum class kind : std::uint8_t { lines, length_prefixed, fixed, custom };
    struct settings {
        kind how = kind::lines;
        char delimiter = '\n';
        byte_order order = byte_order::big;
        bool includes_header = false;
        unsigned header_bytes = 0;
        std::size_t size = 0; // fixed
    };
    explicit framing(settings s) : s_(s) {}

    decoded decode_line(std::string_view buffered, std::size_t max_payload) const;
    decoded decode_length(std::string_view buffered, std::size_t max_payload) const;
    decoded decode_custom(std::string_view buffered, std::size_t max_payload) const;
    [[noreturn]] void cannot_frame(std::string_view payload, std::string const& why) const;

    settings s_;
    std::function<decoded(std::string_view)> custom_decode_;
    std::function<void(std::string_view, std::string&)> custom_encode_;
};

inline framing framing::lines(char delimiter)
{
    return framing({.delimiter = delimiter});
}

inline framing framing::length_prefixed(unsigned header_bytes, byte_order order, bool length_includes_header)
{
    if (header_bytes != 1 && header_bytes != 2 && header_bytes != 4 && header_bytes != 8)
        throw std::invalid_argument("wsload::tcp::framing::length_prefixed: a " +
                                    std::to_string(header_bytes) + "-byte header (use 1, 2, 4 or 8)");
    return framing({.how = kind::length_prefixed, .order = order, .includes_header = length_includes_header,
                    .header_bytes = header_bytes});
}

inline framing framing::fixed(std::size_t size)
{
    if (size == 0)
        throw std::invalid_argument("wsload::tcp::framing::fixed: a size of 0 (use 1 byte or more)");
    return framing({.how = kind::fixed, .size = size});
}

inline framing framing::custom(std::function<decoded(std::string_view)> decode,
                               std::function<void(std::string_view, std::string&)> encode)
{
    if (!decode) throw std::invalid_argument("wsload::tcp::framing::custom: no decode function (pass one)");
    framing f({.how = kind::custom});
    f.custom_decode_ = std::move(decode);
    f.custom_encode_ = std::move(encode);
    return f;
}

inline void framing::cannot_frame(std::string_view payload, std::string const& why) const
{
    throw std::length_error("wsload::tcp: a " + std::to_string(payload.size()) +
                            "-byte payload cannot be framed as " + describe() + ": " + why);
}

inline void framing::encode(std::string_view payload, std::string& out) const
{
    switch (s_.how) {
    case kind::lines:
        if (payload.find(s_.delimiter) != std::string_view::npos)
            cannot_frame(payload, "it holds the delimiter");
        // decode would strip it: the peer would get another message than the one sent
        if (s_.delimiter == '\n' && !payload.empty() && payload.back() == '\r')
            cannot_frame(payload, "it ends in \\r");
        out.append(payload);
        out += s_.delimiter;
        return;
    case kind::length_prefixed: {
        auto const most = s_.header_bytes == 8 ? std::numeric_limits<std::uint64_t>::max()
                                               : (std::uint64_t{1} << (8 * s_.header_bytes)) - 1;
        auto const extra = s_.includes_header ? s_.header_bytes : 0u;
        if (most - extra < payload.size())
            cannot_frame(payload, "the header says at most " + std::to_string(most - extra) + " bytes");
        auto const length = static_cast<std::uint64_t>(payload.size()) + extra;
        for (unsigned i = 0; i < s_.header_bytes; ++i) {
            auto const shift = 8 * (s_.order == byte_order::big ? s_.header_bytes - 1 - i : i);
            out += static_cast<char>((length >> shift) & 0xff);
        }
        out.append(payload);
        return;
    }
    case kind::fixed:
        if (payload.size() != s_.size)
            cannot_frame(payload, "every message is " + std::to_string(s_.size) + " bytes");
        out.append(payload);
        return;
    case kind::custom:
        if (!custom_encode_) return void(out.append(payload));
        // Keeps the promise that a failed encode leaves `out` as it was.
        auto const before = out.size();
        try {
            custom_encode_(payload, out);
        } catch (...) {
            if (out.size() > before) out.resize(before);
            throw;
        }
        return;
    }
}

inline decoded framing::decode(std::string_view buffered, std::size_t max_payload) const
{
    switch (s_.how) {
    case kind::lines: return decode_line(buffered, max_payload);
    case kind::length_prefixed: return decode_length(buffered, max_payload);
    case kind::fixed:
        // No frame has begun in an empty buffer, so none is known to be too big yet.
        if (buffered.empty()) return {};
        if (s_.size > max_payload) return {.what = decoded::status::too_big};
        if (buffered.size() < s_.size) return {};
        return {decoded::status::complete, s_.size, buffered.substr(0, s_.size)};
    case kind::custom: return decode_custom(buffered, max_payload);
    }
    return {.what = decoded::status::invalid};
}

inline decoded framing::decode_line(std::string_view buffered, std::size_t max_payload) const
{
    // Past max_payload + "\r" + delimiter the answer cannot change; stopping there bounds the
    // work when a caller decodes a growing buffer again after each read.
    auto constexpr most = std::numeric_limits<std::size_t>::max();
    auto const window = buffered.substr(0, max_payload > most - 2 ? most : max_payload + 2);
    auto const crlf = s_.delimiter == '\n';
    auto const end = window.find(s_.delimiter);
    if (end == std::string_view::npos) {
        // The payload will be at least this long, whatever comes next.
        auto const least = window.size() - (crlf && !window.empty() && window.back() == '\r' ? 1 : 0);
        return {.what = least > max_payload ? decoded::status::too_big : decoded::status::incomplete};
    }
    auto payload = window.substr(0, end);
    if (crlf && !payload.empty() && payload.back() == '\r') payload.remove_suffix(1);
    if (payload.size() > max_payload) return {.what = decoded::status::too_big};
    return {decoded::status::complete, end + 1, payload};
}

inline decoded framing::decode_length(std::string_view buffered, std::size_t max_payload) const
{
    auto const header = s_.header_bytes;
    if (buffered.size() < header) return {};
    std::uint64_t length = 0;
    auto const big = s_.order == byte_order::big;
    for (unsigned i = 0; i < header; ++i)
        length = (length << 8) | static_cast<unsigned char>(buffered[big ? i : header - 1 - i]);
    if (s_.includes_header) {
        if (length < header) return {.what = decoded::status::invalid};
        length -= header;
    }
    // The whole frame, header included, must be countable in a size_t whatever max_payload says.
    if (length > max_payload || length > std::numeric_limits<std::size_t>::max() - header)
        return {.what = decoded::status::too_big};
    auto const size = static_cast<std::size_t>(length);
    if (buffered.size() - header < size) return {};
    return {decoded::status::complete, header + size, buffered.substr(header, size)};
}

inline decoded framing::decode_custom(std::string_view buffered, std::size_t max_payload) const
{
    auto d = custom_decode_(buffered);
    switch (d.what) {
    case decoded::status::incomplete:
    case decoded::status::too_big:
    case decoded::status::invalid: return {.what = d.what};
    case decoded::status::complete: break;
    default: return {.what = decoded::status::invalid}; // a value outside the enumeration
    }
    // A frame of no bytes would have the caller decode the same bytes forever.
    if (d.consumed == 0 || d.consumed > buffered.size()) return {.what = decoded::status::invalid};
    auto const frame = buffered.substr(0, d.consumed);
    if (d.payload.empty()) {
        // Where an empty view points is harmless, but it must not dangle all the same.
        d.payload = frame.substr(0, 0);
    } else {
        // As integers: comparing pointers into different objects is unspecified.
        auto const at = reinterpret_cast<std::uintptr_t>(d.payload.data());
        auto const begin = reinterpret_cast<std::uintptr_t>(frame.data());
        if (at < begin || at - begin > frame.size() || d.payload.size() > frame.size() - (at - begin))
            return {.what = decoded::status::invalid};
    }
    if (d.payload.size() > max_payload) return {.what = decoded::status::too_big};
    return d;
}

inline std::string framing::describe() const
{
    auto const bytes = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); };
    switch (s_.how) {
    case kind::lines:
        if (s_.delimiter == '\n') return "lines";
        return "lines (delimiter " + detail::quoted({&s_.delimiter, 1}) + ")";
    case kind::length_prefixed:
        return "length-prefixed (" + bytes(s_.header_bytes) + ", " +
               (s_.header_bytes == 1 ? "" : s_.order == byte_order::big ? "big-endian, " : "little-endian, ") +
               (s_.includes_header ? "including header)" : "excluding header)");
    case kind::fixed: return "fixed (" + bytes(s_.size) + ")";
    case kind::custom: return "custom";
    }
    return "unknown";
}

} // namespace wsload::tcp
