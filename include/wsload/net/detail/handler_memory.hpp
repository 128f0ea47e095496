#pragma once
// How a connection's asynchronous operations allocate, for every transport: exactly (the
// handshake's operations, whose blocks must not be left in asio's per-thread cache for a frame
// that then stays parked), or from a per-thread pool of one size (the one pending readiness wait
// of every idle connection: no malloc per message).

#include <wsload/core/task.hpp>
#include <wsload/net/detail/parked.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace wsload::net::detail {

/// Allocates exactly what is asked. Asio's default for handlers is a per-thread recycling cache
/// that hands an operation any cached block at least as large: an idle connection's pending wait
/// (96 bytes) would sit for good in the ~300-byte block the upgrade's read left behind.
template <class T>
struct exact_allocator {
    using value_type = T;
    exact_allocator() noexcept = default;
    template <class U>
    exact_allocator(const exact_allocator<U>&) noexcept
    {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { ::operator delete(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const exact_allocator<U>&) const noexcept
    {
        return true;
    }
};

/// use_task for the handshake's operations, allocating exactly: freed at once, a block they
/// left in the thread's cache would be taken by the next small operation or coroutine frame,
/// often one that then stays parked (a behaviour's wait) for the whole run.
inline auto exact_task()
{
    return boost::asio::as_tuple(boost::asio::bind_allocator(exact_allocator<void>(), wsload::use_awaitable));
}

/// Blocks of one size, reused per thread: the pending readiness wait of every connection on the
/// thread is the same operation, so its blocks are taken from and given back to a free list
/// (no malloc per message) and are never larger than it (see exact_allocator).
class same_size_pool {
public:
    same_size_pool() = default;
    same_size_pool(const same_size_pool&) = delete;
    same_size_pool& operator=(const same_size_pool&) = delete;
    ~same_size_pool()
    {
        while (free_) ::operator delete(std::exchange(free_, free_->next), size_);
    }

    void* allocate(std::size_t n)
    {
        if (size_ == 0 && n >= sizeof(node)) size_ = n;  // the first size asked for is the pool's
        if (n == size_ && free_) {
            --kept_;
            return std::exchange(free_, free_->next);
        }
        return ::operator new(n);
    }
    void deallocate(void* p, std::size_t n) noexcept
    {
        if (n == size_ && kept_ < max_kept) {
            free_ = ::new (p) node{free_};
            ++kept_;
            return;
        }
        ::operator delete(p, n);
    }

private:
    struct node {
        node* next;
    };
    static constexpr std::size_t max_kept = 1024;  // what a burst of completions can hand back
    node* free_ = nullptr;
    std::size_t size_ = 0;
    std::size_t kept_ = 0;
};

/// The allocator of a handler whose operations come from a same_size_pool.
template <class T>
struct pooled_allocator {
    using value_type = T;
    explicit pooled_allocator(same_size_pool& p) noexcept : pool(&p) {}
    template <class U>
    pooled_allocator(const pooled_allocator<U>& other) noexcept : pool(other.pool)
    {}
    T* allocate(std::size_t n) { return static_cast<T*>(pool->allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { pool->deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const pooled_allocator<U>& other) const noexcept
    {
        return pool == other.pool;
    }
    same_size_pool* pool;
};

/// The handler of an idle connection's one pending readiness wait, for the lean layers of every
/// transport: it keeps the connection alive, hands it to `Connection::on_readable`, and takes
/// its memory from the thread's pool of such waits (`Connection::read_wait_pool()`). What the
/// read resumes (a reply's request) runs at its end, inline (resume_batch).
template <class Connection>
struct read_ready {
    std::shared_ptr<Connection> self;
    void operator()(const boost::system::error_code& ec)
    {
        resume_batch resumed;  // what the read resumes: inline, at the end
        Connection::on_readable(std::move(self), ec);
        resumed.run();
    }
    using allocator_type = pooled_allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(self->read_wait_pool()); }
};

}  // namespace wsload::net::detail
