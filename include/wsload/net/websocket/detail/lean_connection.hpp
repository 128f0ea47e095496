#pragma once
// lean_ws_connection: the ws:// and wss:// client connection written on a socket (lean_stream:
// plain, or OpenSSL on the descriptor) instead of Beast's websocket::stream, for memory and
// instructions (PERF-FACTS.md: Beast's stream cannot hold an idle connection in under ~5 KB;
// this one is a small object with one pending readiness wait). Same interface, phases, timings,
// counters and disconnect taxonomy as ws_connection; selected with run_config::ws_layer
// (--ws-layer lean, the default).
//
// What an idle connection holds: this object (its socket and, over TLS, its SSL object whose
// record buffers are released while idle; the frame parser's few dozen bytes of state) and one `async_wait` for readability whose handler is a shared pointer to it. Nothing
// else: no timer (the connect deadline lives in the connecting coroutine; heartbeats and the
// closing handshake's bound are entries in one wheel per thread), no buffer (payloads are read into a
// per-thread buffer and handed on in place; a message cut across reads or frames is gathered in
// a string that exists until it is complete; frames are masked into a per-thread buffer and
// written at once, what the socket does not take waiting in a backlog that exists only then).

#include <wsload/net/connect.hpp>
#include <wsload/net/websocket/detail/connect_options.hpp>
#include <wsload/net/websocket/detail/frame.hpp>
#include <wsload/net/websocket/detail/heartbeat_wheel.hpp>
#include <wsload/net/websocket/detail/lean_output.hpp>
#include <wsload/net/websocket/detail/lean_thread.hpp>
#include <wsload/net/websocket/detail/permessage_deflate.hpp>
#include <wsload/net/websocket/detail/session.hpp>
#include <wsload/net/websocket/detail/upgrade.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsload::net::detail {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;  // its error codes name the handshake's failures

class lean_ws_connection final : public lean_ws_output, public heartbeat_hook {
public:
    explicit lean_ws_connection(io_thread& w) : lean_ws_output(w) {}
    ~lean_ws_connection() { lean_.wheel.remove(*this); }

    /// Connects to `u` (ws:// or wss://); true when the connection is open. The attempt is counted
    /// once, as a success or in its failure class.
    task<bool> connect(url u, ws_connect_options o)
    {
        auto self = std::static_pointer_cast<lean_ws_connection>(shared_from_this());
        connect_deadline deadline(get_executor());
        connect_times times;
        if (!co_await connect_transport(stream_, u, deadline, times)) co_return false;

        // The handshake's temporaries (request, reply parser, buffer) die with this frame.
        const auto key = make_websocket_key(lean_.random);
        const auto request = make_upgrade_request(u, key, o);
        if (traced_) trace_fields("upgrade adds", o.headers);
        if (const auto wec = co_await stream_.write_all(request.data(), request.size()))
            co_return fail_attempt(connect_phase::handshake, wec);
        beast::flat_buffer buffer;
        beast::http::response_parser<beast::http::empty_body> parser;
        auto [hec, read] = co_await beast::http::async_read_header(stream_, buffer, parser, exact_task());
        if (!hec && (timed_out_ || aborted_)) hec = boost::asio::error::operation_aborted;  // it raced our close
        if (hec) co_return fail_attempt(connect_phase::handshake, hec);
        const auto& response = parser.get();
        switch (check_upgrade_response(response, websocket_accept_for(key), o.compression.has_value())) {
        case upgrade_verdict::http_status:
            co_return fail_attempt(stats::connect_failure::http_status, websocket::error::upgrade_declined,
                           response.result_int());
        case upgrade_verdict::handshake:
            co_return fail_attempt(stats::connect_failure::handshake, websocket::error::bad_sec_accept, 0);
        case upgrade_verdict::accepted: break;
        }
        if (!subprotocol_agreed(o.subprotocol, response[beast::http::field::sec_websocket_protocol]))
            co_return fail_attempt(stats::connect_failure::handshake,
                           make_error_code(boost::system::errc::protocol_not_supported), 0);
        if (o.compression) {
            deflate_agreement terms;
            const auto verdict = negotiate_deflate(extensions_answer(response), &*o.compression, terms);
            if (verdict == extension_verdict::invalid)
                co_return fail_attempt(stats::connect_failure::handshake,
                                       make_error_code(boost::system::errc::protocol_not_supported), 0);
            if (verdict == extension_verdict::deflate) {
                deflate_ = std::make_unique<deflate_codec>(terms, *o.compression);
                parser_.allow_compression();
            }
        }
        deadline.cancel();
        const auto t_open = clock::now();

        max_message_ = o.max_message_bytes;
        fragment_size_ = o.fragment_size;
        set_inbox_limit(o.inbox_limit);
        record_connect(times.start, times.tcp, times.tls, t_open, stream_.is_tls());
        opened();
        // Frames the server sent right behind its 101 came with the reply's bytes.
        if (buffer.size() > 0) {
            const auto frames = buffer.cdata();
            if (!consume_guarded(static_cast<const char*>(frames.data()), frames.size())) co_return true;
        }
        // Straight to the wait, not a read first: right after the 101 the socket is nearly
        // always empty, and that read would be one EAGAIN system call per connection. A wait
        // completes for data that is already there (asio re-arms the descriptor for it), but
        // not for the rest of a TLS record that the reply's read left in OpenSSL.
        if (stream_.has_buffered()) {
            on_readable(self, {});
        } else {
            stream_.release_buffers();
            stream_.socket().async_wait(stream_.read_wait(), read_ready<lean_ws_connection>{self});
        }
        if (o.heartbeat.count() > 0 && state_ == state::open)
            start_heartbeat(o.heartbeat, o.heartbeat_phase, o.max_missed_pongs);
        co_return true;
    }

