#pragma once
// The writing half of the lean WebSocket connection (lean_connection.hpp has the connect, the
// reader, the closing handshake and the heartbeat): frames are masked into the thread's buffer
// and handed to the socket at once; what it does not take waits in a backlog that exists only
// then, and control frames (ping, pong, close) wait for the data frame being written to end,
// never inside one.

#include <wsload/net/detail/lean_stream.hpp>
#include <wsload/net/websocket/detail/frame.hpp>
#include <wsload/net/websocket/detail/lean_thread.hpp>
#include <wsload/net/websocket/detail/session.hpp>

#include <boost/asio/bind_allocator.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace wsload::net::detail {

class lean_ws_output : public ws_session_base {
protected:
    explicit lean_ws_output(io_thread& w)
        : ws_session_base(w), lean_(w.local<lean_thread_state>()), stream_(w.get_executor())
    {}

    /// Bytes the socket did not take at once (back-pressure only) and what waits behind them.
    struct output_backlog {
        std::string in_flight;  ///< being written as the socket becomes writable
        std::size_t written = 0;  ///< of in_flight
        std::string held;       ///< control frames waiting for in_flight or for a data frame's end
        timer* writer = nullptr;  ///< write() waiting for in_flight to be written
        error_code error;       ///< how writing in_flight failed
        bool shutdown = false;  ///< shut our sending side once everything is out
    };

    bool flushing() const noexcept { return backlog_ && !backlog_->in_flight.empty(); }
    output_backlog& backlog()
    {
        if (!backlog_) backlog_ = std::make_unique<output_backlog>();
        return *backlog_;
    }

    /// Hands `n` bytes to the socket (nothing may be in flight): what it does not take now is
    /// copied to the backlog and written as the socket becomes writable.
    error_code emit(const char* p, std::size_t n)
    {
        error_code ec;
        const auto taken = stream_.write_some(p, n, ec);
        if (ec == boost::asio::error::would_block) ec = {};
        if (ec) return ec;
        if (taken == n) return {};
        auto& b = backlog();
        b.in_flight.assign(p + taken, n - taken);
        b.written = 0;
        wait_writable();
        return {};
    }

    /// The wait's handler allocates exactly, as read_ready's does.
    void wait_writable()
    {
        stream_.socket().async_wait(stream_.write_wait(),
                                    boost::asio::bind_allocator(exact_allocator<void>(),
                                                                [self = shared_from_this()](const error_code& ec) {
                                                                    static_cast<lean_ws_output&>(*self).on_writable(ec);
                                                                }));
    }

    void on_writable(error_code ec)
    {
        auto& b = *backlog_;
        while (!ec && b.written < b.in_flight.size()) {
            const auto put = stream_.write_some(b.in_flight.data() + b.written, b.in_flight.size() - b.written, ec);
            if (ec == boost::asio::error::would_block) return wait_writable();
            b.written += put;
        }
        flushed(ec);
    }

    void flushed(const error_code& ec)
    {
        auto& b = *backlog_;
        b.in_flight = std::string();
        b.written = 0;
        if (ec) b.error = ec;  // the reader sees the failure too and ends the connection
        if (b.writer) b.writer->cancel();
        pump_output();
    }

    /// At a frame boundary with nothing in flight: held control frames go out, then a shutdown
    /// that waited for them; the backlog goes when it holds nothing.
    void pump_output()
    {
        if (!backlog_ || flushing() || frame_open_) return;
        auto& b = *backlog_;
        if (b.error) return;
        if (!b.held.empty()) {
            const std::string held = std::move(b.held);
            b.held = std::string();
            if (const auto ec = emit(held.data(), held.size())) b.error = ec;
            if (flushing() || b.error) return;
        }
        if (b.shutdown) {
            b.shutdown = false;
            stream_.shutdown_send();
        }
        if (!b.writer) backlog_.reset();
    }

    /// A control frame (ping, pong, close): out at once unless output is busy, then held until
    /// the frame being written ends (control frames may come between a message's frames, never
    /// inside one). False when the socket refused it.
    bool send_control(std::uint8_t opcode, std::string_view payload)
    {
        if (!stream_.is_open()) return false;
        char frame[max_client_header + 125];
        const auto key = static_cast<std::uint32_t>(lean_.random());
        const auto header = encode_client_header(frame, opcode, true, payload.size(), key);
        mask_copy(frame + header, payload.data(), payload.size(), key, 0);
        if (flushing() || frame_open_) {
            backlog().held.append(frame, header + payload.size());
            return true;
        }
        return !emit(frame, header + payload.size());
    }

