#pragma once
// A WebSocket server written by hand, byte by byte, for the RFC 6455 conformance tests of the
// client. It answers the HTTP upgrade itself (correctly, or in a chosen wrong way), then runs
// the test's *script* on each connection: raw frames from its own encoder (any FIN/RSV/opcode
// bits, 7/16/64-bit lengths, an optional mask, a length announced but never sent), and every
// frame the client sends is parsed and recorded (mask bit and key, opcode, payload, close code
// and reason). Tests then assert on what the client put on the wire, whatever frame layer the
// client uses. It listens on 127.0.0.1 (port 0) and runs on its own thread and io_context.
//
//     frame_server server([](peer& p) -> boost::asio::awaitable<void> {
//         co_await p.send(frame(opcode::text, "Hel").fin(false));
//         co_await p.send(frame(opcode::ping, "between"));
//         co_await p.send(frame(opcode::continuation, "lo"));
//         co_await p.echo_until_close();
//     });

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace wsload::test {

/// Frame opcodes (RFC 6455 section 5.2). Plain numbers: tests also send the reserved ones.
namespace opcode {
inline constexpr std::uint8_t continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA;
}

// ------------------------------------------------------------------------------------------
// Encoding

inline std::string base64(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                    static_cast<int>(bytes.size()));
    return out;
}

/// The bytes `text` encodes in padded base64; nullopt if it is not exactly that (it must
/// encode back to itself: no whitespace, no missing padding).
inline std::optional<std::string> base64_decode(std::string_view text)
{
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - static_cast<std::size_t>(std::count(text.end() - 2, text.end(), '=')));
    if (base64(out) != text) return std::nullopt;
    return out;
}

/// Sec-WebSocket-Accept for `key` (RFC 6455 section 4.2.2): base64(SHA-1(key + GUID)).
inline std::string accept_key(std::string_view key)
{
    const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    return base64({reinterpret_cast<const char*>(digest), sizeof digest});
}

/// A close frame's payload: the code, big-endian, then the reason.
inline std::string close_payload(std::uint16_t code, std::string_view reason = {})
{
    std::string p{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    p += reason;
    return p;
}

/// A frame built by hand, as section 5.2 lays it out. FIN is set unless `fin(false)`; the
/// length takes the fewest bytes (7, 16 or 64 bits) unless `announce` gives another one.
/// A class with a constructor, not an aggregate: see websocket_options on g++ 12.
class frame {
public:
    frame(std::uint8_t opcode, std::string payload) : opcode_(opcode), payload_(std::move(payload)) {}

    frame& fin(bool f) { fin_ = f; return *this; }
    /// RSV1..RSV3 as three bits: 0b100 is RSV1.
    frame& rsv(std::uint8_t bits) { rsv_ = bits; return *this; }
    /// Masks the payload with `key` (a server must not).
    frame& mask(std::uint32_t key) { mask_ = key; return *this; }
    /// Announces `length` bytes of payload while sending only the payload given.
    frame& announce(std::uint64_t length) { announced_ = length; return *this; }

    std::string bytes() const
    {
        std::string out;
        out += static_cast<char>((fin_ ? 0x80 : 0) | (rsv_ & 0x7) << 4 | (opcode_ & 0x0F));
        const std::uint64_t n = announced_.value_or(payload_.size());
        const int mask_bit = mask_ ? 0x80 : 0;
        if (n < 126) {
            out += static_cast<char>(mask_bit | static_cast<int>(n));
        } else if (n <= 0xFFFF) {
            out += static_cast<char>(mask_bit | 126);
            for (int shift = 8; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
        } else {
            out += static_cast<char>(mask_bit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
        }
        if (!mask_) return out + payload_;
        char key[4];
        for (int i = 0; i < 4; ++i) key[i] = static_cast<char>((*mask_ >> (24 - 8 * i)) & 0xFF);
        out.append(key, 4);
        for (std::size_t i = 0; i < payload_.size(); ++i) out += static_cast<char>(payload_[i] ^ key[i % 4]);
        return out;
    }

private:
    std::uint8_t opcode_;
    std::string payload_;
    bool fin_ = true;
    std::uint8_t rsv_ = 0;
    std::optional<std::uint32_t> mask_;
    std::optional<std::uint64_t> announced_;
};

// ------------------------------------------------------------------------------------------
// What the server saw

/// One frame the client sent, as parsed off the wire (the payload unmasked).
struct client_frame {
    client_frame() = default;  // not an aggregate: see frame

    bool fin = false;
    std::uint8_t rsv = 0;
    std::uint8_t opcode = 0;
    bool masked = false;
    std::uint32_t mask_key = 0;
    unsigned length_bytes = 0;  ///< extended length bytes: 0 (7-bit), 2 (16-bit) or 8 (64-bit)
    std::string payload;

    /// A close frame's code; 0 when its payload is empty.
    unsigned close_code() const
    {
        if (payload.size() < 2) return 0;
        return static_cast<unsigned>(static_cast<unsigned char>(payload[0])) << 8 |
               static_cast<unsigned char>(payload[1]);
    }
    std::string_view close_reason() const
    {
        return payload.size() < 2 ? std::string_view{} : std::string_view(payload).substr(2);
    }
};

/// Everything the server saw on one connection.
struct connection_record {
    connection_record() = default;  // not an aggregate: see frame

    std::string request;               ///< the upgrade request, up to the blank line
    std::vector<client_frame> frames;  ///< every frame the client sent after the upgrade
    bool client_closed_tcp = false;    ///< a read ended with EOF or reset from the client
    std::string script_error;          ///< what a script threw (a bug in the test)

    /// A request header's value, names compared case-insensitively; "" when absent.
    std::string header(std::string_view name) const
    {
        std::string_view rest(request);
        while (!rest.empty()) {
            const auto end = rest.find("\r\n");
            const auto line = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos || !iequal(line.substr(0, colon), name)) continue;
            auto value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
            return std::string(value);
        }
        return {};
    }

    std::vector<const client_frame*> frames_of(std::uint8_t op) const
    {
        std::vector<const client_frame*> out;
        for (const auto& f : frames)
            if (f.opcode == op) out.push_back(&f);
        return out;
    }

    /// The first close frame the client sent; nullptr if none.
    const client_frame* close_frame() const
    {
        const auto closes = frames_of(opcode::close);
        return closes.empty() ? nullptr : closes.front();
    }

    static bool iequal(std::string_view a, std::string_view b)
    {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](char x, char y) {
                              return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
                          });
    }
};

