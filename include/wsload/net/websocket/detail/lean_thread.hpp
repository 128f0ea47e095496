#pragma once
// What the lean WebSocket layer keeps once per worker thread, and how its operations allocate.
// Apart from the connection because it is the per-thread half of the memory design
// (PERF-FACTS.md): one read buffer and one masking buffer per thread instead of per connection,
// one heartbeat wheel instead of a timer each, and allocators that keep an idle connection's one
// pending operation in a block of its own size (net/detail/handler_memory.hpp).

#include <wsload/core/random.hpp>
#include <wsload/core/task.hpp>
#include <wsload/net/detail/handler_memory.hpp>
#include <wsload/net/detail/read_buffer.hpp>
#include <wsload/net/websocket/detail/heartbeat_wheel.hpp>
#include <wsload/net/io_thread.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <random>
#include <utility>

namespace wsload::net::detail {

class lean_ws_connection;

/// What the lean layer keeps once per worker thread (io_thread::local).
class lean_thread_state {
public:
    static constexpr std::size_t buffer_size = 64 * 1024;
    static_assert(buffer_size == thread_read_buffer::size, "reads fill the thread's buffer, sized as this one");

    explicit lean_thread_state(io_thread& w) : random(seed()), wheel(w.get_executor()), read_(w.local<thread_read_buffer>()) {}

    /// Where reads land (the thread's, shared by every transport); handed on in place, so it is
    /// free again when the handler returns.
    char* read_buffer() { return read_.get(); }
    /// Where frames are masked before the socket takes them (the rest is copied to a backlog).
    char* write_buffer() { return get(write_); }

    random_generator random;  ///< Sec-WebSocket-Key nonces and masking keys (fresh per frame)
    heartbeat_wheel<lean_ws_connection> wheel;
    same_size_pool read_waits;  ///< each connection's pending readiness wait

private:
    static std::uint64_t seed()
    {
        std::random_device device;
        return std::uint64_t{device()} << 32 ^ device();
    }
    static char* get(std::unique_ptr<char[]>& b)
    {
        if (!b) b = std::make_unique<char[]>(buffer_size);
        return b.get();
    }

    thread_read_buffer& read_;
    std::unique_ptr<char[]> write_;
};

}  // namespace wsload::net::detail
