#pragma once
// A WebSocket connection over a given stream (plain TCP or TLS): connecting with its timing
// and classification, the reader, the heartbeat and the closing handshake.
//
// The frame layer is Beast's websocket::stream on a bare socket (not tcp_stream: no
// per-connection timers). PERF-FACTS.md shows its floor is ~5.5 KB per idle connection;
// the performance issue replaces this file with a leaner layer behind the same base class.

#include <wsload/net/connect.hpp>
#include <wsload/net/websocket/detail/connect_options.hpp>
#include <wsload/net/websocket/detail/permessage_deflate.hpp>
#include <wsload/net/websocket/detail/session.hpp>
#include <wsload/net/tls.hpp>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace wsload::net::detail {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

/// Beast 1.81's secure generator (ChaCha20, which Beast always uses for Sec-WebSocket-Key)
/// divides its block counter by 16, so each 16-word block comes out 16 times and keys repeat
/// from one connection to the next (RFC 6455 section 4.1 wants a fresh random nonce each time).
/// Drawing 256 words (about 2 us) before a handshake moves this thread's generator past every
/// block an earlier key came from. Harmless once Beast is fixed; gone with Beast's frame layer.
inline void skip_repeated_handshake_nonces()
{
    const auto generate = websocket::detail::make_prng(true);
    for (int i = 0; i < 256; ++i) generate();
}

template <class NextLayer>
class ws_connection final : public ws_session_base {
public:
    static constexpr bool is_tls = !std::is_same_v<NextLayer, tcp_socket>;

    explicit ws_connection(io_thread& w) requires(!is_tls) : ws_session_base(w), ws_(w.get_executor()) { init(); }
    explicit ws_connection(io_thread& w) requires(is_tls)
        : ws_session_base(w), ws_(w.get_executor(), w.tls())
    {
        init();
    }

    /// Connects to `u`; true when the connection is open. The attempt is counted once, as a
    /// success or in its failure class.
    task<bool> connect(url u, ws_connect_options o)
    {
        auto self = std::static_pointer_cast<ws_connection>(shared_from_this());
        const auto& config = thread_.settings();
        connect_deadline deadline(get_executor());
        connect_times times;
        if (!co_await connect_transport(ws_.next_layer(), u, deadline, times)) co_return false;

        ws_.set_option(websocket::stream_base::timeout{
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(config.connect_timeout),
            websocket::stream_base::none(), false});
        // The decorator is kept by the stream: it points at `o`, in this frame, and is emptied
        // after the handshake, so that the open connection keeps no copy of the extras.
        ws_.set_option(websocket::stream_base::decorator([added = &o](websocket::request_type& req) {
            for_each_added_field(*added, [&req](std::string_view name, std::string_view value) { req.insert(name, value); });
        }));
        ws_.read_message_max(o.max_message_bytes);
        if (o.fragment_size > 0) {
            ws_.auto_fragment(true);
            ws_.write_buffer_bytes(std::max<std::size_t>(o.fragment_size, 8));  // Beast's minimum is 8
        }
        // permessage-deflate: Beast's own (the same zlib port the lean layer uses). Beast takes
        // windows of 9-15 bits only (zlib cannot compress within 8), so 8 is offered as 9.
        std::optional<deflate_options> offered = o.compression;
        if (offered) {
            if (offered->client_max_window_bits() == 8) offered->client_max_window_bits(9);
            if (offered->server_max_window_bits() == 8) offered->server_max_window_bits(9);
            websocket::permessage_deflate pmd;
            pmd.client_enable = true;
            pmd.client_max_window_bits = static_cast<int>(offered->client_max_window_bits() ? offered->client_max_window_bits() : 15);
            pmd.server_max_window_bits = static_cast<int>(offered->server_max_window_bits() ? offered->server_max_window_bits() : 15);
            pmd.client_no_context_takeover = offered->offers_client_no_context_takeover();
            pmd.server_no_context_takeover = offered->offers_server_no_context_takeover();
            pmd.compLevel = offered->level();
            pmd.memLevel = offered->mem_level();
            ws_.set_option(pmd);
        }
        websocket::response_type response;
        if (traced_) trace_fields("upgrade adds", o.headers);
        skip_repeated_handshake_nonces();
        auto [uec] = co_await ws_.async_handshake(response, u.host_header(), u.target, use_task);
        ws_.set_option(websocket::stream_base::decorator([](websocket::request_type&) {}));
        if (uec) {
            if (uec == websocket::error::upgrade_declined && !timed_out_ && !aborted_)
                co_return fail_attempt(stats::connect_failure::http_status, uec, response.result_int());
            co_return fail_attempt(connect_phase::handshake, uec);
        }
        if (!subprotocol_agreed(o.subprotocol, response[beast::http::field::sec_websocket_protocol]))
            co_return fail_attempt(stats::connect_failure::handshake,
                           make_error_code(boost::system::errc::protocol_not_supported), 0);
        // Beast takes the server's Sec-WebSocket-Extensions as it comes (1.81 checks it neither
        // against the offer nor for an extension never offered): checked here as the lean layer
        // does. A window of 8 bits Beast cannot keep to (its zlib raises it to 9).
        deflate_agreement terms;
        const auto verdict = negotiate_deflate(extensions_answer(response), offered ? &*offered : nullptr, terms);
        if (verdict == extension_verdict::invalid || (verdict == extension_verdict::deflate && terms.client_bits < 9))
            co_return fail_attempt(stats::connect_failure::handshake,
                                   make_error_code(boost::system::errc::protocol_not_supported), 0);
        deadline.cancel();
        const auto t_open = clock::now();

        // The closing handshake gets its own bound; Beast applies handshake_timeout to it.
        ws_.set_option(websocket::stream_base::timeout{
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(config.close_timeout),
            websocket::stream_base::none(), false});
        set_inbox_limit(o.inbox_limit);
        record_connect(times.start, times.tcp, times.tls, t_open, is_tls);
        opened();
        boost::asio::co_spawn(get_executor(), read_loop(self), boost::asio::detached);
        if (o.heartbeat.count() > 0 && state_ == state::open)
            start_heartbeat(o.heartbeat, o.heartbeat_phase, o.max_missed_pongs);
        co_return true;
    }

