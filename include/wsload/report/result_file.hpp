#pragma once
// Reading result documents back (wsload.result/1) and merging several into one, exactly:
// counters add, histograms merge bucket by bucket, time series align by wall-clock second.
// What `wsload-report` and, later, distributed runs are built on.

#include <wsload/core/error.hpp>
#include <wsload/report/summary.hpp>
#include <wsload/report/thresholds.hpp>
#include <wsload/stats/run_info.hpp>
#include <wsload/stats/run_result.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace wsload::report {

/// A result file as the report code needs it.
struct loaded_result {
    stats::run_info config;
    stats::run_result result;
    std::vector<std::string> source_files;
};

namespace detail {

using boost::json::object;

[[noreturn]] inline void bad_file(const std::string& file, const std::string& why)
{
    throw usage_error(wsload::detail::quoted(file) + " is not a usable wsload result: " + why);
}

inline const object& child(const object& o, std::string_view key, const std::string& file)
{
    const auto* v = o.if_contains(key);
    if (!v || !v->is_object()) bad_file(file, "no \"" + std::string(key) + "\" object");
    return v->as_object();
}

inline std::uint64_t number(const object& o, std::string_view key, const std::string& file)
{
    const auto* v = o.if_contains(key);
    if (!v) bad_file(file, "no \"" + std::string(key) + "\"");
    try {
        return v->to_number<std::uint64_t>();
    } catch (const std::exception&) {
        bad_file(file, "\"" + std::string(key) + "\" is not a count");
    }
}

inline double real(const object& o, std::string_view key, const std::string& file)
{
    const auto* v = o.if_contains(key);
    if (!v) bad_file(file, "no \"" + std::string(key) + "\"");
    try {
        return v->to_number<double>();
    } catch (const std::exception&) {
        bad_file(file, "\"" + std::string(key) + "\" is not a number");
    }
}

inline stats::histogram::state histogram_state(const object& o, const std::string& file)
{
    stats::histogram::state s;
    s.digits = static_cast<int>(number(o, "digits", file));
    s.highest = number(o, "highest_ns", file);
    s.count = number(o, "count", file);
    s.clamped = number(o, "clamped", file);
    s.min = number(o, "min_ns", file);
    s.max = number(o, "max_ns", file);
    const auto limbs = [&](std::string_view key, auto& into) {
        const auto* a = o.if_contains(key);
        if (!a || !a->is_array() || a->as_array().size() != into.size()) bad_file(file, "bad \"" + std::string(key) + "\"");
        for (std::size_t i = 0; i < into.size(); ++i) {
            const auto* text = a->as_array()[i].if_string();
            if (!text) bad_file(file, "bad \"" + std::string(key) + "\"");
            auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), into[i]);
            if (ec != std::errc{} || end != text->data() + text->size()) bad_file(file, "bad \"" + std::string(key) + "\"");
        }
    };
    limbs("sum_limbs", s.sum);
    limbs("sum_squares_limbs", s.sum_squares);
    const auto* buckets = o.if_contains("buckets");
    if (!buckets || !buckets->is_array()) bad_file(file, "no \"buckets\"");
    for (const auto& b : buckets->as_array()) {
        const auto* pair = b.if_array();
        if (!pair || pair->size() != 2) bad_file(file, "a bucket is not [index, count]");
        s.buckets.emplace_back(static_cast<std::uint32_t>((*pair)[0].to_number<std::uint64_t>()),
                               (*pair)[1].to_number<std::uint64_t>());
    }
    return s;
}

template <std::size_t N>
void read_classes(const object& o, const std::array<std::string_view, N>& names, std::array<std::uint64_t, N>& into,
                  const std::string& file)
{
    // A class added after the file was written (message_too_big, say) is absent: none of it.
    for (std::size_t i = 0; i < N; ++i) into[i] = o.contains(names[i]) ? number(o, names[i], file) : 0;
}

