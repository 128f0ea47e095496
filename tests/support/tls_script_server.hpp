#pragma once
// A TLS server for tests that misbehaves on purpose, in process: listens on 127.0.0.1 (port 0),
// runs on its own thread and treats every connection the same way, chosen by `behaviour`. The
// first two never speak TLS (a plain TCP server where the client expects one); the others
// complete the TLS handshake and the WebSocket upgrade (Beast over asio's ssl::stream), then
// echo, or end or stall the connection the ways a server or the network can. It records the
// server name (SNI) each TLS handshake carried.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace wsload::test {

enum class tls_misbehaviour {
    no_server_hello,             ///< plain TCP: reads the ClientHello, never answers, keeps the socket
    plain_text_reply,            ///< plain TCP: answers the ClientHello with `reply` in clear (or nothing), then FIN
    echo,                        ///< TLS, upgrade, then echoes until the client closes
    echo_with_key_updates,       ///< the same, each echo behind a TLS 1.3 KeyUpdate asking the client for one
    // These three wait for the client's first message before they end the connection: then the
    // client has taken the upgrade's reply (an RST right behind it could discard it unread).
    fin_after_upgrade,           ///< TLS, upgrade, a message, then TCP's FIN: no close_notify, no close frame
    close_notify_after_upgrade,  ///< TLS, upgrade, a message, then close_notify and FIN: no close frame
    reset_after_upgrade,         ///< TLS, upgrade, a message, then RST
    stall_after_upgrade,         ///< TLS, upgrade, then reads and writes nothing more; the socket kept
};

class tls_script_server {
public:
    /// `cert_dir` holds cert.pem and key.pem (make_self_signed_certificate); the plain TCP
    /// behaviours do not read it. `reply` is plain_text_reply's answer.
    tls_script_server(tls_misbehaviour b, const std::filesystem::path& cert_dir, std::string reply = {})
        : behaviour_(b), reply_(std::move(reply))
    {
        if (speaks_tls()) {
            tls_.use_certificate_chain_file((cert_dir / "cert.pem").string());
            tls_.use_private_key_file((cert_dir / "key.pem").string(), boost::asio::ssl::context::pem);
        }
        acceptor_.open(tcp::v4());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        // A stalled connection's receive buffer stays small (accepted sockets inherit it), so a
        // client's write of a few MB blocks whatever the system's TCP autotuning allows.
        if (b == tls_misbehaviour::stall_after_upgrade)
            acceptor_.set_option(boost::asio::socket_base::receive_buffer_size(64 * 1024));
        acceptor_.listen(4096);
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~tls_script_server()
    {
        io_.stop();
        thread_.join();
    }
    tls_script_server(const tls_script_server&) = delete;
    tls_script_server& operator=(const tls_script_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// e.g. url("wss", "localhost") = "wss://localhost:PORT/ws", url("tls") = "tls://127.0.0.1:PORT".
    std::string url(std::string_view scheme, std::string_view host = "127.0.0.1") const
    {
        return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(port_) +
               (scheme == "tls" ? "" : "/ws");
    }
    /// Connections accepted so far.
    unsigned accepted() const noexcept { return accepted_.load(); }
    /// WebSocket upgrades completed so far.
    unsigned upgraded() const noexcept { return upgraded_.load(); }
    /// The server name (SNI) of each completed TLS handshake so far, in order; "" for none.
    std::vector<std::string> server_names() const
    {
        std::lock_guard lock(mutex_);
        return server_names_;
    }

private:
    using tcp = boost::asio::ip::tcp;
    using tls_stream = boost::asio::ssl::stream<tcp::socket>;
    using ws_stream = boost::beast::websocket::stream<tls_stream>;

    bool speaks_tls() const noexcept
    {
        return behaviour_ != tls_misbehaviour::no_server_hello && behaviour_ != tls_misbehaviour::plain_text_reply;
    }

    boost::asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
            ++accepted_;
            boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
        }
    }