    void shutdown_when_sent()
    {
        if (flushing() || frame_open_ || (backlog_ && !backlog_->held.empty())) {
            backlog().shutdown = true;
            return;
        }
        stream_.shutdown_send();
    }

    /// Waits until nothing is in flight; the error of a failed flush if one failed.
    task<error_code> wait_for_output()
    {
        while (flushing()) {
            timer wake(get_executor(), clock::time_point::max());
            backlog_->writer = &wake;
            co_await wake.async_wait(use_task);
            if (backlog_) backlog_->writer = nullptr;
        }
        if (backlog_ && backlog_->error) co_return backlog_->error;
        pump_output();  // held frames out; an empty backlog goes (and sends take the short way again)
        co_return error_code{};
    }

    /// True when a message of `n` bytes goes out as one frame that fits the thread's buffer, with
    /// nothing waiting before it.
    bool fits_one_write(std::size_t n) const noexcept
    {
        return !backlog_ && n <= lean_thread_state::buffer_size - max_client_header && (fragment_size_ == 0 || n <= fragment_size_);
    }

    /// A whole message as one frame that fits the thread's buffer, masked with a fresh key and
    /// handed to the socket (the rest, if any, in flight: see emit).
    error_code emit_frame(std::string_view payload, std::uint8_t opcode, std::uint8_t rsv = 0)
    {
        const auto key = static_cast<std::uint32_t>(lean_.random());
        char* const out = lean_.write_buffer();
        const auto header = encode_client_header(out, opcode, true, payload.size(), key, rsv);
        mask_copy(out + header, payload.data(), payload.size(), key, 0);
        return emit(out, header + payload.size());
    }

    /// One message as one frame, or frames of fragment_size, each masked with a fresh key in
    /// pieces that fit the thread's buffer. `rsv` (0 or rsv1: compressed) goes on the first frame.
    task<error_code> write_message(std::string_view data, bool binary, std::uint8_t rsv = 0)
    {
        const std::size_t frame_max = fragment_size_ ? fragment_size_ : std::max<std::size_t>(data.size(), 1);
        constexpr std::size_t room = lean_thread_state::buffer_size - max_client_header;
        bool suspended = false;
        std::size_t pos = 0;
        do {
            // A frame boundary: control frames held meanwhile go first.
            for (;;) {
                if (flushing()) {
                    suspended = true;
                    if (const auto ec = co_await wait_for_output()) co_return ec;
                }
                pump_output();
                if (!flushing()) break;
            }
            if (backlog_ && backlog_->error) co_return backlog_->error;
            // No data after a close frame, which may have gone out between two frames.
            if (close_sent_ || !stream_.is_open()) co_return boost::asio::error::not_connected;
            const auto length = std::min(frame_max, data.size() - pos);
            const bool fin = pos + length == data.size();
            const auto opcode = pos > 0 ? ws_opcode::continuation : binary ? ws_opcode::binary : ws_opcode::text;
            const auto key = static_cast<std::uint32_t>(lean_.random());
            char* const out = lean_.write_buffer();
            std::size_t header = encode_client_header(out, opcode, fin, length, key, pos > 0 ? 0 : rsv);
            std::size_t done = 0;
            frame_open_ = true;
            do {
                const auto piece = std::min(length - done, room);
                mask_copy(out + header, data.data() + pos + done, piece, key, done);
                error_code ec = emit(out, header + piece);
                done += piece;
                header = 0;
                if (!ec && done < length && flushing()) {
                    suspended = true;
                    ec = co_await wait_for_output();
                }
                if (ec) {
                    frame_open_ = false;
                    co_return ec;
                }
            } while (done < length);
            frame_open_ = false;
            pos += length;
        } while (pos < data.size());
        pump_output();
        if (flushing()) {
            suspended = true;  // the message counts as sent once the socket has all of it
            if (const auto ec = co_await wait_for_output()) co_return ec;
        }
        // A send suspends at least once, as an asio write does: a behaviour sending in a
        // loop must not keep its thread from everything else.
        if (!suspended) co_await yield();
        co_return error_code{};
    }

    lean_thread_state& lean_;
    lean_stream stream_;
    std::unique_ptr<output_backlog> backlog_;
    std::size_t fragment_size_ = 0;
    bool close_sent_ = false;
    bool frame_open_ = false;  ///< a data frame is partly written: control frames wait for its end
};

}  // namespace wsload::net::detail