template <std::size_t N>
void read_codes(const object& o, std::array<std::uint64_t, N>& into, const std::string& file)
{
    for (const auto& [key, value] : o) {
        std::size_t code = 0;
        auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), code);
        if (ec != std::errc{} || end != key.data() + key.size() || code >= N) bad_file(file, "bad code " + std::string(key));
        into[code] = value.template to_number<std::uint64_t>();
    }
}

inline std::chrono::nanoseconds seconds(double s)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

/// The figures write_totals wrote into `doc` (the top level, or an entry of "phases"), added
/// to `t`; returns "open_at_end".
inline std::uint64_t read_totals(const object& doc, stats::totals& t, const std::string& file)
{
    const auto& conns = child(doc, "connections", file);
    const auto open_at_end = number(conns, "open_at_end", file);
    read_classes(child(conns, "failures", file), stats::connect_failure_names, t.connect_failures, file);
    read_classes(child(conns, "disconnects", file), stats::disconnect_reason_names, t.disconnects, file);
    read_codes(child(conns, "http_statuses", file), t.http_statuses, file);
    read_codes(child(conns, "close_codes", file), t.close_codes, file);
    read_classes(child(doc, "counters", file), stats::counter_names, t.counters, file);
    // Absent from files written before requests were counted by class: their failed
    // requests are `other`, so that the classes still sum to requests_failed in any merge.
    if (doc.contains("request_totals")) {
        const auto& requests = child(doc, "request_totals", file);
        read_classes(child(requests, "failures", file), stats::request_failure_names, t.request_failures, file);
        read_codes(child(requests, "http_responses", file), t.http_responses, file);
    } else {
        t.request_failures[static_cast<std::size_t>(stats::request_failure::other)] =
            t[stats::counter_id::requests_failed];
    }
    const auto& histograms = child(doc, "histograms", file);
    for (std::size_t i = 0; i < stats::histogram_count; ++i)
        // A histogram added after the file was written (upload) is absent: none of it.
        if (histograms.contains(stats::histogram_names[i]))
            t.histograms[i].merge(histogram_state(child(histograms, stats::histogram_names[i], file), file));
    if (const auto* requests = doc.if_contains("requests")) {  // absent from files before 0.1.0's names
        if (!requests->is_array()) bad_file(file, "\"requests\" is not an array");
        for (const auto& x : requests->as_array()) {
            if (!x.is_object()) bad_file(file, "an entry of \"requests\" is not an object");
            const auto& o = x.as_object();
            const auto text = [&](std::string_view key) {
                const auto* v = o.if_contains(key);
                if (!v || !v->is_string()) bad_file(file, "a request without \"" + std::string(key) + "\"");
                return std::string(v->as_string());
            };
            auto& named = t.requests[stats::request_key{text("type"), text("name")}];
            named.sent += number(o, "sent", file);
            named.answered += number(o, "answered", file);
            named.timed_out += number(o, "timed_out", file);
            named.failed += number(o, "failed", file);
            if (o.contains("rejected")) named.rejected += number(o, "rejected", file);  // since issue 15
            named.round_trip.merge(histogram_state(child(o, "round_trip", file), file));
        }
    }
    // Counts by label, absent from files before issue 17.
    const auto labelled = [&](std::string_view key, stats::label_counts& into) {
        const auto* found = doc.if_contains(key);
        if (!found) return;
        if (!found->is_object()) bad_file(file, "\"" + std::string(key) + "\" is not an object");
        stats::label_counts read;
        for (const auto& [label, n] : found->as_object()) read[std::string(label)] = number(found->as_object(), label, file);
        stats::merge_labels(into, read);
    };
    labelled("pushes", t.pushes);
    labelled("reconnects", t.reconnects);
    return open_at_end;
}

}  // namespace detail