    task<error_code> write(std::string_view data, bool binary) override
    {
        auto self = shared_from_this();
        if (!open_and_claim_write()) {
            write_waiter turn;
            if (!co_await wait_write_turn(turn)) co_return boost::asio::error::not_connected;
        }
        ws_.binary(binary);
        auto [ec, n] = co_await ws_.async_write(boost::asio::buffer(data.data(), data.size()), use_task);
        end_write(ec, n);
        if (traced_) trace_sent(ec, data, binary);
        co_return ec;
    }

    /// One message of a group (write_group), the turn held.
    task<error_code> send_on_turn(std::string_view data, bool binary) override
    {
        ws_.binary(binary);
        auto [ec, n] = co_await ws_.async_write(boost::asio::buffer(data.data(), data.size()), use_task);
        if (traced_) trace_sent(ec, data, binary);
        co_return ec;
    }

    void begin_close(std::uint16_t code, stats::disconnect_reason why, std::string_view reason) override
    {
        // After the server's close the handshake is already under way (and bounded): let it end.
        if (state_ != state::open || close_started_ || server_closing_) return;
        close_started_ = true;
        state_ = state::closing;
        // Whoever starts it, a close after the run was told to end is the run's doing.
        end_reason_ = thread_.stopping() ? stats::disconnect_reason::client_stop : why;
        auto self = std::static_pointer_cast<ws_connection>(shared_from_this());
        boost::asio::co_spawn(
            get_executor(),
            [self, close = websocket::close_reason(static_cast<websocket::close_code>(code), beast::string_view(reason.data(), reason.size()))]() -> task<> {
                co_await self->let_in_flight_replies_arrive();
                auto [ec] = co_await self->ws_.async_close(close, use_task);
                // A failed or timed-out close still ends the connection; the reader counts it.
                if (ec) self->close_socket();
            },
            boost::asio::detached);
    }

    void start_heartbeat(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase,
                         unsigned max_missed) override
    {
        heartbeat_interval_ = interval;
        max_missed_ = max_missed;
        if (heartbeat_timer_ || state_ != state::open) return;  // running: it picks up the new interval
        auto self = std::static_pointer_cast<ws_connection>(shared_from_this());
        boost::asio::co_spawn(get_executor(), heartbeat_loop(self, phase), boost::asio::detached);
    }


    void on_abort() override
    {
        if (state_ == state::connecting) aborted_ = true;
        finish(close_started_ ? end_reason_ : stats::disconnect_reason::client_stop);
        close_socket();
    }

