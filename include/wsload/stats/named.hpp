#pragma once
// Figures per request name ("login", "send message"), for the Locust-style table: each shard
// keeps a small table of names it has seen, written by its owner thread and readable by any;
// merged results key them by (type, name), so threads, processes and machines add up exactly
// whatever order each met the names in.

#include <wsload/stats/counter.hpp>
#include <wsload/stats/histogram.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsload::stats {

/// What a named entry counts: a request's kind ("WS" for WebSocket request/reply; the HTTP
/// steps use the method) and the name the behaviour gave it.
struct request_key {
    std::string type;
    std::string name;
    friend auto operator<=>(const request_key&, const request_key&) = default;
};

/// The name of requests a behaviour did not name: they form one row, as before names existed.
inline constexpr std::string_view unnamed_request = "round trip";
/// Where names beyond a shard's capacity go (a name per user or per message id would cost a
/// histogram each: 270 KB). The log says so once.
inline constexpr std::string_view overflow_request = "(other names)";

/// One name's figures in a shard. Owner thread writes; any thread reads.
struct named_request {
    request_key key;
    histogram round_trip;  ///< answered requests, from the intended send time
    counter sent, answered, timed_out, failed, rejected;
};

/// A shard's named requests. find() is owner-only and costs a compare with the last name it
/// found, else one map lookup; readers see
/// entries through an append-only array of published pointers, so no lock is ever taken.
class named_table {
public:
    static constexpr std::size_t capacity = 256;

    /// The entry of (type, name), created on first use; past capacity, the overflow entry.
    /// `overflowed` becomes true the first time a name did not fit.
    named_request& find(std::string_view type, std::string_view name, bool* overflowed = nullptr)
    {
        // A thread mostly meets the same name again (every unnamed request, a loop of one
        // step): the last entry found is tried first, two short compares rather than a map walk.
        if (last_ && last_->key.name == name && last_->key.type == type) return *last_;
        if (auto it = index_.find(key_view{type, name}); it != index_.end()) return *(last_ = it->second);
        if (size_.load(std::memory_order_relaxed) >= capacity - 1 && name != overflow_request) {
            if (overflowed) *overflowed = !overflow_seen_;
            overflow_seen_ = true;
            return find(type, overflow_request);
        }
        auto entry = std::make_unique<named_request>();
        entry->key = {std::string(type), std::string(name)};
        auto& e = *entry;
        index_.emplace(e.key, &e);
        const auto n = size_.load(std::memory_order_relaxed);
        entries_[n].store(&e, std::memory_order_release);
        size_.store(n + 1, std::memory_order_release);
        owned_.push_back(std::move(entry));
        last_ = &e;
        return e;
    }

    /// Calls f(const named_request&) for every entry, in order of first use. Any thread.
    template <class F>
    void for_each(F&& f) const
    {
        const auto n = size_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < n; ++i) f(*entries_[i].load(std::memory_order_acquire));
    }

private:
    struct key_view {
        std::string_view type, name;
    };
    // Transparent: a lookup compares string_views, it never builds a string.
    struct key_less {
        using is_transparent = void;
        static key_view view(const request_key& k) noexcept { return {k.type, k.name}; }
        static key_view view(const key_view& k) noexcept { return k; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept
        {
            const auto x = view(a), y = view(b);
            return x.type != y.type ? x.type < y.type : x.name < y.name;
        }
    };

    std::map<request_key, named_request*, key_less> index_;  // owner only
    std::vector<std::unique_ptr<named_request>> owned_;      // owner only
    std::array<std::atomic<named_request*>, capacity> entries_{};
    std::atomic<std::size_t> size_{0};
    bool overflow_seen_ = false;
    named_request* last_ = nullptr;  // owner only: the entry find() returned last, under its own key
};

/// A name's merged figures.
struct named_totals {
    histogram round_trip;
    std::uint64_t sent = 0, answered = 0, timed_out = 0, failed = 0, rejected = 0;

    std::uint64_t failures() const noexcept { return timed_out + failed + rejected; }
    void add(const named_request& r)
    {
        round_trip.merge(r.round_trip);
        sent += r.sent.get();
        answered += r.answered.get();
        timed_out += r.timed_out.get();
        failed += r.failed.get();
        rejected += r.rejected.get();
    }
    /// Takes away an earlier reading of the same name (histogram::subtract).
    void subtract(const named_totals& earlier)
    {
        round_trip.subtract(earlier.round_trip);
        sent -= earlier.sent;
        answered -= earlier.answered;
        timed_out -= earlier.timed_out;
        failed -= earlier.failed;
        rejected -= earlier.rejected;
    }
    bool empty() const noexcept { return round_trip.empty() && sent == 0 && answered == 0 && failures() == 0; }
    void add(const named_totals& t)
    {
        round_trip.merge(t.round_trip);
        sent += t.sent;
        answered += t.answered;
        timed_out += t.timed_out;
        failed += t.failed;
        rejected += t.rejected;
    }
};

/// Every name of a run, ordered by (type, name): the same order whoever merged them.
using named_map = std::map<request_key, named_totals>;

}  // namespace wsload::stats