/// Reads one result document. Throws usage_error naming the file and what is wrong.
inline loaded_result load_result(const boost::json::object& doc, const std::string& file)
{
    using detail::child;
    using detail::number;
    const auto* schema = doc.if_contains("schema");
    if (!schema || !schema->is_string() || schema->as_string() != "wsload.result/1")
        detail::bad_file(file, "its schema is not wsload.result/1");
    loaded_result out;
    out.source_files.push_back(file);
    auto& c = out.config;
    auto& r = out.result;
    try {
        if (const auto* name = doc.if_contains("scenario"); name && name->is_string()) c.name = std::string(name->as_string());
        const auto& cfg = child(doc, "config", file);
        if (const auto* t = cfg.if_contains("target"); t && t->is_string()) c.target = std::string(t->as_string());
        c.users = number(cfg, "users", file);
        c.ramp = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(detail::real(cfg, "ramp_s", file)));
        if (const auto* l = cfg.if_contains("load"); l && l->is_string()) c.load = std::string(l->as_string());
        c.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(detail::real(cfg, "duration_s", file)));
        c.ping_interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(detail::real(cfg, "ping_interval_s", file)));
        if (cfg.contains("connect_timeout_s"))  // written since 0.1 (issue 15); older files keep the default
            c.connect_timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::duration<double>(detail::real(cfg, "connect_timeout_s", file)));
        if (cfg.contains("timer_slack_s"))  // written since issue 18's coalesced wake-ups; older files: none
            c.timer_slack = std::chrono::round<std::chrono::nanoseconds>(
                std::chrono::duration<double>(detail::real(cfg, "timer_slack_s", file)));
        c.threads = static_cast<unsigned>(number(cfg, "threads", file));
        c.seed = number(cfg, "seed", file);

        const auto& run = child(doc, "run", file);
        r.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(detail::real(run, "elapsed_s", file)));
        r.interrupted = run.at("interrupted").as_bool();
        if (const auto* e = run.if_contains("ended_early")) r.ended_early = e->as_bool();
        const auto& env = child(doc, "environment", file);
        r.started_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(number(env, "started_at_unix_ms", file)));

        r.totals = std::make_unique<stats::totals>();
        r.open_at_end = detail::read_totals(doc, *r.totals, file);
        if (const auto* errors = doc.if_contains("errors")) {  // absent from files before issue 18
            if (!errors->is_array()) detail::bad_file(file, "\"errors\" is not an array");
            stats::error_counts read;
            for (const auto& x : errors->as_array()) {
                const auto* o = x.if_object();
                const auto* message = o ? o->if_contains("message") : nullptr;
                if (!message || !message->is_string()) detail::bad_file(file, "an entry of \"errors\" without \"message\"");
                read[std::string(message->as_string())] += number(*o, "count", file);
            }
            stats::merge_errors(r.totals->errors, read);
        }
        if (const auto* phases = doc.if_contains("phases")) {  // absent from files before phases
            if (!phases->is_array()) detail::bad_file(file, "\"phases\" is not an array");
            for (const auto& x : phases->as_array()) {
                if (!x.is_object()) detail::bad_file(file, "an entry of \"phases\" is not an object");
                const auto& o = x.as_object();
                const auto* name = o.if_contains("name");
                if (!name || !name->is_string()) detail::bad_file(file, "a phase without \"name\"");
                auto& p = r.phases.emplace_back();
                p.name = std::string(name->as_string());
                p.start = detail::seconds(detail::real(o, "start_s", file));
                p.end = detail::seconds(detail::real(o, "end_s", file));
                p.users = number(o, "users", file);
                detail::read_totals(o, *p.totals, file);
            }
        }

        const auto& ts = child(doc, "timeseries", file);
        // Columns by name: a column added after the file was written (the generator's, issue
        // 18) is absent and reads as 0; one this reader does not know is skipped.
        const auto& columns = ts.at("columns").as_array();
        std::vector<std::size_t> slot(columns.size(), stats::second_columns.size());
        std::size_t known = 0;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const auto* name = columns[i].if_string();
            if (!name) detail::bad_file(file, "a time-series column is not a name");
            const auto it = std::find(stats::second_columns.begin(), stats::second_columns.end(), std::string_view(*name));
            if (it == stats::second_columns.end()) continue;
            slot[i] = static_cast<std::size_t>(it - stats::second_columns.begin());
            if (slot[i] < stats::original_second_columns) ++known;
        }
        if (known != stats::original_second_columns) detail::bad_file(file, "unexpected time-series columns");
        for (const auto& row : ts.at("rows").as_array()) {
            const auto& v = row.as_array();
            if (v.size() != columns.size()) detail::bad_file(file, "a time-series row has the wrong length");
            std::array<std::uint64_t, stats::second_columns.size()> x{};
            for (std::size_t i = 0; i < v.size(); ++i)
                if (slot[i] < x.size()) x[slot[i]] = v[i].to_number<std::uint64_t>();
            r.series.push_back(stats::from_values(x));
        }
        for (const auto& h : ts.at("round_trip_histograms").as_array())
            r.series_round_trips.push_back(detail::histogram_state(h.as_object(), file));
        if (r.series_round_trips.size() != r.series.size()) detail::bad_file(file, "time-series histograms do not match its rows");

        if (const auto* g = doc.if_contains("generator")) {  // absent from files before issue 18: none
            if (!g->is_object()) detail::bad_file(file, "\"generator\" is not an object");
            const auto* workers = g->as_object().if_contains("workers");
            if (!workers || !workers->is_array()) detail::bad_file(file, "\"generator\" without \"workers\"");
            for (const auto& x : workers->as_array()) {
                const auto* o = x.if_object();
                if (!o) detail::bad_file(file, "an entry of \"generator.workers\" is not an object");
                const auto count = [&](std::string_view key) { return number(*o, key, file); };
                auto& h = r.generator.emplace_back();
                h.worker = static_cast<unsigned>(count("worker"));
                h.cpu = std::chrono::nanoseconds(count("cpu_ns"));
                h.wall = std::chrono::nanoseconds(count("wall_ns"));
                h.peak_busy_pct = static_cast<unsigned>(count("peak_busy_pct"));
                h.seconds = static_cast<std::uint32_t>(count("seconds"));
                h.busy_seconds = static_cast<std::uint32_t>(count("busy_seconds"));
                h.lagging_seconds = static_cast<std::uint32_t>(count("lagging_seconds"));
                h.lag_p99_ns = count("lag_p99_ns");
                h.lag_max_ns = count("lag_max_ns");
                h.late_sends = count("late_sends");
                h.late_p99_ns = count("late_p99_ns");
            }
        }

        if (const auto* th = doc.if_contains("thresholds"))
            for (const auto& x : th->as_array()) c.thresholds.emplace_back(x.as_object().at("expression").as_string());
    } catch (const usage_error&) {
        throw;
    } catch (const std::exception& e) {
        detail::bad_file(file, e.what());
    }
    return out;
}

