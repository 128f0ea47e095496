#pragma once
// Exact-size coroutine frames for what stays parked for a long time.
//
// Asio recycles coroutine frames per thread: a freed frame goes to a cache of two blocks, and
// the next frame takes any cached block at least as large as it needs. That is right for the
// frames of one message, which come and go. It is wrong for a frame that then stays parked for
// the whole run: an idle user's behaviour, co_spawn's entry point and wait_closed() took the
// ~500-byte and ~270-byte blocks that the connect had just freed, about 550 bytes more than
// they needed per connection (massif, 2,000 idle connections). Emptying the cache just before
// such frames are made gives them blocks of their own size.
//
// This reaches into asio's detail namespace (thread_info_base, as awaitable_frame_base's own
// operator new does); on a Boost it was not checked with, it does nothing.

#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>
#include <boost/version.hpp>

#include <cstddef>

namespace wsload::detail {

/// Frees the coroutine frames this thread keeps for reuse, so that the next frames are
/// allocated at their exact size. Costs a few frees and two allocations; call it before a
/// long wait, never per message.
inline void release_cached_frames() noexcept
{
#if BOOST_VERSION >= 108100 && BOOST_VERSION < 109000 && !defined(BOOST_ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING)
    using boost::asio::detail::thread_info_base;
    auto* const thread = boost::asio::detail::thread_context::top_of_thread_call_stack();
    if (!thread) return;
    // A request larger than any block the cache may hold (it keeps blocks up to 255 chunks):
    // no cached block fits, so the allocator frees one and allocates anew. Freed at that size,
    // the new block bypasses the cache. Once per slot of the cache.
    constexpr std::size_t too_large = 256 * 8 + 8;
    for (int i = 0; i < BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE; ++i) {
        try {
            void* p = thread_info_base::allocate(thread_info_base::awaitable_frame_tag(), thread, too_large);
            thread_info_base::deallocate(thread_info_base::awaitable_frame_tag(), thread, p, too_large);
        } catch (...) {  // out of memory: the cache simply stays
            return;
        }
    }
#endif
}

}  // namespace wsload::detail