    task<error_code> write(std::string_view data, bool binary) override { return send(data, binary, true); }
    /// A request's send: it parks for its reply right after, so a send the socket took whole
    /// needs no suspension of its own (a post and a resumption per request).
    task<error_code> write_then_wait(std::string_view data, bool binary) override { return send(data, binary, false); }

    task<error_code> send(std::string_view data, bool binary, bool suspend_after)
    {
        auto self = shared_from_this();
        if (!open_and_claim_write()) {
            write_waiter turn;
            if (!co_await wait_write_turn(turn)) co_return boost::asio::error::not_connected;
        }
        error_code ec;
        if (deflate_ && deflate_->compresses(data.size())) [[unlikely]] {
            ec = co_await write_compressed(data, binary);
        } else if (fits_one_write(data.size())) {
            // The common case, without a coroutine of its own: one frame, masked and taken by
            // the socket at once (or its rest flushed), then one suspension as any send has.
            ec = emit_frame(data, binary ? ws_opcode::binary : ws_opcode::text);
            if (!ec && flushing()) {
                ec = co_await wait_for_output();
            } else {
                // The socket took the whole message (or the send failed): the turn passes on
                // before the one suspension every send has, so that the next sender does not
                // wait for it (with 100 requests in flight nearly every one would).
                end_write(ec, data.size());
                if (traced_) trace_sent(ec, data, binary);
                if (suspend_after || ec) co_await yield();
                co_return ec;
            }
        } else {
            ec = co_await write_message(data, binary);
        }
        end_write(ec, data.size());
        if (traced_) trace_sent(ec, data, binary);
        co_return ec;
    }

    /// One message of a group (write_group), the turn held: compressed when agreed, else as
    /// frames (write_message suspends at least once, as write() does).
    task<error_code> send_on_turn(std::string_view data, bool binary) override
    {
        error_code ec;
        if (deflate_ && deflate_->compresses(data.size())) ec = co_await write_compressed(data, binary);
        else ec = co_await write_message(data, binary);
        if (traced_) trace_sent(ec, data, binary);
        co_return ec;
    }