    void abort_as(stats::disconnect_reason why) override
    {
        if (state_ != state::open && state_ != state::closing) return;
        if (!close_started_ && !server_closing_) {
            close_started_ = true;
            end_reason_ = why;
        }
        close_socket();  // the reader sees it and ends the connection
    }

private:
    void init()
    {
        // Lean settings: a small write buffer, no automatic fragmentation, no deflate.
        ws_.write_buffer_bytes(256);
        ws_.auto_fragment(false);
        // Masking keys from PCG32 rather than Beast 1.81's "secure" ChaCha20, which gives every
        // key again 16 frames later (see skip_repeated_handshake_nonces): PCG is no CSPRNG, but
        // its keys do not repeat, and a repeated key is as predictable as a key can be.
        ws_.secure_prng(false);
        ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
            if (kind == websocket::frame_type::pong) pong_arrived({payload.data(), payload.size()});
            if (kind == websocket::frame_type::close) server_close_arrived();
        });
    }

    /// The server's close frame came (Beast calls this before it echoes the close). Beast then
    /// waits for the server's FIN with no bound: only its own async_close arms the close
    /// timeout. So the wait gets that bound here; the socket is closed when it passes.
    void server_close_arrived()
    {
        if (close_started_ || server_closing_) return;  // our own close: Beast bounds it
        server_closing_ = true;
        deadline_.expires_after(thread_.settings().close_timeout);
        deadline_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) static_cast<ws_connection&>(*self).close_socket();
        });
    }

    /// Beast's close reads and discards every frame until the server's close frame arrives,
    /// without the control callback: a pong or a reply in flight at that moment would never be
    /// counted. So the close waits (bounded) until pending pings and requests are answered.
    task<> let_in_flight_replies_arrive()
    {
        return let_replies_arrive([this] { return (ping_outstanding_ || requests_) && state_ == state::closing; });
    }

    void close_socket()
    {
        error_code ignored;
        beast::get_lowest_layer(ws_).close(ignored);
    }
    void close_transport() noexcept override { close_socket(); }

    static task<> read_loop(std::shared_ptr<ws_connection> self)
    {
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await self->ws_.async_read(buffer, use_task);
            if (ec) {
                self->read_failed(ec);
                co_return;
            }
            const auto data = buffer.cdata();
            self->deliver({static_cast<const char*>(data.data()), data.size()}, self->ws_.got_binary());
            buffer.consume(buffer.size());
            if (buffer.capacity() > 64 * 1024) buffer.shrink_to_fit();  // one big message must not stay
        }
    }

    /// How the connection ended, from the reader's last error.
    void read_failed(const error_code& ec)
    {
        using stats::disconnect_reason;
        deadline_.cancel();  // a pending close bound: it would keep the connection alive
        if (close_started_ || aborted_) {
            // The server's answer to our close may have been read by Beast's close operation
            // rather than by this reader (which then ends with operation_aborted): either way
            // Beast keeps it in reason(), whose code stays `none` (0) until a close frame came.
            keep_close_reason(server_reason());
            finish(end_reason_, static_cast<unsigned>(ws_.reason().code));
            return;
        }
        // The server's close frame came: its code says how the connection ended, even when the
        // TCP teardown after it failed or timed out (a reset right after the close, no FIN).
        if (ec == websocket::error::closed || server_closing_) {
            const auto code = static_cast<unsigned>(ws_.reason().code);
            keep_close_reason(server_reason());
            finish(stats::reason_for_close_code(code), code);
            return;
        }
        if (ec == websocket::error::message_too_big) {  // Beast has sent 1009
            finish(disconnect_reason::message_too_big);
            return;
        }
        if (ec == websocket::condition::protocol_violation) {  // Beast has sent 1002 or 1007
            finish(disconnect_reason::protocol_error);
            return;
        }
        finish(disconnect_reason::network);
    }

    std::string_view server_reason() const
    {
        const auto& r = ws_.reason().reason;
        return {r.data(), r.size()};
    }

    static task<> heartbeat_loop(std::shared_ptr<ws_connection> self, std::chrono::nanoseconds phase)
    {
        timer tick(self->get_executor());
        self->heartbeat_timer_ = &tick;
        auto next = clock::now() + phase;
        while (self->state_ == state::open) {
            tick.expires_at(next);
            co_await tick.async_wait(use_task);
            if (self->state_ != state::open) break;
            if (self->ping_outstanding_) {
                self->ping_outstanding_ = false;
                self->stats_[stats::counter_id::pongs_missed].add();
                if (self->max_missed_ && ++self->missed_in_a_row_ >= self->max_missed_) {
                    // The server stopped answering: a closing handshake would wait in vain.
                    self->close_started_ = true;
                    self->end_reason_ = stats::disconnect_reason::ping_timeout;
                    self->close_socket();
                    break;
                }
            }
            char payload[24];
            auto [end, ec] = std::to_chars(payload, payload + sizeof payload, ++self->ping_seq_);
            self->ping_outstanding_ = true;
            self->ping_sent_at_ = clock::now();
            auto [pec] = co_await self->ws_.async_ping(
                websocket::ping_data(beast::string_view(payload, static_cast<std::size_t>(end - payload))), use_task);
            if (pec) {
                self->ping_outstanding_ = false;  // never sent: neither a ping nor a missed pong
                break;  // the reader sees the same failure and counts it
            }
            // Counted once written (its pong may already have been counted: the order of the
            // two counts does not matter, only that both happen once).
            self->stats_[stats::counter_id::pings_sent].add();
            next += self->heartbeat_interval_;
            if (const auto now = clock::now(); next < now) next = now + self->heartbeat_interval_;
        }
        self->heartbeat_timer_ = nullptr;
    }

    websocket::stream<NextLayer> ws_;
    timer deadline_{thread_.get_executor()};
    std::chrono::nanoseconds heartbeat_interval_{0};
    unsigned max_missed_ = 0;
    bool server_closing_ = false;  ///< the server's close frame came first
};

using plain_ws_connection = ws_connection<tcp_socket>;
using tls_ws_connection = ws_connection<boost::asio::ssl::stream<tcp_socket>>;

}  // namespace wsload::net::detail