/// Reads a result file from disk.
inline loaded_result load_result_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in) throw usage_error("cannot read " + wsload::detail::quoted(path));
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto value = boost::json::parse(text.str(), ec);
    if (ec || !value.is_object()) detail::bad_file(path, "it is not JSON (" + ec.message() + ")");
    return load_result(value.as_object(), path);
}

namespace detail {

/// Adds `from`'s phases (of a run that started `offset` after the merged one) into `into`, by
/// name: figures add exactly, target users add, a phase spans from the earliest start to the
/// latest end. A phase of a name `into` lacks is appended as it is (files whose shapes differ
/// merge what matches and keep the rest).
inline void merge_phases(std::vector<stats::phase_result>& into, const std::vector<stats::phase_result>& from,
                         std::chrono::nanoseconds offset)
{
    for (const auto& p : from) {
        auto it = std::find_if(into.begin(), into.end(), [&](const stats::phase_result& q) { return q.name == p.name; });
        if (it == into.end()) {
            auto& added = into.emplace_back();
            added.name = p.name;
            added.start = p.start + offset;
            added.end = p.end + offset;
            added.users = p.users;
            added.totals->add(*p.totals);
            continue;
        }
        it->start = std::min(it->start, p.start + offset);
        it->end = std::max(it->end, p.end + offset);
        it->users += p.users;
        it->totals->add(*p.totals);
    }
}

}  // namespace detail

