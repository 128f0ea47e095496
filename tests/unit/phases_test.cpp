#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Phases in the statistics: a histogram minus an earlier state of itself is what was recorded
// in between, exactly; readings at phase starts cut a run into phases that add up to its
// totals exactly; phases go through result files and merge by name; the reports show them.
#include <support/report_text.hpp>
#include <wsload/report/console.hpp>
#include <wsload/report/csv.hpp>
#include <wsload/report/html.hpp>
#include <wsload/report/json.hpp>
#include <wsload/report/result_file.hpp>
#include <wsload/runtime/run_config.hpp>
#include <wsload/stats/phases.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <random>

namespace report = wsload::report;
namespace stats = wsload::stats;
using namespace std::chrono_literals;

namespace {

void check_same_histogram(const stats::histogram& a, const stats::histogram& b)
{
    const auto x = a.export_state(), y = b.export_state();
    BOOST_TEST(x.count == y.count);
    BOOST_TEST(x.clamped == y.clamped);
    BOOST_TEST(x.sum == y.sum);
    BOOST_TEST(x.sum_squares == y.sum_squares);
    BOOST_TEST((x.buckets == y.buckets));
}

/// Everything a shard counts in one phase of the made-up run below, recorded into `into`.
void record_phase_events(stats::shard& into, int phase, std::mt19937_64& rng)
{
    std::lognormal_distribution<double> latency(13.0 + phase, 1.0);
    const int users = 10 * (phase + 1);
    for (int u = 0; u < users; ++u) {
        into[stats::counter_id::users_started].add();
        into[stats::counter_id::connect_attempts].add();
        if (u % 9 == 4) {
            into.count_failure(stats::connect_failure::http_status, 503);
            continue;
        }
        into[stats::counter_id::connect_successes].add();
        into[stats::counter_id::active_connections].add();
        into[stats::histogram_id::connect].record(static_cast<std::uint64_t>(latency(rng)) / 3);
        for (int m = 0; m < 20; ++m) {
            const auto v = static_cast<std::uint64_t>(latency(rng));
            into[stats::counter_id::messages_sent].add();
            into[stats::counter_id::requests_sent].add();
            auto& named = into.requests.find("WS", m % 4 == 0 ? "login" : (phase == 2 ? "late name" : "send"));
            named.sent.add();
            if (m == 7 && u % 3 == 0) {
                into[stats::counter_id::requests_timed_out].add();
                named.timed_out.add();
                continue;
            }
            into[stats::counter_id::messages_received].add();
            into[stats::counter_id::requests_answered].add();
            into[stats::histogram_id::round_trip].record(v);
            named.answered.add();
            named.round_trip.record(v);
        }
        if (u % 5 == 0) {  // some leave within the phase
            into[stats::counter_id::active_connections].sub();
            into.count_disconnect(stats::disconnect_reason::server_close, 4000 + static_cast<unsigned>(phase));
        }
    }
}

const std::vector<stats::phase_mark> three_levels{{"level 10", 0s, 10}, {"level 20", 2s, 20}, {"level 30", 4s, 30}};

/// A run of three phases on one shard, read at each phase start as the engine does, and the
/// same events recorded into one shard per phase.
struct phased_run {
    stats::shard run;
    std::array<stats::shard, 3> alone;
    std::vector<std::unique_ptr<stats::totals>> starts;