    /// permessage-deflate: the message compressed (into the thread's buffer) and sent as a
    /// message with RSV1 on its first frame; counted by its uncompressed size (write()).
    task<error_code> write_compressed(std::string_view data, bool binary)
    {
        auto& t = thread_.local<deflate_thread_state>();
        deflate_->compress(data, t.deflated, t);
        const auto opcode = binary ? ws_opcode::binary : ws_opcode::text;
        if (fits_one_write(t.deflated.size())) {
            auto ec = emit_frame(t.deflated, opcode, rsv1);  // the socket has it, or the backlog a copy
            if (t.deflated.capacity() > lean_thread_state::buffer_size) t.deflated = std::string();
            if (!ec && flushing()) ec = co_await wait_for_output();
            else co_await yield();
            co_return ec;
        }
        // This writer may suspend: the thread's buffer goes with it, and the thread makes another.
        std::string payload = std::exchange(t.deflated, std::string());
        co_return co_await write_message(payload, binary, rsv1);
    }

    void begin_close(std::uint16_t code, stats::disconnect_reason why, std::string_view reason) override
    {
        if (state_ != state::open || close_started_) return;
        close_started_ = true;
        // Whoever starts it, a close after the run was told to end is the run's doing.
        settle(thread_.stopping() ? stats::disconnect_reason::client_stop : why);
        enter_closing();
        if (ping_outstanding_ || requests_) {
            auto self = std::static_pointer_cast<lean_ws_connection>(shared_from_this());
            boost::asio::co_spawn(get_executor(), close_after_replies(self, code, std::string(reason)),
                                  boost::asio::detached);
            return;
        }
        send_close(code, reason);
    }

    void start_heartbeat(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase,
                         unsigned max_missed) override
    {
        heartbeat_interval_ = interval;
        max_missed_ = max_missed;
        if (in_wheel() || state_ != state::open) return;  // running: it picks up the new interval
        lean_.wheel.add(*this, clock::now() + phase);
    }


    void on_abort() override
    {
        if (state_ == state::connecting) aborted_ = true;
        end(reason_set_ ? end_reason_ : stats::disconnect_reason::client_stop);
        close_socket();
    }

    void abort_as(stats::disconnect_reason why) override
    {
        if (state_ != state::open && state_ != state::closing) return;
        close_started_ = true;
        settle(why);
        close_socket();  // the reader sees it and ends the connection
    }

private:
    friend class heartbeat_wheel<lean_ws_connection>;

    // ---- reading -------------------------------------------------------------------------

    /// The handler of the one pending operation of an idle connection.
    friend struct read_ready<lean_ws_connection>;
    same_size_pool& read_wait_pool() noexcept { return lean_.read_waits; }

    /// Reads what the socket holds into the thread's buffer, parses it, and waits for more. A
    /// plain read shorter than the buffer found the socket drained: no second read just to see
    /// EAGAIN (asio re-arms the descriptor for the wait instead, so data that came meanwhile
    /// is not missed). Handed on in place, the buffer is free again for the thread's next reader.
    static void on_readable(std::shared_ptr<lean_ws_connection> self, error_code ec)
    {
        auto& c = *self;
        if (ec) return c.reader_ended();
        char* const buffer = c.lean_.read_buffer();
        for (;;) {
            const auto n = c.stream_.read_some(buffer, lean_thread_state::buffer_size, ec);
            if (ec == boost::asio::error::would_block) break;
            if (ec) return c.reader_ended();  // EOF, reset, or our own close
            if (!c.consume_guarded(buffer, n)) return;
            if (c.stream_.drained(n, lean_thread_state::buffer_size)) break;
        }
        c.stream_.socket().async_wait(c.stream_.read_wait(), read_ready<lean_ws_connection>{std::move(self)});
    }

    /// What the parser found, applied to the connection.
    struct frame_events {
        lean_ws_connection& c;
        void on_message(std::string_view data, bool binary) { c.deliver(data, binary); }
        frame_error on_compressed_message(std::string_view data, bool binary) { return c.inflate_and_deliver(data, binary); }
        void on_ping(std::string_view payload)
        {
            if (!c.close_sent_) c.send_control(ws_opcode::pong, payload);  // the same payload (5.5.3)
        }
        void on_pong(std::string_view payload) { c.pong_arrived(payload); }
        void on_close(std::uint16_t code, std::string_view reason) { c.server_closed(code, reason); }
    };

