#pragma once
// A raw TCP connection (tcp:// or, over TLS, tls://) on the shared connection base: the connect
// path, the accounting and the request correlation are the base's; this file adds the framing of
// the byte stream, the reader and the writer.
//
// It reads as the lean WebSocket layer does, over TLS too (lean_stream): an idle connection
// holds one pending readiness wait (from a per-thread pool) and no buffer; bytes are read into a
// per-thread buffer and framed in place, and only a message cut across reads is kept, in a
// string that exists until it is complete.

#include <wsload/core/log.hpp>
#include <wsload/net/detail/connection_base.hpp>
#include <wsload/net/detail/handler_memory.hpp>
#include <wsload/net/detail/lean_stream.hpp>
#include <wsload/net/detail/read_buffer.hpp>
#include <wsload/net/tcp/framing.hpp>
#include <wsload/net/tcp/options.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// What raw TCP keeps once per thread (io_thread::local): where frames are encoded, and the pool
/// of the pending readiness waits (reads land in the thread's read buffer).
struct tcp_thread_state {
    explicit tcp_thread_state(io_thread& t) : read(t.local<thread_read_buffer>()) {}
    thread_read_buffer& read;
    std::string encoded;  ///< a frame being written; its capacity is kept for the next
    same_size_pool read_waits;
    unsigned char json_arena[4096];  ///< where expect_json's validation parses a small message
};

class tcp_session final : public connection_base {
public:
    explicit tcp_session(io_thread& t) : connection_base(t), local_(t.local<tcp_thread_state>()), stream_(t.get_executor())
    {}

    std::string_view request_type() const noexcept override { return "TCP"; }

    /// Connects to `u`; true when the connection is open. The attempt is counted once, as a
    /// success or in its failure class.
    task<bool> connect(url u, const tcp::options& o)
    {
        auto self = std::static_pointer_cast<tcp_session>(shared_from_this());
        framing_ = o.framing();
        max_message_ = o.max_message_bytes();
        expect_json_ = o.expects_json();
        set_inbox_limit(o.inbox_limit());
        if (!co_await connect_without_handshake(stream_, u)) co_return false;
        if (state_ != state::open) co_return true;  // stopped while opening
        error_code ec;
        socket().non_blocking(true, ec);  // reads and writes are tried at once, then waited for
        socket().async_wait(stream_.read_wait(), read_ready<tcp_session>{std::move(self)});
        co_return true;
    }

    task<error_code> write(std::string_view data, bool) override { return send(data, true); }
    /// A request's send: it parks for its reply right after, so a send the socket took whole
    /// needs no suspension of its own.
    task<error_code> write_then_wait(std::string_view data, bool) override { return send(data, false); }

    task<error_code> send(std::string_view data, bool suspend_after)
    {
        auto self = shared_from_this();
        if (!open_and_claim_write()) {
            write_waiter turn;
            if (!co_await wait_write_turn(turn)) co_return boost::asio::error::not_connected;
        }
        error_code ec;
        auto& out = local_.encoded;
        out.clear();
        try {
            framing_.encode(data, out);
        } catch (...) {
            end_write(boost::asio::error::message_size, 0);
            throw;  // a payload the framing cannot carry is the behaviour's error
        }
        std::size_t taken = stream_.write_some(out.data(), out.size(), ec);
        if (ec == boost::asio::error::would_block) ec = {}, taken = 0;
        if (!ec && taken < out.size()) {
            // The rest waits in a string of its own: the thread's buffer serves the next sender.
            const std::string rest(out, taken);
            ec = co_await stream_.write_all(rest.data(), rest.size());
        } else if (!ec && suspend_after) {
            co_await yield();  // a send suspends once, as an asio write does
        }
        end_write(ec, data.size());
        if (traced_) trace_sent(ec, data, false);
        co_return ec;
    }

    /// Closes now (raw TCP has no closing handshake): counted as `why` when the reader ends.
    void close_as(stats::disconnect_reason why) override
    {
        if (state_ != state::open) return;
        close_started_ = true;
        end_reason_ = thread_.stopping() ? stats::disconnect_reason::client_stop : why;
        state_ = state::closing;
        // No close_notify exchange over TLS: the peer learns of the end from the FIN, as with
        // plain TCP. The reader, woken by the close, counts the end.
        close_socket();
    }

    /// The run is ending. Requests in flight were sent before it did: their replies are awaited
    /// (at most a second, and within the close timeout) and counted, then the socket closes.
    void on_stop() override
    {
        if (state_ != state::open) return;
        if (!requests_) return close_as(stats::disconnect_reason::client_stop);
        boost::asio::co_spawn(get_executor(), close_after_replies(std::static_pointer_cast<tcp_session>(shared_from_this())),
                              boost::asio::detached);
    }
    void on_abort() override
    {
        if (state_ == state::connecting) aborted_ = true;
        finish(close_started_ ? end_reason_ : stats::disconnect_reason::client_stop);
        close_socket();
    }
    void close_transport() noexcept override { close_socket(); }

private:
    tcp_socket& socket() noexcept { return stream_.socket(); }