    phased_run()
    {
        std::mt19937_64 a(7), b(7);
        for (int k = 0; k < 3; ++k) {
            if (k > 0) starts.push_back(stats::collect<stats::totals>(std::vector<const stats::shard*>{&run}));
            record_phase_events(run, k, a);
            record_phase_events(alone[k], k, b);
        }
    }
};

stats::run_result phased_result(std::chrono::system_clock::time_point started_at, std::uint64_t seed_users = 0)
{
    phased_run p;
    stats::run_result r;
    r.totals = stats::collect<stats::totals>(std::vector<const stats::shard*>{&p.run});
    r.elapsed = 6s;
    r.started_at = started_at;
    auto marks = three_levels;
    for (auto& m : marks) m.users += seed_users;
    r.phases = stats::cut_phases(marks, std::move(p.starts), *r.totals, r.elapsed);
    return r;
}

wsload::run_config phases_config()
{
    wsload::run_config c;
    c.name = "phases-test";
    c.target = wsload::net::parse_url("ws://127.0.0.1:9000/ws");
    c.users = 30;
    c.threads = 1;
    return c;
}

report::loaded_result through_file(const stats::run_result& r, const std::string& name)
{
    return wsload::test::through_result_text(wsload::describe(phases_config()), r, name);
}

std::string printed(const stats::run_result& r)
{
    return wsload::test::report_text(wsload::describe(phases_config()), r);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(histogram_difference)

BOOST_AUTO_TEST_CASE(a_histogram_minus_an_earlier_state_is_what_was_recorded_since)
{
    std::mt19937_64 rng(3);
    std::lognormal_distribution<double> latency(14.0, 1.5);
    stats::histogram h, since;
    for (int i = 0; i < 20'000; ++i) h.record(static_cast<std::uint64_t>(latency(rng)));
    const stats::histogram earlier = h;
    for (int i = 0; i < 30'000; ++i) {
        const auto v = static_cast<std::uint64_t>(latency(rng));
        h.record(v);
        since.record(v);
    }
    h.record(5'000'000'000'000, 2);  // clamped, above the highest trackable: an hour and more
    since.record(5'000'000'000'000, 2);
    h.subtract(earlier);
    check_same_histogram(h, since);
    BOOST_TEST(h.mean() == since.mean());
    BOOST_TEST(h.stddev() == since.stddev());
    BOOST_TEST(h.max() == since.max());  // the overall max came since: exact
    // The min is the lowest value of its bucket: at most the true min, within 10^-3 of it.
    BOOST_TEST(h.min() <= since.min());
    BOOST_TEST(static_cast<double>(since.min() - h.min()) <= static_cast<double>(since.min()) * 1e-3);
    for (double p = 1; p < 100; p += 1) BOOST_REQUIRE(h.percentile(p) == since.percentile(p));
}

BOOST_AUTO_TEST_CASE(in_the_exact_range_and_with_new_extremes_min_and_max_are_exact)
{
    stats::histogram h, since;
    for (std::uint64_t v : {500, 900, 1200}) h.record(v);
    const stats::histogram earlier = h;
    for (std::uint64_t v : {700, 800, 1500}) {
        h.record(v);
        since.record(v);
    }
    h.subtract(earlier);
    check_same_histogram(h, since);
    BOOST_TEST(h.min() == 700u);   // exact below 2048 ns at 3 digits: one value per bucket
    BOOST_TEST(h.max() == 1500u);  // above the earlier max: recorded since
    for (double p = 0; p <= 100; p += 5) BOOST_REQUIRE(h.percentile(p) == since.percentile(p));

    stats::histogram g;
    g.record(10);
    const stats::histogram g_earlier = g;
    g.subtract(g_earlier);  // nothing since
    BOOST_TEST(g.empty());
    BOOST_TEST(g.min() == 0u);
    BOOST_TEST(g.max() == 0u);
}

BOOST_AUTO_TEST_CASE(subtracting_what_is_not_an_earlier_state_throws)
{
    stats::histogram h, other, coarse(2);
    h.record(100);
    other.record(200);
    BOOST_CHECK_THROW(h.subtract(other), std::invalid_argument);
    BOOST_CHECK_THROW(h.subtract(coarse), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(run_phases)

BOOST_AUTO_TEST_CASE(phases_are_the_differences_of_readings_and_add_up_to_the_totals_exactly)
{
    phased_run p;
    const auto end = stats::collect<stats::totals>(std::vector<const stats::shard*>{&p.run});
    // The gauge at each phase's end, before the readings are consumed.
    const auto open_after_first = (*p.starts[0])[stats::counter_id::active_connections];
    const auto phases = stats::cut_phases(three_levels, std::move(p.starts), *end, 6500ms);
    BOOST_REQUIRE(phases.size() == 3u);
    BOOST_TEST(phases[0].name == "level 10");
    BOOST_TEST(phases[1].users == 20u);
    BOOST_TEST((phases[0].start == 0s && phases[0].end == 2s));
    BOOST_TEST((phases[1].start == 2s && phases[1].end == 4s));
    BOOST_TEST((phases[2].start == 4s && phases[2].end == 6500ms));
    BOOST_TEST((*phases[0].totals)[stats::counter_id::active_connections] == open_after_first);

    stats::totals sum;
    for (std::size_t k = 0; k < 3; ++k) {
        const auto& t = *phases[k].totals;
        const auto alone = stats::collect<stats::totals>(std::vector<const stats::shard*>{&p.alone[k]});
        for (std::size_t i = 0; i < stats::counter_count; ++i)
            if (i != static_cast<std::size_t>(stats::counter_id::active_connections))
                BOOST_TEST(t.counters[i] == alone->counters[i], stats::counter_names[i] << " in phase " << k);
        BOOST_TEST(t.connect_failures == alone->connect_failures);
        BOOST_TEST(t.http_statuses == alone->http_statuses);
        BOOST_TEST(t.disconnects == alone->disconnects);
        BOOST_TEST(t.close_codes == alone->close_codes);
        for (std::size_t i = 0; i < stats::histogram_count; ++i) check_same_histogram(t.histograms[i], alone->histograms[i]);
        BOOST_REQUIRE(t.requests.size() == alone->requests.size());  // "late name" only in the last
        for (const auto& [key, named] : alone->requests) {
            const auto it = t.requests.find(key);
            BOOST_REQUIRE(it != t.requests.end());
            BOOST_TEST(it->second.sent == named.sent);
            BOOST_TEST(it->second.answered == named.answered);
            BOOST_TEST(it->second.timed_out == named.timed_out);
            check_same_histogram(it->second.round_trip, named.round_trip);
        }
        sum.add(t);
    }
    for (std::size_t i = 0; i < stats::counter_count; ++i)
        if (i != static_cast<std::size_t>(stats::counter_id::active_connections))
            BOOST_TEST(sum.counters[i] == end->counters[i], stats::counter_names[i]);
    BOOST_TEST(sum.connect_failures == end->connect_failures);
    BOOST_TEST(sum.disconnects == end->disconnects);
    BOOST_TEST(sum.close_codes == end->close_codes);
    for (std::size_t i = 0; i < stats::histogram_count; ++i) check_same_histogram(sum.histograms[i], end->histograms[i]);
    BOOST_REQUIRE(sum.requests.size() == end->requests.size());
    for (const auto& [key, named] : end->requests) {
        BOOST_TEST(sum.requests.at(key).sent == named.sent);
        check_same_histogram(sum.requests.at(key).round_trip, named.round_trip);
    }
}

BOOST_AUTO_TEST_CASE(a_run_that_ends_early_closes_its_phase_at_the_end_and_drops_the_rest)
{
    phased_run p;
    const auto end = stats::collect<stats::totals>(std::vector<const stats::shard*>{&p.run});
    p.starts.pop_back();  // the third phase was never read: the run ended during the second
    const auto phases = stats::cut_phases(three_levels, std::move(p.starts), *end, 3s);
    BOOST_REQUIRE(phases.size() == 2u);
    BOOST_TEST((phases[1].end == 3s));
    // The second holds everything after the first: the events of both later parts.
    BOOST_TEST((*phases[0].totals)[stats::counter_id::users_started] + (*phases[1].totals)[stats::counter_id::users_started] ==
               (*end)[stats::counter_id::users_started]);
    BOOST_TEST((*phases[1].totals)[stats::counter_id::users_started] == 50u);
    BOOST_TEST(stats::cut_phases({}, {}, *end, 3s).empty());  // a shape without phases
}

BOOST_AUTO_TEST_CASE(phases_go_through_a_result_file_and_old_files_load_without_them)
{
    const auto r = phased_result(std::chrono::system_clock::time_point(1'700'000'000s));
    const auto back = through_file(r, "phases.json");
    BOOST_REQUIRE(back.result.phases.size() == 3u);
    for (std::size_t k = 0; k < 3; ++k) {
        const auto &a = back.result.phases[k], &b = r.phases[k];
        BOOST_TEST(a.name == b.name);
        BOOST_TEST(a.users == b.users);
        BOOST_TEST((a.start == b.start && a.end == b.end));
        BOOST_TEST(a.totals->counters == b.totals->counters);
        BOOST_TEST(a.totals->connect_failures == b.totals->connect_failures);
        BOOST_TEST(a.totals->close_codes == b.totals->close_codes);
        for (std::size_t i = 0; i < stats::histogram_count; ++i)
            check_same_histogram(a.totals->histograms[i], b.totals->histograms[i]);
        BOOST_TEST(a.totals->requests.size() == b.totals->requests.size());
    }

    auto doc = report::result_document(wsload::describe(phases_config()), r, report::judge(r, {}));
    BOOST_TEST(doc.at("phases").as_array().size() == 3u);
    BOOST_TEST(doc.at("phases").as_array()[1].as_object().at("counters").as_object().at("users_started").as_uint64() ==
               20u);
    doc.erase("phases");  // as written before phases
    const auto old = report::load_result(boost::json::parse(boost::json::serialize(doc)).as_object(), "old.json");
    BOOST_TEST(old.result.phases.empty());
    BOOST_TEST(old.result.totals->counters == r.totals->counters);
}

BOOST_AUTO_TEST_CASE(merging_adds_phases_of_the_same_name_and_keeps_the_others_as_they_are)
{
    const auto start = std::chrono::system_clock::time_point(1'700'000'000s);
    auto first = phased_result(start);
    auto second = phased_result(start + 1s, 5);
    // The second run had a fourth level the first did not.
    auto& extra = second.phases.emplace_back();
    extra.name = "level 40";
    extra.start = 6s;
    extra.end = 8s;
    extra.users = 40;
    extra.totals->add(*second.phases[0].totals);
    std::vector<report::loaded_result> parts;
    parts.push_back(through_file(first, "a.json"));
    parts.push_back(through_file(second, "b.json"));
    const auto merged = report::merge_results(std::move(parts));
    const auto& phases = merged.result.phases;
    BOOST_REQUIRE(phases.size() == 4u);
    for (std::size_t k = 0; k < 3; ++k) {
        BOOST_TEST(phases[k].name == first.phases[k].name);
        BOOST_TEST(phases[k].users == first.phases[k].users + second.phases[k].users);
        stats::totals both;
        both.add(*first.phases[k].totals);
        both.add(*second.phases[k].totals);
        BOOST_TEST(phases[k].totals->counters == both.counters);
        for (std::size_t i = 0; i < stats::histogram_count; ++i)
            check_same_histogram(phases[k].totals->histograms[i], both.histograms[i]);
        BOOST_TEST((phases[k].start == first.phases[k].start));  // the first started first
        BOOST_TEST((phases[k].end == second.phases[k].end + 1s));  // the second ended 1 s later
    }
    BOOST_TEST(phases[3].name == "level 40");
    BOOST_TEST(phases[3].users == 40u);
    BOOST_TEST((phases[3].start == 7s));  // its run started 1 s after the merged one
    BOOST_TEST(phases[3].totals->counters == second.phases[0].totals->counters);
}

BOOST_AUTO_TEST_CASE(the_reports_show_a_row_per_phase_and_compare_levels)
{
    const auto r = phased_result(std::chrono::system_clock::time_point(1'700'000'000s));
    const auto rows = report::phase_table(r);
    BOOST_REQUIRE(rows.size() == 3u);
    BOOST_TEST(rows[1].users_started == 20u);
    BOOST_TEST(rows[1].duration_s == 2.0);
    BOOST_TEST(rows[2].requests_per_s == static_cast<double>(rows[2].requests_answered) / 2.0);
    BOOST_TEST(report::phases_are_levels(r));

    const auto text = printed(r);
    BOOST_TEST(text.find("--- Phases ---") != std::string::npos);
    BOOST_TEST(text.find("--- Levels compared (seed 001) ---") != std::string::npos);
    BOOST_TEST(text.find("level 20") != std::string::npos);

    const auto csv = report::detail::phases_csv(r);
    BOOST_TEST(std::count(csv.begin(), csv.end(), '\n') == 4);  // the header and three rows
    BOOST_TEST(csv.find("\r\nlevel 10,10,0.000,2.000,10,") != std::string::npos);

    const auto html = report::html_report(wsload::describe(phases_config()), r, report::judge(r, {}));
    BOOST_TEST(html.find("id=\"table-phases\"") != std::string::npos);
    BOOST_TEST(html.find("id=\"table-levels\"") != std::string::npos);

    stats::run_result stages;  // stages are phases, but not levels: no comparison
    stages.totals = std::make_unique<stats::totals>();
    stages.phases.emplace_back().name = "stage 1";
    BOOST_TEST(!report::phases_are_levels(stages));
    BOOST_TEST(printed(stages).find("Levels compared") == std::string::npos);
    stats::run_result none;
    none.totals = std::make_unique<stats::totals>();
    BOOST_TEST(printed(none).find("--- Phases ---") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