    /// consume(), for a plain handler: a request's match function that throws must not reach
    /// the worker's io_context. The behaviour's error is counted and the connection, a message
    /// half handed on, is closed (as client_close). False then.
    bool consume_guarded(const char* data, std::size_t n)
    {
        try {
            consume(data, n);
            return true;
        } catch (const std::exception& e) {
            stats_[stats::counter_id::behaviour_errors].add();
            log(log_level::warn, std::string("a request's match function threw: ") + e.what() + "; its connection is closed");
            close_started_ = true;
            settle(stats::disconnect_reason::client_close);
            reader_ended();
            return false;
        }
    }

    /// A compressed message (RSV1), inflated into the thread's buffer at most max_message_ bytes
    /// (a bomb ends the connection with 1009 having allocated no more), checked as UTF-8 when
    /// text, and handed on as any message is.
    frame_error inflate_and_deliver(std::string_view data, bool binary)
    {
        auto& t = thread_.local<deflate_thread_state>();
        std::string nested;  // only when a handler made another connection of this thread read (never seen)
        const bool mine = !t.inflating;
        std::string& out = mine ? t.inflated : nested;
        struct release {
            deflate_thread_state& t;
            bool mine;
            ~release()
            {
                if (!mine) return;
                t.inflating = false;
                if (t.inflated.capacity() > lean_thread_state::buffer_size) t.inflated = std::string();  // one big message must not stay
            }
        } guard{t, mine};
        t.inflating = true;
        switch (deflate_->inflate(data, max_message_, out, t)) {
        case inflate_status::too_big: return frame_error::too_big;
        case inflate_status::bad_data: return frame_error::invalid_data;
        case inflate_status::ok: break;
        }
        if (!binary && !utf8_validator::valid(out)) return frame_error::invalid_data;
        deliver(out, binary);
        return frame_error::none;
    }

    void consume(const char* data, std::size_t n)
    {
        if (parser_.done()) return;  // after a close frame or a violation: only EOF is awaited
        frame_events events{*this};
        if (const auto e = parser_.feed(data, n, max_message_, events); e != frame_error::none) protocol_failure(e);
    }

    /// The reader is over (EOF, an error, or the socket closed by us): the one place, with
    /// on_abort, where an established connection ends.
    void reader_ended()
    {
        close_socket();
        end(reason_set_ ? end_reason_ : stats::disconnect_reason::network);
    }

    void end(stats::disconnect_reason why)
    {
        lean_.wheel.remove(*this);
        finish(why, server_closed_ ? server_close_code_ : 0u);
    }

    /// The first cause of the ending to be known is the one counted.
    void settle(stats::disconnect_reason why) noexcept
    {
        if (reason_set_) return;
        end_reason_ = why;
        reason_set_ = true;
    }

    void enter_closing() noexcept
    {
        if (state_ == state::open) state_ = state::closing;
        lean_.wheel.remove(*this);
    }

    // ---- the closing handshake -------------------------------------------------------------

    /// The server's close frame: echoed with its code when we had not sent ours (section
    /// 5.5.1), then our side of TCP is shut and the server's FIN awaited, bounded.
    void server_closed(std::uint16_t code, std::string_view reason)
    {
        server_closed_ = true;
        server_close_code_ = code;  // 0: the frame had none (Beast reports it the same way)
        keep_close_reason(reason);
        settle(stats::reason_for_close_code(code));
        enter_closing();
        if (!close_sent_) send_close_frame(code, {});  // the echo of its code (5.5.1); no reason needed
        shutdown_when_sent();
        arm_close_bound();
    }