// ------------------------------------------------------------------------------------------
// The upgrade

/// How the server answers the upgrade request. By default a correct 101 that picks the first
/// subprotocol the client offered, if it offered any.
class upgrade_reply {
public:
    upgrade_reply() {}

    /// Refuses the upgrade with this status instead of 101.
    upgrade_reply& status(unsigned s) { status_ = s; return *this; }
    /// Leaves this header out of the 101 ("Upgrade", "Connection" or "Sec-WebSocket-Accept").
    upgrade_reply& without(std::string header) { without_ = std::move(header); return *this; }
    /// Answers this Sec-WebSocket-Accept instead of the right one.
    upgrade_reply& accept(std::string value) { accept_ = std::move(value); return *this; }
    /// Answers this Sec-WebSocket-Protocol whatever the client offered; "" leaves it out.
    upgrade_reply& subprotocol(std::string p) { subprotocol_ = std::move(p); return *this; }
    /// Answers this Sec-WebSocket-Extensions (as given: "\r\nSec-WebSocket-Extensions: " inside
    /// it makes a second field); "" (the default) leaves it out.
    upgrade_reply& extensions(std::string e) { extensions_ = std::move(e); return *this; }

    bool switches() const noexcept { return status_ == 101; }

    std::string text(const connection_record& request) const
    {
        if (!switches())
            return "HTTP/1.1 " + std::to_string(status_) + " Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        std::string r = "HTTP/1.1 101 Switching Protocols\r\n";
        add(r, "Upgrade", "websocket");
        add(r, "Connection", "Upgrade");
        add(r, "Sec-WebSocket-Accept", accept_.value_or(accept_key(request.header("Sec-WebSocket-Key"))));
        const auto offered = request.header("Sec-WebSocket-Protocol");
        add(r, "Sec-WebSocket-Protocol", subprotocol_.value_or(offered.substr(0, offered.find(','))));
        add(r, "Sec-WebSocket-Extensions", extensions_);
        return r + "\r\n";
    }

private:
    void add(std::string& r, std::string_view name, const std::string& value) const
    {
        if (value.empty() || connection_record::iequal(name, without_)) return;
        r.append(name).append(": ").append(value).append("\r\n");
    }

    unsigned status_ = 101;
    std::string without_;
    std::optional<std::string> accept_;
    std::optional<std::string> subprotocol_;
    std::string extensions_;
};

// ------------------------------------------------------------------------------------------
// A connection as a script sees it

/// One upgraded connection, handed to the script. Every read is bounded (10 s unless given)
/// and records each client frame it parses; failures end reads with nullopt, never throw.
class peer {
public:
    using tcp = boost::asio::ip::tcp;
    using clock = std::chrono::steady_clock;
    template <class T = void>
    using awaitable = boost::asio::awaitable<T>;
    static constexpr auto default_bound = std::chrono::seconds(10);

