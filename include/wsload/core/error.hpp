#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace wsload {

/// A mistake in what the user typed (option, duration, URL...). The message is one line that
/// says what was wrong and what to type instead; the caller prefixes it with the option name.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {

/// `text` between double quotes, with quotes, backslashes and non-printable bytes escaped so
/// that an error message stays on one line whatever the user passed.
inline std::string quoted(std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace detail
} // namespace wsload
