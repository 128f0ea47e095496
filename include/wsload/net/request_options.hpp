#pragma once
// What a request is given: its options, and its reply matcher with the type taken away.

#include <wsload/core/task.hpp>

#include <chrono>
#include <cstddef>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace wsload {

/// What a reply matcher may return instead of true/false. `accept` is true and `ignore` false.
/// `reject`: the message is the request's reply but says it failed (an error status,
/// `"errno": 1`): the request ends with it, counted as rejected (a failure, as Locust's
/// response.failure()), not as answered. `more`: the message is a part of a reply that comes in
/// several (an answer streamed in chunks): it is taken (no receive() sees it), the time to the
/// first part is recorded (histogram first_reply), and the request waits on, within its
/// timeout, for the part its matcher accepts, to which its round trip is measured.
enum class reply { ignore, accept, reject, more };

/// Options of one request: how long to wait for the reply, the time the send was meant to
/// happen (a behaviour on a fixed schedule passes it so that a late send is not hidden), the
/// request's name: its row in the report's table, its entry in the result file and its
/// `round_trip{name}` thresholds (unnamed requests share the row "round trip"), and its key:
/// on a connection opened with a reply_key, the reply is the message carrying that key, found
/// by a hash lookup. Name and key are only read when the request starts, so string_views of
/// temporaries are fine.
/// An aggregate for designated initializers; keep its members trivially destructible (g++ 12
/// destroys aggregate temporaries in co_await expressions twice: see websocket_options).
struct request_options {
    std::chrono::nanoseconds timeout = std::chrono::seconds(10);
    std::optional<clock::time_point> intended_at = {};
    bool binary = false;
    std::string_view name = {};  // an initializer: no -Wmissing-field-initializers for {.timeout = ...}
    std::string_view key = {};
};

namespace net::detail {

/// A reply matcher without its type: what the connection layers, compiled once (see
/// detail/config.hpp), see of a behaviour's lambda. Held by value in a few words of its own
/// (the usual `[&](std::string_view r) { ... }` is one or two pointers), so the request
/// coroutine keeps it in its frame and websocket::request needs no frame of its own; a larger
/// or throwing-move matcher is moved to the heap once.
class reply_matcher {
public:
    template <class Match>
    explicit reply_matcher(Match m)
    {
        if constexpr (held_inline<Match>) {
            ::new (static_cast<void*>(storage_)) Match(std::move(m));
            ops_ = &inline_ops<Match>;
        } else {
            ::new (static_cast<void*>(storage_)) Match*(new Match(std::move(m)));
            ops_ = &heap_ops<Match>;
        }
    }
    reply_matcher(reply_matcher&& other) noexcept : ops_(other.ops_) { ops_->move(storage_, other.storage_); }
    reply_matcher(const reply_matcher&) = delete;
    reply_matcher& operator=(const reply_matcher&) = delete;
    reply_matcher& operator=(reply_matcher&&) = delete;
    ~reply_matcher() { ops_->destroy(storage_); }

    reply operator()(std::string_view data, bool binary) const { return ops_->call(storage_, data, binary); }

private:
    static constexpr std::size_t capacity = 4 * sizeof(void*);
    template <class Match>
    static constexpr bool held_inline = sizeof(Match) <= capacity && alignof(Match) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<Match>;

    struct operations {
        reply (*call)(const void* storage, std::string_view data, bool binary);
        void (*move)(void* to, void* from) noexcept;  // leaves `from` destructible
        void (*destroy)(void* storage) noexcept;
    };

    template <class Match>
    static reply invoke(const Match& f, std::string_view data, bool binary)
    {
        if constexpr (std::is_invocable_v<const Match&, std::string_view, bool>)
            return verdict(f(data, binary));
        else
            return verdict(f(data));
    }
    static reply verdict(reply r) noexcept { return r; }
    template <class Result>
    static reply verdict(const Result& r)
    {
        return static_cast<bool>(r) ? reply::accept : reply::ignore;
    }

    template <class Match>
    static constexpr operations inline_ops{
        [](const void* p, std::string_view d, bool b) -> reply { return invoke(*static_cast<const Match*>(p), d, b); },
        [](void* to, void* from) noexcept { ::new (to) Match(std::move(*static_cast<Match*>(from))); },
        [](void* p) noexcept { static_cast<Match*>(p)->~Match(); }};
    template <class Match>
    static constexpr operations heap_ops{
        [](const void* p, std::string_view d, bool b) -> reply { return invoke(**static_cast<Match* const*>(p), d, b); },
        [](void* to, void* from) noexcept { ::new (to) Match*(std::exchange(*static_cast<Match**>(from), nullptr)); },
        [](void* p) noexcept { delete *static_cast<Match**>(p); }};

    const operations* ops_;
    alignas(std::max_align_t) unsigned char storage_[capacity];
};

}  // namespace net::detail
}  // namespace wsload