    /// `record` and `lock` belong to the server, which outlives every script.
    peer(tcp::socket socket, std::string already_read, connection_record& record, std::mutex& lock)
        : socket_(std::move(socket)), buffer_(std::move(already_read)), record_(record), lock_(lock)
    {
    }

    /// Writes `f`; false when the write failed (the client is gone).
    awaitable<bool> send(frame f) { co_return co_await send_raw(f.bytes()); }

    awaitable<bool> send_raw(std::string bytes)
    {
        auto [ec, n] = co_await boost::asio::async_write(socket_, boost::asio::buffer(bytes), use_tuple);
        co_return !ec;
    }

    /// The client's next frame; nullopt when the client closed TCP, on an error or after `bound`.
    awaitable<std::optional<client_frame>> read_frame(std::chrono::nanoseconds bound = default_bound)
    {
        const auto deadline = clock::now() + bound;
        if (!co_await fill(2, deadline)) co_return std::nullopt;
        client_frame f;
        const auto b0 = static_cast<unsigned char>(buffer_[0]), b1 = static_cast<unsigned char>(buffer_[1]);
        f.fin = b0 & 0x80;
        f.rsv = (b0 >> 4) & 0x7;
        f.opcode = b0 & 0x0F;
        f.masked = b1 & 0x80;
        std::uint64_t length = b1 & 0x7F;
        f.length_bytes = length == 126 ? 2 : length == 127 ? 8 : 0;
        std::size_t header = 2 + f.length_bytes;
        if (!co_await fill(header, deadline)) co_return std::nullopt;
        if (f.length_bytes) {
            length = 0;
            for (std::size_t i = 2; i < header; ++i) length = length << 8 | static_cast<unsigned char>(buffer_[i]);
        }
        if (length > max_client_frame) co_return std::nullopt;  // not a client a test expects
        if (f.masked) {
            if (!co_await fill(header + 4, deadline)) co_return std::nullopt;
            for (std::size_t i = header; i < header + 4; ++i)
                f.mask_key = f.mask_key << 8 | static_cast<unsigned char>(buffer_[i]);
            header += 4;
        }
        if (!co_await fill(header + length, deadline)) co_return std::nullopt;
        f.payload = buffer_.substr(header, length);
        if (f.masked)
            for (std::size_t i = 0; i < f.payload.size(); ++i)
                f.payload[i] = static_cast<char>(f.payload[i] ^ buffer_[header - 4 + i % 4]);
        buffer_.erase(0, header + length);
        {
            std::lock_guard g(lock_);
            record_.frames.push_back(f);
        }
        co_return f;
    }

    /// Reads until the client's close frame and returns it; nullopt at EOF or after `bound`.
    awaitable<std::optional<client_frame>> read_until_close(std::chrono::nanoseconds bound = default_bound)
    {
        const auto deadline = clock::now() + bound;
        for (;;) {
            auto f = co_await read_frame(deadline - clock::now());
            if (!f || f->opcode == opcode::close) co_return f;
        }
    }

    /// Reads (and records) frames until the client closes TCP; false after `bound`.
    awaitable<bool> wait_for_eof(std::chrono::nanoseconds bound = default_bound)
    {
        const auto deadline = clock::now() + bound;
        while (co_await read_frame(deadline - clock::now())) {
        }
        std::lock_guard g(lock_);
        co_return record_.client_closed_tcp;
    }

    /// A well-behaved server from here on: echoes each data frame as it came (unmasked),
    /// answers pings, answers the client's close with the same code and closes TCP.
    awaitable<void> echo_until_close(std::chrono::nanoseconds bound = default_bound)
    {
        const auto deadline = clock::now() + bound;
        while (auto f = co_await read_frame(deadline - clock::now())) {
            switch (f->opcode) {
            case opcode::ping: co_await send(frame(opcode::pong, f->payload)); break;
            case opcode::pong: break;
            case opcode::close:
                co_await send(frame(opcode::close, f->payload.substr(0, 2)));
                close_tcp();
                co_return;
            default: co_await send(frame(f->opcode, f->payload).fin(f->fin)); break;
            }
        }
    }

    awaitable<void> wait(std::chrono::nanoseconds d)
    {
        boost::asio::steady_timer t(socket_.get_executor(), d);
        co_await t.async_wait(use_tuple);
    }

