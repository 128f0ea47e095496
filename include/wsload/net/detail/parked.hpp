#pragma once
// How a coroutine waits on a connection without a timer or a frame of its own: parked as the
// completion handler of its co_await, resumed by what it waits for (a reply, a message, the
// connection's end, its turn to write) or by its deadline in the thread's deadline queue.

#include <wsload/core/task.hpp>
#include <wsload/net/deadline_queue.hpp>
#include <wsload/net/message.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <utility>

namespace wsload::net::detail {

class connection_base;

/// How a coroutine parked in request() or receive() is resumed: the completion handler of its
/// co_await, kept as it is. No timer and no frame of its own (the deadline is an entry of the
/// thread's deadline_queue).
using resume_handler = boost::asio::async_result<boost::asio::use_awaitable_t<executor>, void()>::handler_type;

/// The waiters a lean reader's handler resumes (read_ready: a reply's request, a receive, the
/// requests of a connection that ended), run inline once the reader is done, instead of one
/// post each. A post costs its handler's queueing, and handlers posted behind the reactor make
/// asio poll epoll once more (epoll_wait(0)) before it runs them: 1,000 users x 10 msg/s,
/// 168,802 epoll_wait calls for 112,000 messages before, 120,545 after (perf stat). Inline is safe there and only there: the reader's handler is a completion run by
/// the io_context, never code inside a coroutine, and by run() the reader has finished with
/// its connection and the thread's read buffer. One batch is open per thread at a time; what
/// the resumed coroutines resume in turn is posted, as is what does not fit.
class resume_batch {
public:
    resume_batch() noexcept : outer_(std::exchange(current_, this)) {}
    resume_batch(const resume_batch&) = delete;
    resume_batch& operator=(const resume_batch&) = delete;
    /// What run() did not reach (it threw) is posted: every waiter is resumed once.
    ~resume_batch()
    {
        current_ = outer_;
        for (; next_ < size_; ++next_) boost::asio::post(take(next_));
    }

    /// Resumes the waiters taken, in the order taken, inline.
    void run()
    {
        current_ = outer_;
        while (next_ < size_) take(next_++)();
    }

    /// Takes `h` (moved from when taken) into the batch open on this thread, if there is one
    /// with room.
    static bool offer(resume_handler& h)
    {
        auto* const b = current_;
        if (b == nullptr || b->size_ == capacity) return false;
        b->slots_[b->size_++].emplace(std::move(h));
        return true;
    }

private:
    static constexpr std::size_t capacity = 8;  // a read rarely completes more (64 KiB, small replies: a few)
    resume_handler take(std::size_t i)
    {
        auto h = std::move(*slots_[i]);
        slots_[i].reset();
        return h;
    }
    inline static thread_local resume_batch* current_ = nullptr;
    resume_batch* outer_;
    std::size_t size_ = 0;
    std::size_t next_ = 0;
    std::array<std::optional<resume_handler>, capacity> slots_;
};

/// A coroutine waiting for one thing (a reply, a message) or its deadline, whichever comes
/// first. Lives in the waiting coroutine's frame.
struct parked_wait : net::deadline_entry {
    using deadline_entry::deadline_entry;
    /// Resumes the waiter, once: later calls (the deadline after the reply) do nothing.
    void resume()
    {
        leave_queue();
        if (!handler) return;
        // In a reader's batch: inline at its end. Else never inline: the caller may be
        // another coroutine.
        if (!resume_batch::offer(*handler)) boost::asio::post(std::move(*handler));
        handler.reset();
    }
    std::optional<resume_handler> handler;
};

/// A receive() waiting for a message.
struct parked_receive : parked_wait {
    parked_receive(expire_fn expired, connection_base* s, std::optional<message>* into) noexcept
        : parked_wait(expired), session(s), slot(into)
    {}
    connection_base* session;
    std::optional<message>* slot;  ///< where the message goes
};

/// A send waiting for its connection's write turn (connection_base::wait_write_turn): a node
/// in the waiting coroutine's frame, in a FIFO ring, so that waiting allocates nothing (sends
/// from many coroutines of one connection wait behind one the socket could not take at once).
/// Its coroutine is resumed with true when the turn is its own and the connection still open.
struct write_waiter {
    using handler_type = boost::asio::async_result<boost::asio::use_awaitable_t<executor>, void(bool)>::handler_type;
    std::optional<handler_type> handler;
    write_waiter* next = nullptr;  ///< in the ring: the next to wait (the oldest, from the newest)
};

/// A coroutine parked as its bare completion handler, in a list: in wait_closed() until the
/// connection ends.
struct parked_handler {
    explicit parked_handler(parked_handler* n) noexcept : next(n) {}
    virtual ~parked_handler() = default;
    /// Posts the handler to its executor; the waiter is deleted by the caller.
    virtual void resume() = 0;
    parked_handler* next;
};

template <class Handler>
struct parked_handler_of final : parked_handler {
    parked_handler_of(Handler&& h, parked_handler* n) : parked_handler(n), handler(std::move(h)) {}
    void resume() override
    {
        const auto ex = boost::asio::get_associated_executor(handler);
        boost::asio::post(ex, std::move(handler));
    }
    Handler handler;
};

}  // namespace wsload::net::detail
