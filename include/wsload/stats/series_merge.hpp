#pragma once
// The run's time series from its parts: each thread (later each process) cuts its own seconds,
// counts and round trips at the same instant, so that each of its rows is consistent; here the
// rows of the same second are added up and that second's round-trip histograms merged, exactly,
// as the seconds come in, so that nothing that grows with the run's length stays in memory but
// the rows themselves (~100 B a second).

#include <wsload/stats/histogram.hpp>
#include <wsload/stats/histogram_spill.hpp>
#include <wsload/stats/timeseries.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

namespace wsload::stats {

/// One second of one source: its counts and its round trips, cut at one instant.
struct second_record {
    std::chrono::nanoseconds end;  ///< since the start; the last one may be partial
    second row;                    ///< without percentiles (those come from the merged histogram)
    histogram::state round_trips;
};

/// Merges the seconds of `sources` second by second as they are cut: second k is merged once
/// every source has handed in its k-th (or, at finish(), with the sources that have one). Each
/// merged row is appended to `rows` and its exact round trips to `round_trips` once the next
/// second shows it complete; a last second of under 100 ms (the run ended just after a
/// boundary) is folded into the one before, so counts stay exact and no near-empty row skews a
/// chart. Holds one histogram (~270 KB) and the seconds not yet merged (a second or two per
/// source). `rows` and `round_trips` must outlive it. One thread at a time.
class series_builder {
public:
    series_builder(std::size_t sources, std::vector<second>& rows, histogram_spill& round_trips)
        : pending_(sources), rows_(rows), round_trips_(round_trips)
    {}

    /// Source `source`'s next second (each source's seconds come in order).
    void add(std::size_t source, second_record r)
    {
        pending_.at(source).push_back(std::move(r));
        while (std::all_of(pending_.begin(), pending_.end(), [](const auto& q) { return !q.empty(); }))
            merge_next();
    }

    /// Every source has handed in its last second: merges the rest and closes the last row.
    void finish()
    {
        while (std::any_of(pending_.begin(), pending_.end(), [](const auto& q) { return !q.empty(); }))
            merge_next();
        if (row_open_) close_row();
    }

    /// Seconds merged so far (rows, closed or open, count folded seconds once).
    std::size_t seconds_merged() const noexcept { return next_; }

private:
    /// Merges second next_ from the sources that have it (all of them until finish()).
    void merge_next()
    {
        std::chrono::nanoseconds end{0};
        for (const auto& q : pending_)
            if (!q.empty()) end = std::max(end, q.front().end);
        const bool fold = next_ > 0 && end - std::chrono::seconds(next_) < std::chrono::milliseconds(100);
        if (!fold) {
            if (row_open_) close_row();
            rows_.emplace_back();
            rows_.back().t = static_cast<std::uint32_t>(next_ + 1);  // sources cut second k+1 at ~k+1 s
            row_open_ = true;
        }
        auto& row = rows_.back();
        row.active = 0;  // a gauge: the last second's, summed over sources
        for (auto& q : pending_) {
            if (q.empty()) continue;
            const auto& r = q.front();
            add_counts(row, r.row);
            merged_.merge(r.round_trips);
            q.pop_front();
        }
        ++next_;
    }

    void close_row()
    {
        auto& row = rows_.back();
        row.round_trips = merged_.count();
        row.round_trip_p50_ns = merged_.percentile(50);
        row.round_trip_p99_ns = merged_.percentile(99);
        round_trips_.push_back(merged_.export_state());
        merged_.reset();
        row_open_ = false;
    }

    std::vector<std::deque<second_record>> pending_;  ///< per source, seconds not yet merged
    std::vector<second>& rows_;
    histogram_spill& round_trips_;
    histogram merged_;  ///< the open row's round trips
    std::size_t next_ = 0;  ///< index of the next second to merge (second next_ + 1)
    bool row_open_ = false;
};

}  // namespace wsload::stats
