#pragma once
// permessage-deflate (RFC 7692): what a WebSocket connection offers and how it compresses.
// Off unless asked for, per connection (websocket_options::compression) or for the run
// (--compression).

#include <wsload/core/error.hpp>

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wsload {

/// The permessage-deflate offer and the client's own compression settings:
/// `wsload::deflate_options().client_no_context_takeover().server_max_window_bits(10)`.
/// The defaults offer what browsers do (`permessage-deflate; client_max_window_bits`) and
/// compress at zlib's level 6, memLevel 8. A setter given a value out of range throws
/// std::invalid_argument. (A class, not an aggregate: see the README's g++ 12 note.)
class deflate_options {
public:
    deflate_options() {}

    /// Ask the server to let the client reset its compressor after each message: the
    /// client's compressor is then one per thread, not one per connection. The client resets
    /// after each message whenever the server asks for it too.
    deflate_options& client_no_context_takeover(bool on = true) { client_no_context_ = on; return *this; }
    /// Ask the server to reset its compressor after each message: the client's decompressor is
    /// then one per thread, not one per connection (about 39 KB each at 15 window bits).
    deflate_options& server_no_context_takeover(bool on = true) { server_no_context_ = on; return *this; }
    /// The client's LZ77 window, 8-15 bits, offered as `client_max_window_bits=N` (the server may
    /// lower it). Unset: `client_max_window_bits` is offered without a value and 15 is used.
    deflate_options& client_max_window_bits(unsigned bits) { client_bits_ = checked_bits(bits); return *this; }
    /// Ask the server to use at most 2^bits bytes of window, 8-15 (`server_max_window_bits=N`).
    deflate_options& server_max_window_bits(unsigned bits) { server_bits_ = checked_bits(bits); return *this; }
    /// zlib's compression level of the client's messages, 0 (stored) to 9; 6 by default.
    deflate_options& level(int l)
    {
        if (l < 0 || l > 9) throw std::invalid_argument("deflate_options::level: " + std::to_string(l) + " is not 0-9");
        level_ = static_cast<std::uint8_t>(l);
        return *this;
    }
    /// zlib's memLevel of the client's compressor, 1 to 9 (8 by default): its hash table and
    /// symbol buffer take 2^(memLevel + 9) bytes together.
    deflate_options& mem_level(int m)
    {
        if (m < 1 || m > 9) throw std::invalid_argument("deflate_options::mem_level: " + std::to_string(m) + " is not 1-9");
        mem_level_ = static_cast<std::uint8_t>(m);
        return *this;
    }

    bool offers_client_no_context_takeover() const noexcept { return client_no_context_; }
    bool offers_server_no_context_takeover() const noexcept { return server_no_context_; }
    /// 0 when unset.
    unsigned client_max_window_bits() const noexcept { return client_bits_; }
    /// 0 when unset.
    unsigned server_max_window_bits() const noexcept { return server_bits_; }
    int level() const noexcept { return level_; }
    int mem_level() const noexcept { return mem_level_; }

    /// The Sec-WebSocket-Extensions value offering these settings.
    std::string offer() const
    {
        std::string s = "permessage-deflate";
        if (client_no_context_) s += "; client_no_context_takeover";
        if (server_no_context_) s += "; server_no_context_takeover";
        s += "; client_max_window_bits";
        if (client_bits_) s += "=" + std::to_string(client_bits_);
        if (server_bits_) s += "; server_max_window_bits=" + std::to_string(server_bits_);
        return s;
    }

    /// Reads --compression's value: `on`, or a comma-separated list of `on`,
    /// `client-no-context-takeover`, `server-no-context-takeover` (`no-context-takeover`: both),
    /// `client-max-window-bits=N`, `server-max-window-bits=N`, `level=N`, `mem-level=N`. Throws
    /// usage_error, its message saying what to type.
    static deflate_options parse(std::string_view text)
    {
        deflate_options o;
        if (text.empty()) throw usage_error("an empty value (use on, off or a list such as on,no-context-takeover)");
        while (!text.empty()) {
            const auto comma = text.find(',');
            const auto item = text.substr(0, comma);
            text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
            const auto eq = item.find('=');
            const auto key = item.substr(0, eq);
            const auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
            const bool has_value = eq != std::string_view::npos;
            const auto number = [&](int lo, int hi) {
                int n = -1;
                const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
                if (ec != std::errc{} || p != value.data() + value.size() || n < lo || n > hi)
                    throw usage_error(detail::quoted(std::string(item)) + ": " + std::string(key) + " takes a number from " +
                                      std::to_string(lo) + " to " + std::to_string(hi));
                return n;
            };
            if (!has_value && key == "on") continue;
            if (!has_value && key == "client-no-context-takeover") o.client_no_context_takeover();
            else if (!has_value && key == "server-no-context-takeover") o.server_no_context_takeover();
            else if (!has_value && key == "no-context-takeover") o.client_no_context_takeover().server_no_context_takeover();
            else if (has_value && key == "client-max-window-bits") o.client_max_window_bits(static_cast<unsigned>(number(8, 15)));
            else if (has_value && key == "server-max-window-bits") o.server_max_window_bits(static_cast<unsigned>(number(8, 15)));
            else if (has_value && key == "level") o.level(number(0, 9));
            else if (has_value && key == "mem-level") o.mem_level(number(1, 9));
            else
                throw usage_error(detail::quoted(std::string(item)) +
                                  " is not a compression setting (use off, on, no-context-takeover, "
                                  "client-no-context-takeover, server-no-context-takeover, client-max-window-bits=8-15, "
                                  "server-max-window-bits=8-15, level=0-9, mem-level=1-9, comma-separated)");
        }
        return o;
    }

    /// The inverse of parse() (without "off"): what --print-config shows.
    std::string to_flag() const
    {
        std::string s = "on";
        if (client_no_context_) s += ",client-no-context-takeover";
        if (server_no_context_) s += ",server-no-context-takeover";
        if (client_bits_) s += ",client-max-window-bits=" + std::to_string(client_bits_);
        if (server_bits_) s += ",server-max-window-bits=" + std::to_string(server_bits_);
        if (level_ != 6) s += ",level=" + std::to_string(level_);
        if (mem_level_ != 8) s += ",mem-level=" + std::to_string(mem_level_);
        return s;
    }

private:
    static std::uint8_t checked_bits(unsigned bits)
    {
        if (bits < 8 || bits > 15)
            throw std::invalid_argument("deflate_options: " + std::to_string(bits) + " window bits is not 8-15");
        return static_cast<std::uint8_t>(bits);
    }

    std::uint8_t client_bits_ = 0;
    std::uint8_t server_bits_ = 0;
    std::uint8_t level_ = 6;
    std::uint8_t mem_level_ = 8;
    bool client_no_context_ = false;
    bool server_no_context_ = false;
};

}  // namespace wsload