    /// Closes TCP gracefully (FIN).
    void close_tcp()
    {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    /// Resets TCP (RST): close() with a zero linger.
    void reset_tcp()
    {
        boost::system::error_code ignored;
        socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
        socket_.close(ignored);
    }

private:
    static constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    static constexpr std::uint64_t max_client_frame = 64 * 1024 * 1024;

    /// Reads until `buffer_` holds `n` bytes; false on EOF, error or the deadline.
    awaitable<bool> fill(std::size_t n, clock::time_point deadline)
    {
        using namespace boost::asio::experimental::awaitable_operators;
        while (buffer_.size() < n) {
            if (!socket_.is_open()) co_return false;
            char chunk[16 * 1024];
            boost::asio::steady_timer timer(socket_.get_executor(), deadline);
            auto got = co_await (socket_.async_read_some(boost::asio::buffer(chunk), use_tuple) ||
                                 timer.async_wait(use_tuple));
            if (got.index() == 1) co_return false;
            auto [ec, size] = std::get<0>(got);
            if (ec) {
                std::lock_guard g(lock_);
                record_.client_closed_tcp = true;
                co_return false;
            }
            buffer_.append(chunk, size);
        }
        co_return true;
    }

    tcp::socket socket_;
    std::string buffer_;
    connection_record& record_;
    std::mutex& lock_;
};

/// A script: what the server does on each upgraded connection. It runs on the server's
/// thread; tests read the records afterwards (assertions in a script would run off the test
/// thread).
using script = std::function<boost::asio::awaitable<void>(peer&)>;

// ------------------------------------------------------------------------------------------
// The server

class frame_server {
public:
    explicit frame_server(script s, upgrade_reply reply = upgrade_reply()) : script_(std::move(s)), reply_(std::move(reply))
    {
        acceptor_.open(tcp::v4());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen(1024);
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~frame_server()
    {
        io_.stop();
        thread_.join();
    }
    frame_server(const frame_server&) = delete;
    frame_server& operator=(const frame_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }

    /// Waits until `n` connections have ended on the server's side; false after `bound`.
    bool wait_until_ended(std::size_t n, std::chrono::nanoseconds bound = std::chrono::seconds(15)) const
    {
        std::unique_lock g(lock_);
        return ended_changed_.wait_for(g, bound, [&] { return ended_ >= n; });
    }

    /// What the server saw on each connection so far, in the order they were accepted.
    std::vector<connection_record> connections() const
    {
        std::lock_guard g(lock_);
        return {records_.begin(), records_.end()};
    }

private:
    using tcp = boost::asio::ip::tcp;
    static constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

    boost::asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            connection_record* record;
            {
                std::lock_guard g(lock_);
                record = &records_.emplace_back();  // a deque: earlier records stay where they are
            }
            boost::asio::co_spawn(io_, serve(std::move(socket), *record), boost::asio::detached);
        }
    }

    /// Reads the upgrade request, answers it, and runs the script on a 101.
    boost::asio::awaitable<void> serve(tcp::socket socket, connection_record& record)
    {
        using namespace boost::asio::experimental::awaitable_operators;
        std::string request;
        boost::asio::steady_timer timer(io_, std::chrono::seconds(10));
        auto got = co_await (
            boost::asio::async_read_until(socket, boost::asio::dynamic_buffer(request), "\r\n\r\n", use_tuple) ||
            timer.async_wait(use_tuple));
        if (got.index() == 0 && !std::get<0>(std::get<0>(got))) {
            const auto end = std::get<1>(std::get<0>(got));  // just past the blank line
            std::string rest = request.substr(end);
            request.resize(end);
            {
                std::lock_guard g(lock_);
                record.request = request;
            }
            const auto reply = reply_.text(record);
            auto [ec, n] = co_await boost::asio::async_write(socket, boost::asio::buffer(reply), use_tuple);
            if (!ec && reply_.switches()) {
                peer p(std::move(socket), std::move(rest), record, lock_);
                try {
                    co_await script_(p);
                } catch (const std::exception& e) {
                    std::lock_guard g(lock_);
                    record.script_error = e.what();
                }
                p.close_tcp();
            } else if (!ec) {
                // Refused: the client reads to EOF or goes away; wait for it (bounded).
                boost::system::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_send, ignored);
                peer p(std::move(socket), std::move(rest), record, lock_);
                co_await p.wait_for_eof();
            }
        }
        {
            std::lock_guard g(lock_);
            ++ended_;
        }
        ended_changed_.notify_all();
    }

    script script_;
    upgrade_reply reply_;
    boost::asio::io_context io_;
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    mutable std::mutex lock_;
    mutable std::condition_variable ended_changed_;
    std::deque<connection_record> records_;
    std::size_t ended_ = 0;
    std::thread thread_;
};

}  // namespace wsload::test