/// Merges results of runs that happened side by side (threads, processes, machines): counts
/// add, histograms merge exactly, time series rows of the same wall-clock second add up, phases
/// of the same name add up (detail::merge_phases), the generator's workers are listed one
/// after another (and the generator columns of a second take the worst: stats::add_counts), the
/// run spans from the earliest start to the latest end. Thresholds are those of the first.
inline loaded_result merge_results(std::vector<loaded_result> parts)
{
    if (parts.empty()) throw usage_error("nothing to merge");
    loaded_result out;
    out.config = parts.front().config;
    out.config.users = 0;
    out.config.threads = 0;
    // The users of the parts add up; their shapes are named, not summed.
    if (parts.size() > 1) {
        std::vector<std::string> shapes;
        for (const auto& p : parts) {
            const auto text = load_text(p.config);
            if (std::find(shapes.begin(), shapes.end(), text) == shapes.end()) shapes.push_back(text);
        }
        std::string joined;
        for (const auto& t : shapes) joined += (joined.empty() ? "" : "; ") + t;
        out.config.load = std::to_string(parts.size()) + " runs merged (" + (shapes.size() == 1 ? "each " : "") + joined + ")";
    }
    auto& r = out.result;
    r.totals = std::make_unique<stats::totals>();
    auto start = parts.front().result.started_at;
    auto end = start;
    for (const auto& p : parts) {
        start = std::min(start, p.result.started_at);
        end = std::max(end, p.result.started_at + std::chrono::duration_cast<std::chrono::system_clock::duration>(p.result.elapsed));
    }
    r.started_at = start;
    r.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start);

    // By t since `start`: each second's row and its round trips as a sparse state (a whole
    // histogram per second is ~270 KB: 1 GB for an hour's files). `scratch` merges them.
    std::map<std::uint32_t, std::pair<stats::second, stats::histogram::state>> seconds;
    stats::histogram scratch;
    const auto add_state = [&scratch](stats::histogram::state& into, const stats::histogram::state& from) {
        scratch.reset();
        scratch.merge(into);
        scratch.merge(from);
        into = scratch.export_state();
    };
    for (auto& p : parts) {
        out.config.users += p.config.users;
        out.config.threads += p.config.threads;
        out.source_files.insert(out.source_files.end(), p.source_files.begin(), p.source_files.end());
        r.totals->add(*p.result.totals);
        detail::merge_phases(r.phases, p.result.phases,
                     std::chrono::duration_cast<std::chrono::nanoseconds>(p.result.started_at - start));
        r.open_at_end += p.result.open_at_end;
        // Workers of different runs are different threads: listed one after another, numbered
        // on as the parts' threads add up.
        for (auto h : p.result.generator) {
            h.worker = static_cast<unsigned>(r.generator.size());
            r.generator.push_back(h);
        }
        r.interrupted = r.interrupted || p.result.interrupted;
        r.ended_early = r.ended_early || p.result.ended_early;
        const auto offset = static_cast<std::uint32_t>(
            std::chrono::round<std::chrono::seconds>(p.result.started_at - start).count());
        std::size_t i = 0;
        p.result.series_round_trips.for_each([&](const stats::histogram::state& state) {
            const auto& row = p.result.series.at(i++);
            auto& [merged, h] = seconds[row.t + offset];
            merged.t = row.t + offset;
            stats::add_counts(merged, row);
            add_state(h, state);
        });
    }
    for (auto& [t, entry] : seconds) {
        auto& [row, h] = entry;
        scratch.reset();
        scratch.merge(h);
        row.round_trips = scratch.count();
        row.round_trip_p50_ns = scratch.percentile(50);
        row.round_trip_p99_ns = scratch.percentile(99);
        r.series.push_back(row);
        r.series_round_trips.push_back(h);
    }
    return out;
}

}  // namespace wsload::report