    /// The server broke the protocol: close with 1002, 1007 or 1009 and stop parsing.
    void protocol_failure(frame_error e)
    {
        if (state_ == state::closed) return;
        settle(e == frame_error::too_big ? stats::disconnect_reason::message_too_big
                                         : stats::disconnect_reason::protocol_error);
        enter_closing();
        if (!close_sent_) send_close_frame(static_cast<std::uint16_t>(e), {});
        shutdown_when_sent();
        arm_close_bound();
    }

    /// Our close frame, then the bound on the server's close frame and its FIN.
    void send_close(std::uint16_t code, std::string_view reason)
    {
        if (state_ == state::closed || close_sent_) return;
        send_close_frame(code, reason);
        arm_close_bound();
    }

    /// `reason` fits (websocket::close checks it); a code of 0 sends a close frame without one.
    void send_close_frame(std::uint16_t code, std::string_view reason)
    {
        close_sent_ = true;
        char payload[2 + max_close_reason] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
        const auto kept = std::min(reason.size(), max_close_reason);
        if (kept > 0) std::memcpy(payload + 2, reason.data(), kept);  // an empty view's data() may be null
        send_control(ws_opcode::close, {payload, code ? 2 + kept : 0u});
    }

    /// The whole closing handshake is bounded by the run's close timeout: past it the socket is
    /// closed and the reader ends the connection. The bound is an entry in the thread's wheel
    /// (no timer of its own: 10,000 connections closing at once allocate nothing for it).
    void arm_close_bound()
    {
        if (in_wheel() || state_ != state::closing) return;  // armed already, or over
        lean_.wheel.add(*this, clock::now() + thread_.settings().close_timeout);
    }

    /// A close the behaviour started waits (bounded) for pings and requests in flight: their
    /// answers were sent before the server saw our close, and are counted as they come.
    static task<> close_after_replies(std::shared_ptr<lean_ws_connection> self, std::uint16_t code, std::string reason)
    {
        auto& c = *self;
        co_await c.let_replies_arrive(
            [&c] { return (c.ping_outstanding_ || c.requests_) && c.state_ == state::closing && !c.close_sent_; });
        c.send_close(code, reason);
    }

    void close_socket() { stream_.close(); }
    void close_transport() noexcept override { close_socket(); }

    // ---- heartbeat -------------------------------------------------------------------------

    /// Called by the thread's wheel: while open, the next ping is due; while closing, the
    /// closing handshake's bound has passed.
    void wheel_due(clock::time_point now)
    {
        if (state_ == state::closing) return close_socket();
        if (state_ != state::open) return;
        if (ping_outstanding_) {
            ping_outstanding_ = false;
            stats_[stats::counter_id::pongs_missed].add();
            if (max_missed_ && ++missed_in_a_row_ >= max_missed_) {
                // The server stopped answering: a closing handshake would wait in vain.
                close_started_ = true;
                settle(stats::disconnect_reason::ping_timeout);
                close_socket();
                return;
            }
        }
        char payload[24];
        const auto [last, ec] = std::to_chars(payload, payload + sizeof payload, ++ping_seq_);
        ping_outstanding_ = true;
        ping_sent_at_ = clock::now();
        if (!send_control(ws_opcode::ping, {payload, static_cast<std::size_t>(last - payload)})) {
            ping_outstanding_ = false;  // never sent: neither a ping nor a missed pong
            return;                     // the reader sees the same failure and counts it
        }
        stats_[stats::counter_id::pings_sent].add();
        auto next = heartbeat_due() + heartbeat_interval_;
        if (next < now) next = now + heartbeat_interval_;
        lean_.wheel.add(*this, next);
    }

    frame_parser parser_;
    std::unique_ptr<deflate_codec> deflate_;  ///< permessage-deflate agreed; its streams made at first use
    std::size_t max_message_ = 0;
    std::chrono::nanoseconds heartbeat_interval_{0};
    unsigned max_missed_ = 0;
    std::uint16_t server_close_code_ = 0;
    bool server_closed_ = false;
    bool reason_set_ = false;  ///< end_reason_ holds the cause (client close, server close, violation, ping timeout)
};

}  // namespace wsload::net::detail
