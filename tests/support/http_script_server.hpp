#pragma once
// An HTTP/1.1 server for tests that says exactly what its script says, byte for byte: listens on
// 127.0.0.1 (port 0), runs on its own thread and io_context, and runs the script once per
// accepted connection. The script reads requests (heads, then as much of a body as it wants),
// writes whatever bytes it likes (a response, half of one, one that is not HTTP, one byte at a
// time) and ends the connection the way it chooses (FIN, RST, or waiting for the client to go).
// It exists to show that each way an HTTP server can fail or surprise lands in exactly one class
// of wsload's taxonomy.
//
//     http_script_server server([](http_script_connection& c) -> boost::asio::awaitable<void> {
//         while (auto request = co_await c.read_request())
//             if (!co_await c.write(http_script_response(200, "ok"))) co_return;
//     });

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace wsload::test {

/// A request's head as the scripted server read it, parsed just enough to script against.
struct http_script_request {
    std::string method;
    std::string target;
    std::uint64_t content_length = 0;  ///< 0 when none was given
    std::string head;                  ///< the whole head, request line to the empty line

    /// The first header of that name (case-insensitive), "" when there is none.
    std::string_view header(std::string_view name) const
    {
        std::string_view rest(head);
        rest.remove_prefix(std::min(rest.size(), rest.find("\r\n") + 2));  // the request line
        while (!rest.empty()) {
            const auto end = rest.find("\r\n");
            const auto line = rest.substr(0, end);
            const auto colon = line.find(':');
            if (colon != std::string_view::npos && boost::beast::iequals(line.substr(0, colon), name)) {
                auto value = line.substr(colon + 1);
                while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
                return value;
            }
            if (end == std::string_view::npos) break;
            rest.remove_prefix(end + 2);
        }
        return {};
    }
};

/// "HTTP/1.1 <status> <reason>" with Content-Length and `body`, plus `extra` header lines
/// (each ending in "\r\n").
inline std::string http_script_response(unsigned status, std::string_view body, std::string_view extra = {})
{
    std::string r = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Type: text/plain\r\n";
    r += extra;
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r += body;
    return r;
}

/// One accepted connection, handed to the script. Every operation reports failure (the client
/// went away) instead of throwing.
class http_script_connection {
public:
    using tcp = boost::asio::ip::tcp;

    http_script_connection(tcp::socket socket, std::atomic<unsigned>& requests)
        : socket_(std::move(socket)), requests_(requests)
    {}

    /// The next request's head; nullopt when the client closed or reset the connection first.
    /// Its body, if any, is left unread (read_body, read_body_part, drain).
    boost::asio::awaitable<std::optional<http_script_request>> read_request()
    {
        auto [ec, n] = co_await boost::asio::async_read_until(socket_, boost::asio::dynamic_buffer(buffer_),
                                                               "\r\n\r\n",
                                                               boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return std::nullopt;
        http_script_request r;
        r.head = buffer_.substr(0, n);
        buffer_.erase(0, n);
        const auto line_end = r.head.find("\r\n");
        const std::string_view line(r.head.data(), line_end);
        const auto space = line.find(' ');
        r.method = std::string(line.substr(0, space));
        const auto target_end = line.find(' ', space + 1);
        r.target = std::string(line.substr(space + 1, target_end - space - 1));
        const auto length = r.header("Content-Length");
        std::from_chars(length.data(), length.data() + length.size(), r.content_length);
        ++requests_;
        co_return r;
    }

    /// The request's whole body (Content-Length bytes); nullopt when the client went first.
    boost::asio::awaitable<std::optional<std::string>> read_body(const http_script_request& r)
    {
        while (buffer_.size() < r.content_length) {
            char chunk[64 * 1024];
            auto [ec, n] = co_await socket_.async_read_some(boost::asio::buffer(chunk),
                                                            boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return std::nullopt;
            buffer_.append(chunk, n);
        }
        std::string body = buffer_.substr(0, r.content_length);
        buffer_.erase(0, r.content_length);
        co_return body;
    }

    /// Reads and drops at least `n` bytes (of a body); false when the client went first.
    boost::asio::awaitable<bool> read_body_part(std::uint64_t n)
    {
        std::uint64_t got = std::min<std::uint64_t>(n, buffer_.size());
        buffer_.erase(0, got);
        char chunk[64 * 1024];
        while (got < n) {
            auto [ec, k] = co_await socket_.async_read_some(boost::asio::buffer(chunk),
                                                            boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return false;
            got += k;
        }
        co_return true;
    }

    /// Writes all of `bytes`; false when the client went first.
    boost::asio::awaitable<bool> write(std::string_view bytes)
    {
        auto [ec, n] = co_await boost::asio::async_write(socket_, boost::asio::buffer(bytes),
                                                          boost::asio::as_tuple(boost::asio::use_awaitable));
        co_return !ec;
    }

    /// Writes `bytes` one at a time, `gap` apart; false when the client went first.
    boost::asio::awaitable<bool> write_slowly(std::string_view bytes, std::chrono::milliseconds gap)
    {
        for (const char c : bytes) {
            if (!co_await write(std::string_view(&c, 1))) co_return false;
            co_await pause(gap);
        }
        co_return true;
    }

    boost::asio::awaitable<void> pause(std::chrono::milliseconds d)
    {
        boost::asio::steady_timer wait(socket_.get_executor(), d);
        co_await wait.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    /// Ends the sending side in order (TCP's FIN); reading goes on.
    void fin()
    {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
    }

    /// Resets the connection (RST): a close with a zero linger.
    void reset()
    {
        boost::system::error_code ignored;
        socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
        socket_.close(ignored);
    }

    /// Reads and drops whatever comes until the client goes (a FIN or an RST): the bytes dropped.
    /// What nginx's lingering close does after a response sent before the request's body was read.
    boost::asio::awaitable<std::uint64_t> drain()
    {
        std::uint64_t dropped = std::exchange(buffer_, {}).size();
        char chunk[64 * 1024];
        for (;;) {
            auto [ec, n] = co_await socket_.async_read_some(boost::asio::buffer(chunk),
                                                            boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return dropped;
            dropped += n;
        }
    }

private:
    tcp::socket socket_;
    std::string buffer_;  ///< read and not yet handed out
    std::atomic<unsigned>& requests_;
};

class http_script_server {
public:
    /// Runs `script` for each connection, on the server's thread; `script` lives as long as the
    /// server (a lambda's captures are safe to use in its coroutine).
    using script = std::function<boost::asio::awaitable<void>(http_script_connection&)>;

    explicit http_script_server(script s) : script_(std::move(s))
    {
        acceptor_.open(tcp::v4());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen(4096);
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~http_script_server()
    {
        io_.stop();
        thread_.join();
    }
    http_script_server(const http_script_server&) = delete;
    http_script_server& operator=(const http_script_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// e.g. "http://127.0.0.1:PORT" + path.
    std::string url(std::string_view path = {}) const
    {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }
    /// Connections accepted so far.
    unsigned accepted() const noexcept { return accepted_.load(); }
    /// Request heads read so far.
    unsigned requests() const noexcept { return requests_.load(); }

private:
    using tcp = boost::asio::ip::tcp;

    boost::asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
            ++accepted_;
            boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> serve(tcp::socket socket)
    {
        http_script_connection c(std::move(socket), requests_);
        try {
            co_await script_(c);
        } catch (const std::exception&) {
            // The client went away under a step that throws: the test checks what the client counted.
        }
    }

    script script_;
    boost::asio::io_context io_{1};
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::atomic<unsigned> accepted_{0};
    std::atomic<unsigned> requests_{0};
    std::thread thread_;
};

}  // namespace wsload::test
