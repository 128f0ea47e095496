#pragma once
// The WebSocket part of a connection, on the transport-neutral base: the close frame's code and
// reason, the closing handshake and the ping/pong heartbeat. Both WebSocket layers (Beast's and
// the lean one) derive from it. Everything here runs on the owning thread.

#include <wsload/net/detail/connection_base.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wsload::net::detail {

class ws_session_base : public connection_base {
public:
    using connection_base::connection_base;

    /// The reason text of the server's close frame (empty when none came).
    std::string_view close_reason() const noexcept { return close_reason_ ? std::string_view(*close_reason_) : std::string_view{}; }

    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes of UTF-8, as
    /// websocket::close checks); the ending is counted as `why`.
    virtual void begin_close(std::uint16_t code, stats::disconnect_reason why, std::string_view reason) = 0;
    /// Starts pinging every `interval`, first after `phase`.
    virtual void start_heartbeat(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase,
                                 unsigned max_missed) = 0;

    /// Ends the connection now, without a closing handshake, counted as `why` (unless its end
    /// already has a cause): what a protocol over it does when the peer went quiet or broke it.
    virtual void abort_as(stats::disconnect_reason why) = 0;

    std::string_view request_type() const noexcept override { return protocol_ ? protocol_->request_type() : "WS"; }

    /// Starts the scenario's heartbeat (once, on an open connection), the first beat after
    /// `phase`: a coroutine of its own that sends, waits for the reply's timeout, counts a miss
    /// and ends the connection as app_heartbeat_timeout after max_missed in a row.
    void start_app_heartbeat(wsload::app_heartbeat settings, std::chrono::nanoseconds phase)
    {
        if (app_heartbeat_ || state_ != state::open || settings.interval().count() <= 0) return;
        app_heartbeat_ = std::make_unique<app_heartbeat_state>(std::move(settings));
        auto self = std::static_pointer_cast<ws_session_base>(shared_from_this());
        boost::asio::co_spawn(get_executor(), app_heartbeat_loop(std::move(self), phase), boost::asio::detached);
    }
    void close_as(stats::disconnect_reason why) override { begin_close(1000, why, {}); }
    void on_stop() override { close_as(stats::disconnect_reason::client_stop); }

protected:
    static task<> app_heartbeat_loop(std::shared_ptr<ws_session_base> self, std::chrono::nanoseconds phase)
    {
        auto& hb = *self->app_heartbeat_;
        timer wait(self->get_executor());
        hb.wait = &wait;
        auto next = clock::now() + phase;
        while (self->state_ == state::open) {
            wait.expires_at(next);
            co_await wait.async_wait(use_task);
            if (self->state_ != state::open) break;
            hb.sent_at = clock::now();
            hb.outstanding = static_cast<bool>(hb.settings.is_reply());
            const auto ec = co_await self->write(hb.settings.message(), false);
            if (ec) break;  // the connection is ending: its reader counts why
            self->stats_[stats::counter_id::app_pings_sent].add();
            next = hb.sent_at + hb.settings.interval();
            if (!hb.outstanding) continue;
            wait.expires_at(hb.sent_at + hb.settings.timeout());
            co_await wait.async_wait(use_task);
            if (self->state_ != state::open) break;
            if (!hb.outstanding) continue;  // answered in time
            hb.outstanding = false;
            self->stats_[stats::counter_id::app_pongs_missed].add();
            const auto limit = hb.settings.max_missed();
            if (limit && ++hb.missed_in_a_row >= limit) {
                self->abort_as(stats::disconnect_reason::app_heartbeat_timeout);
                break;
            }
        }
        hb.outstanding = false;
        hb.wait = nullptr;
    }

    void ended() noexcept override
    {
        if (heartbeat_timer_) heartbeat_timer_->cancel();
    }

    /// Keeps the reason of the server's close frame (before finish()). Most closes carry none:
    /// it costs an idle connection one pointer.
    void keep_close_reason(std::string_view reason)
    {
        if (!reason.empty()) close_reason_ = std::make_unique<std::string>(reason);
    }

    // Heartbeat bookkeeping, shared by the ping loop and the pong callback.
    void pong_arrived(std::string_view payload) noexcept
    {
        std::uint64_t seq = 0;
        auto [p, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), seq);
        if (ec != std::errc{} || p != payload.data() + payload.size()) return;  // not ours
        if (!ping_outstanding_ || seq != ping_seq_) return;  // late pong of a ping already missed
        ping_outstanding_ = false;
        missed_in_a_row_ = 0;
        stats_[stats::counter_id::pongs_received].add();
        stats_[stats::histogram_id::ping_round_trip].record(elapsed_ns(ping_sent_at_));
    }

    bool ping_outstanding_ = false;
    std::uint8_t missed_in_a_row_ = 0;
    std::uint64_t ping_seq_ = 0;
    clock::time_point ping_sent_at_{};
    timer* heartbeat_timer_ = nullptr;
    std::unique_ptr<std::string> close_reason_;  // see keep_close_reason
};

}  // namespace wsload::net::detail
