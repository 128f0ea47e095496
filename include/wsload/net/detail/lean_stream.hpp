#pragma once
// lean_stream: a TCP socket, optionally under TLS, as the lean layers (WebSocket and raw TCP)
// hold it: reads and writes are tried without blocking and, when the socket has nothing or
// takes nothing, a readiness wait is armed instead of an operation with a buffer.
//
// TLS runs OpenSSL directly on the descriptor (SSL_set_fd), not through asio's ssl::stream:
// that stream keeps two 17 KB buffers of its own and a BIO pair with two more, ~70 KB per
// connection whether it is idle or not. Here an idle TLS connection holds its SSL object and
// nothing else (SSL_MODE_RELEASE_BUFFERS, set on the context, frees OpenSSL's record buffers
// while no record is in flight). A plain stream pays one null pointer for the option.
//
// Errors are those of asio's TLS stream, so that one classification serves every layer: a
// close_notify reads as eof, a FIN without one as ssl::error::stream_truncated, OpenSSL's own
// failures in asio's ssl category, and the system's (ECONNRESET) as themselves.

#include <wsload/core/task.hpp>
#include <wsload/net/detail/handler_memory.hpp>
#include <wsload/net/detail/tls_session_pool.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>

namespace wsload::net {
using boost::system::error_code;
}  // namespace wsload::net

namespace wsload::net::detail {

class lean_stream {
public:
    using wait_type = tcp_socket::wait_type;
    using executor_type = executor;

    explicit lean_stream(executor ex) : socket_(ex) {}

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    tcp_socket& socket() noexcept { return socket_; }
    /// For beast::get_lowest_layer and the connect path, which see a socket under a layer.
    tcp_socket& next_layer() noexcept { return socket_; }
    bool is_tls() const noexcept { return ssl_ != nullptr; }
    /// The TLS handshake resumed an earlier session (--tls-resume).
    bool resumed_session() const noexcept { return ssl_ && SSL_session_reused(ssl_.get()); }
    bool is_open() const noexcept { return socket_.is_open(); }

    /// The TLS client handshake on the connected socket: SNI for host names (never for IP
    /// literals, RFC 6066), the peer's certificate checked against `host` when `verify` (the
    /// context says whether and against what it is verified), a session kept for
    /// `resume_place` (host:port) resumed when one is (empty: none). The socket becomes
    /// non-blocking. The connect path's deadline ends it by closing the socket.
    task<error_code> tls_handshake(SSL_CTX* context, const std::string& host, bool verify,
                                   const std::string& resume_place = {})
    {
        error_code ec = start_tls(context, host, verify);
        if (!ec && !resume_place.empty()) tls_session_pool::attach(ssl_.get(), resume_place);
        if (ec) co_return ec;
        for (;;) {
            ERR_clear_error();
            const int r = SSL_connect(ssl_.get());
            if (r == 1) co_return error_code{};
            ec = failure(r);
            if (ec != boost::asio::error::would_block) co_return ec;
            auto [wec] = co_await socket_.async_wait(wait_for(want_write_), exact_task());
            if (wec) co_return wec;
        }
    }

    /// Reads what is there, at most `n` bytes: would_block when nothing is (then wait for
    /// read_wait()), eof at the peer's orderly end.
    std::size_t read_some(char* p, std::size_t n, error_code& ec)
    {
        if (!ssl_) return socket_.read_some(boost::asio::buffer(p, n), ec);
        ERR_clear_error();
        std::size_t got = 0;
        const int r = SSL_read_ex(ssl_.get(), p, n, &got);
        if (r == 1) {
            ec = {};
            return got;
        }
        ec = failure(r);
        read_wants_write_ = want_write_;
        release_buffers();  // drained (idle again) or ended: nothing more to read for now
        return 0;
    }

    /// Bytes already taken from the socket that a read would return: a TLS record read in part.
    /// A readiness wait would not see them.
    bool has_buffered() const noexcept { return ssl_ && SSL_has_pending(ssl_.get()); }

    /// Frees OpenSSL's record buffers unless they hold bytes (SSL_free_buffers refuses then).
    /// SSL_MODE_RELEASE_BUFFERS frees them only on some of OpenSSL's paths: measured, most idle
    /// wss:// connections still held a 16.7 KB read buffer after the upgrade's reply.
    void release_buffers() noexcept
    {
        if (ssl_) SSL_free_buffers(ssl_.get());
    }

    /// A read of `got` bytes out of `asked` emptied the socket: a plain short read did (so no
    /// read just to see EAGAIN); a TLS read returns one record at a time, so only would_block says.
    bool drained(std::size_t got, std::size_t asked) const noexcept { return !ssl_ && got < asked; }

    /// Writes what the socket takes now, at most `n` bytes: would_block when it takes nothing
    /// (then wait for write_wait() and offer the same bytes again, from wherever they are now).
    std::size_t write_some(const char* p, std::size_t n, error_code& ec)
    {
        if (!ssl_) return socket_.write_some(boost::asio::buffer(p, n), ec);
        ERR_clear_error();
        std::size_t put = 0;
        const int r = SSL_write_ex(ssl_.get(), p, n, &put);
        if (r == 1) {
            ec = {};
            return put;
        }
        ec = failure(r);
        write_wants_read_ = !want_write_;
        return 0;
    }