    void close_socket() noexcept { stream_.close(); }

    friend struct read_ready<tcp_session>;
    same_size_pool& read_wait_pool() noexcept { return local_.read_waits; }

    static void on_readable(std::shared_ptr<tcp_session> self, error_code ec)
    {
        auto& c = *self;
        if (ec) return c.reader_ended(ec);
        char* const buffer = c.local_.read.get();
        for (;;) {
            const auto n = c.stream_.read_some(buffer, thread_read_buffer::size, ec);
            if (ec == boost::asio::error::would_block) break;
            if (ec) return c.reader_ended(ec);
            if (!c.consume_guarded(buffer, n)) return;
            if (c.stream_.drained(n, thread_read_buffer::size)) break;  // no read just to see EAGAIN
        }
        c.socket().async_wait(c.stream_.read_wait(), read_ready<tcp_session>{std::move(self)});
    }

    static task<> close_after_replies(std::shared_ptr<tcp_session> self)
    {
        auto& c = *self;
        co_await c.let_replies_arrive([&c] { return c.requests_ && c.state_ == state::open; });
        c.close_as(stats::disconnect_reason::client_stop);
    }

    /// consume(), for a plain handler: a request's match function that throws must not reach
    /// the thread's io_context. The behaviour's error is counted and the connection closed
    /// (client_close). False then.
    bool consume_guarded(const char* data, std::size_t n)
    {
        try {
            return consume(data, n);
        } catch (const std::exception& e) {
            stats_[stats::counter_id::behaviour_errors].add();
            log(log_level::warn, std::string("a request's match function threw: ") + e.what() + "; its connection is closed");
            end_now(stats::disconnect_reason::client_close);
            return false;
        }
    }

    /// Frames what arrived and hands each message on. Only a message cut across reads is kept
    /// (in pending_). False when the connection ended (a frame over the limit or invalid).
    bool consume(const char* data, std::size_t n)
    {
        if (state_ != state::open) return state_ != state::closed;  // closing: the rest is not read
        std::string_view rest(data, n);
        if (!pending_.empty()) {
            pending_.append(data, n);
            rest = pending_;
        }
        std::size_t used = 0;
        for (;;) {
            auto d = framing_.decode(rest.substr(used), max_message_);
            if (d.what == tcp::decoded::status::complete && d.consumed > 0) {
                used += d.consumed;
                if (expect_json_ && !is_json(d.payload)) {
                    end_now(stats::disconnect_reason::protocol_error);
                    return false;
                }
                deliver(d.payload, false);
                if (state_ != state::open) return false;
                continue;
            }
            if (d.what == tcp::decoded::status::incomplete) {
                // The built-in framings say too_big themselves; a custom one may never decide:
                // what waits for the rest of a message is bounded all the same (the limit plus
                // room for a header), so memory cannot grow without bound.
                if (rest.size() - used <= max_message_ + max_header_room) break;
                d.what = tcp::decoded::status::too_big;
            }
            end_now(d.what == tcp::decoded::status::too_big ? stats::disconnect_reason::message_too_big
                                                            : stats::disconnect_reason::protocol_error);
            return false;
        }
        if (pending_.empty()) {
            if (used < rest.size()) pending_.assign(rest.substr(used));
        } else {
            pending_.erase(0, used);
            if (pending_.empty()) pending_ = std::string();  // a large message's memory goes with it
        }
        return true;
    }

    /// Validates without keeping the value: parsed into a per-thread arena that is reused.
    bool is_json(std::string_view text)
    {
        boost::json::monotonic_resource arena(local_.json_arena, sizeof local_.json_arena);
        error_code ec;
        boost::json::parse(text, ec, &arena);
        return !ec;
    }

    /// The connection ends now for `why` (a violation, a throwing matcher): counted once.
    void end_now(stats::disconnect_reason why)
    {
        close_started_ = true;
        close_socket();
        finish(why);
    }

    /// The reader is over: EOF from the peer (its orderly close), a reset, or our own close.
    void reader_ended(const error_code& ec)
    {
        close_socket();
        if (close_started_ || aborted_) return finish(end_reason_);
        const bool orderly = ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
        finish(orderly ? stats::disconnect_reason::peer_close : stats::disconnect_reason::network);
    }

    static constexpr std::size_t max_header_room = 64 * 1024;

    tcp_thread_state& local_;
    lean_stream stream_;
    tcp::framing framing_;
    std::size_t max_message_ = 0;
    bool expect_json_ = false;
    std::string pending_;  ///< the start of a message cut across reads
};


}  // namespace wsload::net::detail
