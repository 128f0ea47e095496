#pragma once
// The run's time series from its parts: each thread (later each process) cuts its own seconds,
// counts and round trips at the same instant, so that each of its rows is consistent; here the
// rows of the same second are added up and that second's round-trip histograms merged, exactly.

#include <wsload/stats/histogram.hpp>
#include <wsload/stats/timeseries.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace wsload::stats {

/// One second of one source: its counts and its round trips, cut at one instant.
struct second_record {
    std::chrono::nanoseconds end;  ///< since the start; the last one may be partial
    second row;                    ///< without percentiles (those come from the merged histogram)
    histogram::state round_trips;
};

/// Appends to `series` (and each second's exact round trips to `round_trips`) the seconds of
/// `sources` added up second by second. A last second of under 100 ms (the run ended just after
/// a boundary) is folded into the one before: counts stay exact and no near-empty row skews a
/// chart. One histogram is reused for every second (a histogram is ~200 KB: one per second held
/// at once cost 6 MB for 30 s, 700 MB for an hour).
inline void merge_series(const std::vector<const std::vector<second_record>*>& sources, std::vector<second>& series,
                         std::vector<histogram::state>& round_trips)
{
    std::size_t seconds = 0;
    for (const auto* s : sources) seconds = std::max(seconds, s->size());
    histogram merged;
    const auto close_row = [&] {
        auto& row = series.back();
        row.round_trips = merged.count();
        row.round_trip_p50_ns = merged.percentile(50);
        row.round_trip_p99_ns = merged.percentile(99);
        round_trips.push_back(merged.export_state());
        merged.reset();
    };
    for (std::size_t k = 0; k < seconds; ++k) {
        std::chrono::nanoseconds end{0};
        for (const auto* s : sources)
            if (k < s->size()) end = std::max(end, (*s)[k].end);
        const bool fold = k > 0 && end - std::chrono::seconds(k) < std::chrono::milliseconds(100);
        if (!fold) {
            if (!series.empty()) close_row();
            series.emplace_back();
            series.back().t = static_cast<std::uint32_t>(k + 1);  // sources cut second k+1 at ~k+1 s
        }
        auto& row = series.back();
        row.active = 0;  // a gauge: the last second's, summed over sources
        for (const auto* s : sources) {
            if (k >= s->size()) continue;
            const auto& r = (*s)[k];
            row.active += r.row.active;
            row.new_connections += r.row.new_connections;
            row.connect_failures += r.row.connect_failures;
            row.disconnects += r.row.disconnects;
            row.messages_sent += r.row.messages_sent;
            row.messages_received += r.row.messages_received;
            row.bytes_sent += r.row.bytes_sent;
            row.bytes_received += r.row.bytes_received;
            merged.merge(r.round_trips);
        }
    }
    if (!series.empty()) close_row();
}

}  // namespace wsload::stats
