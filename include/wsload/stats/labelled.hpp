#pragma once
// Counts by a label a run discovers as it goes: messages the server pushed, by their type (a JSON
// field the scenario names, a Socket.IO event's name). As named.hpp does for requests, each shard
// keeps a small table its owner thread writes (one hash lookup and an add per event, no lock) and
// any thread reads through an append-only array of published entries; merged results key the
// counts by label, so threads, processes and machines add up exactly.

#include <wsload/stats/counter.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wsload::stats {

/// Where labels beyond a table's capacity are counted (a label carrying an id would otherwise
/// grow memory with every message).
inline constexpr std::string_view other_labels = "(other types)";

/// Counts by label, merged: what totals and result files carry.
using label_counts = std::map<std::string, std::uint64_t, std::less<>>;

/// Adds `n` under `label` into `into`, keeping at most `limit` labels besides `overflow`, under
/// which the rest count: the bound every table of labels (errors, pushes, reconnects) keeps.
inline void add_bounded(label_counts& into, std::string_view label, std::uint64_t n, std::size_t limit,
                        std::string_view overflow)
{
    auto it = into.find(label);
    if (it == into.end()) {
        const auto kept = into.size() - into.count(overflow);
        it = kept < limit ? into.emplace(std::string(label), 0).first : into.try_emplace(std::string(overflow)).first;
    }
    it->second += n;
}

/// One shard's counts by label. count() is owner-only; for_each() any thread.
class labelled_counts {
public:
    static constexpr std::size_t capacity = 128;

    /// Counts one event labelled `label` (past capacity, under other_labels).
    void count(std::string_view label)
    {
        if (const auto it = index_.find(label); it != index_.end()) return it->second->n.add();
        const auto n = size_.load(std::memory_order_relaxed);
        if (n >= capacity - 1 && label != other_labels) return count(other_labels);
        auto e = std::make_unique<entry>();
        e->label = std::string(label);
        auto& made = *e;
        index_.emplace(made.label, &made);
        owned_.push_back(std::move(e));
        entries_[n].store(&made, std::memory_order_release);
        size_.store(n + 1, std::memory_order_release);
        made.n.add();
    }

    /// Adds every label's count into `into`. Any thread.
    void add_to(label_counts& into) const
    {
        const auto n = size_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& e = *entries_[i].load(std::memory_order_acquire);
            merge_label(into, e.label, e.n.get());
        }
    }

    /// Adds `n` under `label` into `into`, with the bound a shard has: beyond `capacity` labels,
    /// the rest count under other_labels.
    static void merge_label(label_counts& into, std::string_view label, std::uint64_t n)
    {
        add_bounded(into, label, n, capacity, other_labels);
    }

private:
    struct entry {
        std::string label;
        counter n;
    };
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string_view, entry*, hash, std::equal_to<>> index_;  // owner only; keys view entries
    std::vector<std::unique_ptr<entry>> owned_;                                    // owner only
    std::array<std::atomic<entry*>, capacity> entries_{};
    std::atomic<std::size_t> size_{0};
};

/// Adds `from` into `into` (merging runs or shards), bounded as a shard is.
inline void merge_labels(label_counts& into, const label_counts& from)
{
    for (const auto& [label, n] : from) labelled_counts::merge_label(into, label, n);
}

/// Takes away an earlier reading (a phase is the difference of two): labels of the earlier
/// reading are all in the later one, with counts at least as large.
inline void subtract_labels(label_counts& from, const label_counts& earlier)
{
    for (const auto& [label, n] : earlier) {
        const auto it = from.find(label);
        if (it == from.end()) continue;
        it->second = it->second >= n ? it->second - n : 0;
        if (it->second == 0) from.erase(it);
    }
}

}  // namespace wsload::stats