    /// All of `n` bytes, as the socket takes them (the caller keeps them alive and in place).
    task<error_code> write_all(const char* p, std::size_t n)
    {
        for (;;) {
            error_code ec;
            const auto put = write_some(p, n, ec);
            if (ec && ec != boost::asio::error::would_block) co_return ec;
            p += put;
            n -= put;
            if (n == 0) co_return error_code{};
            auto [wec] = co_await socket_.async_wait(write_wait(), exact_task());
            if (wec) co_return wec;
        }
    }

    /// An asio AsyncReadStream's read, for the handshakes that read through Beast's parsers
    /// (the WebSocket upgrade's reply). Waits for readiness first, so it never completes
    /// inside the call that starts it.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
            read_op<MutableBuffers>{*this, buffers}, token, socket_);
    }

    /// What a read or a write that found would_block waits for: over TLS a read may need the
    /// socket writable (a key update's answer) and a write readable.
    wait_type read_wait() const noexcept { return wait_for(read_wants_write_); }
    wait_type write_wait() const noexcept { return wait_for(!write_wants_read_); }

    /// Ends our sending side: over TLS with a close_notify first (best effort: a socket that
    /// takes nothing now does without it), then TCP's FIN.
    void shutdown_send() noexcept
    {
        if (ssl_ && SSL_is_init_finished(ssl_.get())) {
            ERR_clear_error();
            SSL_shutdown(ssl_.get());
            release_buffers();
        }
        error_code ignored;
        socket_.shutdown(tcp_socket::shutdown_send, ignored);
    }

    void close() noexcept
    {
        release_buffers();  // the SSL object lives as long as the connection; its buffers need not
        error_code ignored;
        socket_.close(ignored);
    }

private:
    static wait_type wait_for(bool writable) noexcept { return writable ? tcp_socket::wait_write : tcp_socket::wait_read; }

    template <class MutableBuffers>
    struct read_op {
        lean_stream& s;
        MutableBuffers buffers;
        bool started = false;

        template <class Self>
        void operator()(Self& self, error_code ec = {})
        {
            if (!started) {
                started = true;
                if (s.has_buffered()) return boost::asio::post(s.get_executor(), std::move(self));
                return s.socket_.async_wait(s.read_wait(), std::move(self));
            }
            if (ec) return self.complete(ec, 0);
            const boost::asio::mutable_buffer b = *boost::asio::buffer_sequence_begin(buffers);
            const auto n = s.read_some(static_cast<char*>(b.data()), b.size(), ec);
            if (ec == boost::asio::error::would_block) return s.socket_.async_wait(s.read_wait(), std::move(self));
            self.complete(ec, n);
        }
    };

    struct ssl_free {
        void operator()(SSL* s) const noexcept { SSL_free(s); }
    };

    error_code start_tls(SSL_CTX* context, const std::string& host, bool verify)
    {
        ssl_.reset(SSL_new(context));
        if (!ssl_) return ssl_error(ERR_get_error());
        error_code ec;
        socket_.non_blocking(true, ec);
        if (ec) return ec;
        // OpenSSL may be handed the same bytes again from elsewhere (a backlog copy), and may
        // take part of them: the lean writers offer what is left, wherever it is.
        SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (!SSL_set_fd(ssl_.get(), socket_.native_handle())) return ssl_error(ERR_get_error());
        boost::asio::ip::make_address(host, ec);
        const bool is_ip = !ec;
        if (!is_ip && !SSL_set_tlsext_host_name(ssl_.get(), host.c_str())) return ssl_error(ERR_get_error());
        if (verify) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
            const int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                  : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
            if (!set) return ssl_error(ERR_get_error());
        }
        SSL_set_connect_state(ssl_.get());
        return {};
    }

    /// The error of an SSL call that returned `r` <= 0, as asio's TLS stream reports it.
    error_code failure(int r)
    {
        const int saved_errno = errno;
        switch (SSL_get_error(ssl_.get(), r)) {
        case SSL_ERROR_WANT_READ: want_write_ = false; return boost::asio::error::would_block;
        case SSL_ERROR_WANT_WRITE: want_write_ = true; return boost::asio::error::would_block;
        case SSL_ERROR_ZERO_RETURN: return boost::asio::error::eof;  // the peer's close_notify
        case SSL_ERROR_SYSCALL: {
            const unsigned long queued = ERR_get_error();
            if (queued) return ssl_error(queued);
            if (saved_errno) return error_code(saved_errno, boost::system::system_category());
            return boost::asio::ssl::error::stream_truncated;  // a FIN without close_notify
        }
        default: return ssl_error(ERR_get_error());
        }
    }

    static error_code ssl_error(unsigned long e)
    {
        if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return boost::asio::ssl::error::stream_truncated;
        if (ERR_GET_LIB(e) == ERR_LIB_SYS) return error_code(ERR_GET_REASON(e), boost::system::system_category());
        if (e == 0) return boost::asio::ssl::error::unspecified_system_error;
        return error_code(static_cast<int>(e), boost::asio::error::get_ssl_category());
    }

    tcp_socket socket_;
    std::unique_ptr<SSL, ssl_free> ssl_;
    // What the last would_block waits for, and what the last read's and write's do (bytes, not
    // wait_types: an idle connection holds them).
    bool want_write_ = false;
    bool read_wants_write_ = false;
    bool write_wants_read_ = false;
};

}  // namespace wsload::net::detail