    /// Reads and drops whatever comes until the client goes.
    static boost::asio::awaitable<void> drain(tcp::socket& socket)
    {
        char sink[4096];
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(boost::asio::buffer(sink),
                                                           boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
        }
    }

    boost::asio::awaitable<void> serve(tcp::socket socket)
    {
        using namespace boost::asio::experimental::awaitable_operators;
        try {
            if (behaviour_ == tls_misbehaviour::no_server_hello) co_return co_await drain(socket);
            if (behaviour_ == tls_misbehaviour::plain_text_reply) {
                co_await boost::asio::async_write(socket, boost::asio::buffer(reply_), boost::asio::use_awaitable);
                socket.shutdown(tcp::socket::shutdown_send);
                co_return co_await drain(socket);
            }

            auto ws = std::make_unique<ws_stream>(std::move(socket), tls_);
            auto& tls = ws->next_layer();
            co_await tls.async_handshake(boost::asio::ssl::stream_base::server, boost::asio::use_awaitable);
            {
                const char* name = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name);
                std::lock_guard lock(mutex_);
                server_names_.emplace_back(name ? name : "");
            }
            co_await ws->async_accept(boost::asio::use_awaitable);
            ++upgraded_;
            auto& raw = tls.next_layer();
            boost::beast::flat_buffer buffer;
            const bool echoes =
                behaviour_ == tls_misbehaviour::echo || behaviour_ == tls_misbehaviour::echo_with_key_updates;
            if (!echoes && behaviour_ != tls_misbehaviour::stall_after_upgrade)
                co_await ws->async_read(buffer, boost::asio::use_awaitable);
            switch (behaviour_) {
            case tls_misbehaviour::echo:
            case tls_misbehaviour::echo_with_key_updates: {
                ws->auto_fragment(false);
                for (;;) {  // until the client closes (Beast answers its close) or goes
                    co_await ws->async_read(buffer, boost::asio::use_awaitable);
                    ws->binary(ws->got_binary());
                    // Sent ahead of the echo's records; the client answers with its own KeyUpdate
                    // ahead of its next write, and the server's next read must decrypt that.
                    if (behaviour_ == tls_misbehaviour::echo_with_key_updates &&
                        SSL_key_update(tls.native_handle(), SSL_KEY_UPDATE_REQUESTED) != 1)
                        throw std::runtime_error("SSL_key_update failed (not TLS 1.3?)");
                    co_await ws->async_write(buffer.data(), boost::asio::use_awaitable);
                    buffer.consume(buffer.size());
                }
            }
            case tls_misbehaviour::fin_after_upgrade:
                raw.shutdown(tcp::socket::shutdown_send);
                co_return co_await drain(raw);
            case tls_misbehaviour::close_notify_after_upgrade: {
                // close_notify, then the FIN: asio's shutdown waits for the client's own
                // close_notify, which a client need not send; 200 ms is plenty on loopback.
                boost::asio::steady_timer bound(io_, std::chrono::milliseconds(200));
                co_await (tls.async_shutdown(boost::asio::as_tuple(boost::asio::use_awaitable)) ||
                          bound.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
                boost::system::error_code ignored;
                raw.shutdown(tcp::socket::shutdown_send, ignored);
                co_return co_await drain(raw);
            }
            case tls_misbehaviour::reset_after_upgrade:
                raw.set_option(boost::asio::socket_base::linger(true, 0));
                raw.close();
                co_return;
            case tls_misbehaviour::stall_after_upgrade:
                held_.push_back(std::move(ws));  // nothing pending on it: its buffers fill and stay full
                co_return;
            default: co_return;
            }
        } catch (const std::exception&) {
            // The client went away: the test checks what the client counted.
        }
    }

    tls_misbehaviour behaviour_;
    std::string reply_;
    boost::asio::io_context io_{1};
    boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::atomic<unsigned> accepted_{0};
    std::atomic<unsigned> upgraded_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> server_names_;
    std::vector<std::unique_ptr<ws_stream>> held_;  // stalled connections, touched on the server's thread only
    std::thread thread_;
};

}  // namespace wsload::test
