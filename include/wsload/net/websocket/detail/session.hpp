#pragma once
// The WebSocket part of a connection, on the transport-neutral base: the close frame's code and
// reason, the closing handshake and the ping/pong heartbeat. Both WebSocket layers (Beast's and
// the lean one) derive from it. Everything here runs on the owning thread.

#include <wsload/net/detail/connection_base.hpp>

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
    void close_as(stats::disconnect_reason why) override { begin_close(1000, why, {}); }
    void on_stop() override { close_as(stats::disconnect_reason::client_stop); }

protected:
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
