#pragma once
// A deliberately misbehaving server for tests: listens on 127.0.0.1 (port 0), runs on its own
// thread, and treats every connection the same way, chosen by `behaviour`. It exists to show
// that each way a server can fail lands in exactly one class of wsload's taxonomy.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace wsload::test {

enum class misbehaviour {
    http_status,           ///< answers the upgrade with `status` and closes
    silent,                ///< accepts TCP, reads the request, never answers
    bad_accept_key,        ///< a 101 whose Sec-WebSocket-Accept is wrong
    reset_during_upgrade,  ///< reads the request, then resets the connection (RST)
    close_after_upgrade,   ///< upgrades, then closes with `status` as the close code
    reset_after_upgrade,   ///< upgrades, then resets the connection (RST, no close frame)
};

class scripted_server {
public:
    explicit scripted_server(misbehaviour b, unsigned status = 0) : behaviour_(b), status_(status)
    {
        acceptor_.open(boost::asio::ip::tcp::v4());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen(4096);
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~scripted_server()
    {
        io_.stop();
        thread_.join();
    }
    scripted_server(const scripted_server&) = delete;
    scripted_server& operator=(const scripted_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }
    /// Connections accepted so far.
    unsigned accepted() const noexcept { return accepted_.load(); }

private:
    using tcp = boost::asio::ip::tcp;

    boost::asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
            ++accepted_;
            boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
        }
    }

    static void reset(tcp::socket& s)
    {
        boost::system::error_code ec;
        s.set_option(boost::asio::socket_base::linger(true, 0), ec);  // close() now sends RST
        s.close(ec);
    }

    boost::asio::awaitable<void> serve(tcp::socket socket)
    {
        namespace beast = boost::beast;
        namespace websocket = beast::websocket;
        try {
            if (behaviour_ == misbehaviour::close_after_upgrade || behaviour_ == misbehaviour::reset_after_upgrade) {
                websocket::stream<tcp::socket> ws(std::move(socket));
                co_await ws.async_accept(boost::asio::use_awaitable);
                if (behaviour_ == misbehaviour::reset_after_upgrade) {
                    reset(ws.next_layer());
                    co_return;
                }
                co_await ws.async_close(websocket::close_reason(static_cast<std::uint16_t>(status_)),
                                        boost::asio::use_awaitable);
                co_return;
            }
            boost::asio::streambuf request;
            co_await boost::asio::async_read_until(socket, request, "\r\n\r\n", boost::asio::use_awaitable);
            std::string reply;
            switch (behaviour_) {
            case misbehaviour::http_status:
                reply = "HTTP/1.1 " + std::to_string(status_) + " Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                break;
            case misbehaviour::bad_accept_key:
                reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n";
                break;
            case misbehaviour::reset_during_upgrade: reset(socket); co_return;
            case misbehaviour::silent: {
                // Hold the connection open, unanswered, until the client gives up.
                char byte;
                co_await socket.async_read_some(boost::asio::buffer(&byte, 1), boost::asio::use_awaitable);
                co_return;
            }
            default: co_return;
            }
            co_await boost::asio::async_write(socket, boost::asio::buffer(reply), boost::asio::use_awaitable);
            boost::system::error_code ec;
            socket.shutdown(tcp::socket::shutdown_send, ec);
            char byte;
            co_await socket.async_read_some(boost::asio::buffer(&byte, 1), boost::asio::use_awaitable);
        } catch (const std::exception&) {
            // The client went away: nothing to do, the test checks what the client counted.
        }
    }

    misbehaviour behaviour_;
    unsigned status_;
    boost::asio::io_context io_;
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::atomic<unsigned> accepted_{0};
    std::thread thread_;
};

}  // namespace wsload::test
