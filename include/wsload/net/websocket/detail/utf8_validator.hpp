#pragma once
// Incremental UTF-8 validation for the lean WebSocket layer. RFC 6455 section 8.1 wants a text
// message rejected (close 1007) as soon as its bytes cannot be UTF-8, and a message can be cut
// anywhere: across frames, and across reads within a frame. So the validator keeps one byte of
// state between calls instead of looking at whole messages (Beast's checker keeps four).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace wsload::net::detail {

/// Validates UTF-8 fed in pieces (RFC 3629: no overlong forms, no surrogates, nothing past
/// U+10FFFF). `feed` is false as soon as the bytes so far cannot start valid UTF-8; `complete`
/// says whether they end on a code point boundary.
class utf8_validator {
public:
    bool feed(const char* data, std::size_t n) noexcept
    {
        auto s = state_;
        if (s == reject) return false;  // once invalid, always: no later bytes can make it valid
        const auto* p = reinterpret_cast<const unsigned char*>(data);
        const auto* const end = p + n;
        while (p != end) {
            if (s == accept) {
                // ASCII runs, eight bytes at a time: the common case of JSON and chat text.
                while (end - p >= 8) {
                    std::uint64_t word;
                    std::memcpy(&word, p, 8);
                    if (word & 0x8080808080808080ULL) break;
                    p += 8;
                }
                if (p == end) break;
                const unsigned char c = *p++;
                if (c < 0x80) continue;
                s = lead(c);
                if (s == reject) break;
            } else {
                const unsigned char c = *p++;
                if (c < low(s) || c > high(s)) {
                    s = reject;
                    break;
                }
                s = after_continuation(s);
            }
        }
        state_ = s;
        return s != reject;
    }
    bool feed(std::string_view s) noexcept { return feed(s.data(), s.size()); }

    /// True when everything fed so far is valid and ends on a code point boundary.
    bool complete() const noexcept { return state_ == accept; }
    void reset() noexcept { state_ = accept; }

    /// Whole-buffer check (a close frame's reason).
    static bool valid(std::string_view s) noexcept
    {
        utf8_validator v;
        return v.feed(s) && v.complete();
    }

private:
    // What the next byte must be: a lead byte (accept), or a continuation byte in the range of
    // the state, with 1, 2 or 3 continuation bytes to go. E0, ED, F0 and F4 narrow the range of
    // the first continuation byte (overlong forms, surrogates, > U+10FFFF).
    enum : std::uint8_t { accept, cont1, cont2, cont3, e0, ed, f0, f4, reject };

    static std::uint8_t lead(unsigned char c) noexcept
    {
        if (c < 0xC2) return reject;  // a continuation byte, or C0/C1 (always overlong)
        if (c < 0xE0) return cont1;
        if (c == 0xE0) return e0;
        if (c == 0xED) return ed;
        if (c < 0xF0) return cont2;
        if (c == 0xF0) return f0;
        if (c < 0xF4) return cont3;
        if (c == 0xF4) return f4;
        return reject;
    }
    static unsigned char low(std::uint8_t s) noexcept { return s == e0 ? 0xA0 : s == f0 ? 0x90 : 0x80; }
    static unsigned char high(std::uint8_t s) noexcept { return s == ed ? 0x9F : s == f4 ? 0x8F : 0xBF; }
    static std::uint8_t after_continuation(std::uint8_t s) noexcept
    {
        switch (s) {
        case cont1: return accept;
        case cont2: case e0: case ed: return cont1;
        default: return cont2;  // cont3, f0, f4
        }
    }

    std::uint8_t state_ = accept;
};

}  // namespace wsload::net::detail
