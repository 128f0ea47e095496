#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Pieces of the runtime with no network: per-user randomness, the failure
// taxonomy, the exact merging of per-thread statistics, the per-thread deadline queue and the
// per-thread sleep queue (coalesced wake-ups).
#include <wsload/core/random.hpp>
#include <wsload/net/connect.hpp>
#include <wsload/net/deadline_queue.hpp>
#include <wsload/net/detail/parked.hpp>
#include <wsload/net/sleep_queue.hpp>
#include <wsload/stats/metrics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <set>
#include <vector>

using namespace std::chrono_literals;
namespace stats = wsload::stats;

BOOST_AUTO_TEST_SUITE(per_user_random)

BOOST_AUTO_TEST_CASE(same_seed_same_sequence_different_seed_different)
{
    wsload::random_generator a(7), b(7), c(8);
    for (int i = 0; i < 100; ++i) {
        const auto x = a();
        BOOST_REQUIRE(x == b());
        BOOST_REQUIRE(x != c());
    }
}

BOOST_AUTO_TEST_CASE(phase_is_inside_the_period_and_covers_it)
{
    wsload::random_generator r(1);
    std::set<std::int64_t> tenths;
    for (int i = 0; i < 10'000; ++i) {
        const auto p = r.phase(std::chrono::nanoseconds(1s));
        BOOST_REQUIRE(p.count() >= 0);
        BOOST_REQUIRE(p < 1s);
        tenths.insert(p.count() / 100'000'000);
    }
    BOOST_TEST(tenths.size() == 10u);
    BOOST_TEST(r.phase(std::chrono::nanoseconds(0)).count() == 0);
    for (int i = 0; i < 1000; ++i) BOOST_REQUIRE(r.below(3) < 3u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(failure_taxonomy)

BOOST_AUTO_TEST_CASE(connect_errors_land_in_one_class_each)
{
    using wsload::net::classify_connect_error;
    using wsload::net::connect_phase;
    namespace error = boost::asio::error;
    using F = stats::connect_failure;
    BOOST_TEST((classify_connect_error(connect_phase::tcp, error::connection_refused, false, false) == F::refused));
    BOOST_TEST((classify_connect_error(connect_phase::tcp, error::connection_refused, true, false) == F::timeout));
    BOOST_TEST((classify_connect_error(connect_phase::tcp, error::operation_aborted, false, true) == F::aborted));
    BOOST_TEST((classify_connect_error(connect_phase::tcp, error::timed_out, false, false) == F::timeout));
    BOOST_TEST((classify_connect_error(connect_phase::tcp, error::no_descriptors, false, false) == F::local_limit));
    BOOST_TEST((classify_connect_error(connect_phase::resolve, error::host_not_found, false, false) == F::dns));
    // A FIN during the TLS handshake is no reply at all (reset), as during the upgrade; a reply
    // that is not TLS, or a certificate refused, is a TLS failure.
    BOOST_TEST((classify_connect_error(connect_phase::tls, error::eof, false, false) == F::reset));
    BOOST_TEST((classify_connect_error(connect_phase::tls, boost::asio::ssl::error::stream_truncated, false, false) ==
                F::reset));
    BOOST_TEST((classify_connect_error(connect_phase::tls,
                                       boost::system::error_code(0x0A00010B, boost::asio::error::get_ssl_category()), false,
                                       false) == F::tls));
    BOOST_TEST((classify_connect_error(connect_phase::upgrade, error::connection_reset, false, false) == F::reset));
    BOOST_TEST((classify_connect_error(connect_phase::upgrade, error::eof, false, false) == F::reset));
    BOOST_TEST((classify_connect_error(connect_phase::upgrade, boost::beast::http::error::end_of_stream, false, false) ==
                F::reset));
    BOOST_TEST((classify_connect_error(connect_phase::upgrade, boost::beast::http::error::bad_version, false, false) ==
                F::handshake));
}

BOOST_AUTO_TEST_CASE(close_codes_map_to_reasons)
{
    using R = stats::disconnect_reason;
    BOOST_TEST((stats::reason_for_close_code(1000) == R::normal));
    BOOST_TEST((stats::reason_for_close_code(1001) == R::going_away));
    BOOST_TEST((stats::reason_for_close_code(1002) == R::protocol_error));
    BOOST_TEST((stats::reason_for_close_code(1011) == R::server_close));
    BOOST_TEST((stats::reason_for_close_code(4000) == R::server_close));
}

BOOST_AUTO_TEST_CASE(names_cover_every_class)
{
    for (auto n : stats::connect_failure_names) BOOST_TEST(!n.empty());
    for (auto n : stats::disconnect_reason_names) BOOST_TEST(!n.empty());
    for (auto n : stats::counter_names) BOOST_TEST(!n.empty());
    for (auto n : stats::histogram_names) BOOST_TEST(!n.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(statistics_merge)

BOOST_AUTO_TEST_CASE(shards_merge_exactly)
{
    auto a = std::make_unique<stats::shard>();
    auto b = std::make_unique<stats::shard>();
    (*a)[stats::counter_id::connect_attempts].add(3);
    (*b)[stats::counter_id::connect_attempts].add(4);
    a->count_failure(stats::connect_failure::http_status, 503);
    b->count_failure(stats::connect_failure::http_status, 503);
    b->count_failure(stats::connect_failure::http_status, 403);
    a->count_disconnect(stats::disconnect_reason::server_close, 1011);
    b->count_disconnect(stats::disconnect_reason::network);
    for (std::uint64_t v = 1; v <= 1000; ++v) ((v % 2) ? *a : *b)[stats::histogram_id::round_trip].record(v * 1000);

    const stats::shard* shards[] = {a.get(), b.get()};
    auto t = stats::collect<stats::totals>(shards);
    BOOST_TEST((*t)[stats::counter_id::connect_attempts] == 7u);
    BOOST_TEST(t->failed(stats::connect_failure::http_status) == 3u);
    BOOST_TEST(t->http_statuses[503] == 2u);
    BOOST_TEST(t->http_statuses[403] == 1u);
    BOOST_TEST(t->failures() == 3u);
    BOOST_TEST(t->close_codes[1011] == 1u);
    BOOST_TEST(t->disconnect_total() == 2u);
    const auto& h = (*t)[stats::histogram_id::round_trip];
    BOOST_TEST(h.count() == 1000u);
    BOOST_TEST(h.min() == 1000u);
    BOOST_TEST(h.max() == 1'000'000u);

    auto counters_only = stats::collect<stats::counter_totals>(shards);
    BOOST_TEST((*counters_only)[stats::counter_id::connect_attempts] == 7u);
    BOOST_TEST(counters_only->http_statuses[503] == 2u);

    stats::totals twice;
    twice.add(*t);
    twice.add(*t);
    BOOST_TEST(twice[stats::counter_id::connect_attempts] == 14u);
    BOOST_TEST(twice[stats::histogram_id::round_trip].count() == 2000u);
    BOOST_TEST(twice[stats::histogram_id::round_trip].percentile(50) == h.percentile(50));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deadline_queue)

namespace {
// An entry that records when and in what order it expired.
struct probe : wsload::net::deadline_entry {
    explicit probe(int id_, std::vector<int>& order_) : deadline_entry(&expired), id(id_), order(&order_) {}
    static void expired(deadline_entry& e) noexcept
    {
        auto& p = static_cast<probe&>(e);
        p.fired_at = wsload::clock::now();
        p.order->push_back(p.id);
    }
    int id;
    std::vector<int>* order;
    wsload::clock::time_point fired_at{};
};
}  // namespace

BOOST_AUTO_TEST_CASE(entries_expire_at_their_deadline_in_deadline_order_across_durations)
{
    boost::asio::io_context ctx(1);
    wsload::net::deadline_queue q;
    q.start(ctx.get_executor());
    std::vector<int> order;
    const auto t0 = wsload::clock::now();
    // Three durations; within one, deadlines out of order (an intended send time in the past).
    std::vector<std::unique_ptr<probe>> probes;
    const std::pair<int, std::chrono::milliseconds> plan[] = {{1, 60ms}, {2, 20ms}, {3, 40ms}, {4, 10ms}, {5, 30ms}};
    for (auto [id, d] : plan) {
        probes.push_back(std::make_unique<probe>(id, order));
        const auto timeout = id % 2 ? 50ms : 20ms;  // 1, 3, 5 share a list, 2 and 4 another
        q.add(*probes.back(), t0 + d, timeout);
    }
    // A third list, left before its deadline: never expires.
    probe gone(6, order);
    q.add(gone, t0 + 5ms, 5ms);
    BOOST_TEST(q.size() == 6u);
    gone.leave_queue();
    BOOST_TEST(!gone.scheduled());
    ctx.run();  // returns once everything expired: the timer is not re-armed for nothing
    BOOST_TEST(order == (std::vector<int>{4, 2, 5, 3, 1}), boost::test_tools::per_element());
    for (const auto& p : probes) {
        BOOST_TEST(!p->scheduled());
        BOOST_TEST((p->fired_at >= p->deadline()));  // never early
    }
    BOOST_TEST(q.size() == 0u);
}

BOOST_AUTO_TEST_CASE(how_late_its_timer_fired_is_recorded_as_event_loop_lag)
{
    boost::asio::io_context ctx(1);
    wsload::net::deadline_queue q;
    wsload::stats::shard lag;
    q.start(ctx.get_executor(), &lag);
    std::vector<int> order;
    probe p(1, order);
    const auto due = wsload::clock::now() + 1ms;
    q.add(p, due, 1ms);
    // The loop is held up past the deadline by 20 ms of work before it runs the timer.
    while (wsload::clock::now() < due + 20ms) {
    }
    ctx.run();
    BOOST_TEST(order == std::vector<int>{1});
    const auto& h = lag[wsload::stats::histogram_id::event_loop_lag];
    BOOST_TEST(h.count() == 1u);
    BOOST_TEST(h.min() >= 20'000'000u);
    BOOST_TEST((std::chrono::nanoseconds(h.min()) <= p.fired_at - due));  // measured before the expiry ran
    BOOST_TEST(lag.lag_max_this_second == h.max());
}

BOOST_AUTO_TEST_CASE(an_entry_destroyed_while_waiting_leaves_and_a_cancelled_queue_lets_run_return)
{
    boost::asio::io_context ctx(1);
    wsload::net::deadline_queue q;
    q.start(ctx.get_executor());
    std::vector<int> order;
    {
        probe short_lived(1, order);
        q.add(short_lived, wsload::clock::now() + 10ms, 10ms);
    }  // its frame went: it must not be reached
    BOOST_TEST(q.size() == 0u);
    probe far(2, order);
    q.add(far, wsload::clock::now() + 1h, 1h);
    q.cancel();
    const auto before = wsload::clock::now();
    ctx.run();  // the 1 h wait was cancelled: nothing keeps the context busy
    BOOST_TEST((wsload::clock::now() - before < 1s));
    BOOST_TEST(order.empty());
    BOOST_TEST(far.scheduled());
    q.shutdown();  // what still waits expires, so its waiter's completion is queued and freed
    BOOST_TEST(order == std::vector<int>{2});
    BOOST_TEST(!far.scheduled());
}

BOOST_AUTO_TEST_CASE(an_earlier_deadline_re_arms_the_timer_and_a_huge_one_never_fires)
{
    boost::asio::io_context ctx(1);
    wsload::net::deadline_queue q;
    q.start(ctx.get_executor());
    std::vector<int> order;
    probe never(1, order), soon(2, order);
    const auto t0 = wsload::clock::now();
    q.add(never, wsload::clock::time_point::max(), wsload::clock::duration::max());
    q.add(soon, t0 + 5ms, 5ms);
    ctx.run_for(200ms);
    BOOST_TEST(order == std::vector<int>{2});
    BOOST_TEST(never.scheduled());
    q.shutdown();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sleep_queue)

namespace {
// A sleeper: sleeps until `due` on `q`, then records when it woke and in what order.
struct sleeper {
    sleeper(int id_, wsload::clock::time_point due_) : id(id_), due(due_) {}
    int id;
    wsload::clock::time_point due;
    wsload::clock::time_point woke{};
    wsload::net::sleep_entry entry;
};

wsload::task<> sleep_in(wsload::net::sleep_queue& q, sleeper& s, std::vector<int>& order)
{
    co_await q.sleep(s.entry, s.due);
    s.woke = wsload::clock::now();
    order.push_back(s.id);
}
}  // namespace

BOOST_AUTO_TEST_CASE(sleeps_end_on_the_slack_grid_never_early_in_due_order_and_share_wake_ups)
{
    boost::asio::io_context ctx(1);
    wsload::net::sleep_queue q;
    wsload::stats::shard lag;  // one lag sample per expiry of the queue's timer
    q.start(ctx.get_executor(), &lag);
    q.set_slack(1ms);
    // 60 sleeps spread over 3 ms (one every 50 us, added out of order): they span at most four
    // 1 ms cells of the grid, so the timer fires at most four times, however fast the loop is.
    const auto t0 = q.on_grid(wsload::clock::now() + 100ms);  // every sleep starts before it
    std::vector<std::unique_ptr<sleeper>> sleepers;
    std::vector<int> order;
    for (int i = 0; i < 60; ++i) {
        const int k = (i * 37) % 60;  // a permutation of 0..59
        sleepers.push_back(std::make_unique<sleeper>(k, t0 + k * 50us));
        boost::asio::co_spawn(ctx, sleep_in(q, *sleepers.back(), order), boost::asio::detached);
    }
    ctx.run();
    BOOST_REQUIRE(order.size() == 60u);
    for (int i = 0; i < 60; ++i) BOOST_TEST(order[i] == i);  // each expiry wakes its sleeps in due order
    for (const auto& s : sleepers) {
        // Never early. (Not necessarily at its own grid point: a loop that wakes late for
        // an earlier point takes every sleep due by then.)
        BOOST_TEST((s->woke >= s->due));
        BOOST_TEST(!s->entry.asleep());
    }
    // Each expiry records its lateness (one that fired on time to the nanosecond would not).
    BOOST_TEST(lag[wsload::stats::histogram_id::event_loop_lag].count() <= 4u);
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST((q.on_grid(t0 + 1ns) == t0 + 1ms));
    BOOST_TEST((q.on_grid(t0) == t0));
}

BOOST_AUTO_TEST_CASE(wake_ends_a_sleep_now_a_destroyed_entry_leaves_and_shutdown_resumes_the_rest)
{
    boost::asio::io_context ctx(1);
    wsload::net::sleep_queue q;
    q.start(ctx.get_executor());
    q.set_slack(500us);
    std::vector<int> order;
    const auto t0 = wsload::clock::now();
    sleeper woken{1, t0 + 1h}, endless{2, wsload::clock::time_point::max()}, soon{3, t0 + 5ms};
    boost::asio::co_spawn(ctx, sleep_in(q, woken, order), boost::asio::detached);
    boost::asio::co_spawn(ctx, sleep_in(q, endless, order), boost::asio::detached);
    boost::asio::co_spawn(ctx, sleep_in(q, soon, order), boost::asio::detached);
    ctx.poll();  // all three asleep
    BOOST_TEST(q.size() == 3u);
    q.wake(woken.entry);  // a stop: at once, not in an hour
    q.wake(woken.entry);  // twice: nothing more
    ctx.run_for(200ms);
    BOOST_TEST(order == (std::vector<int>{1, 3}), boost::test_tools::per_element());
    BOOST_TEST((woken.woke - t0 < 1s));
    BOOST_TEST(endless.entry.asleep());  // no end: only wake() or shutdown ends it
    {
        wsload::net::sleep_entry gone;
        auto* frame_less = &gone;  // an entry destroyed while asleep (its user went) leaves the queue
        boost::asio::co_spawn(ctx, [&q, frame_less]() -> wsload::task<> { co_await q.sleep(*frame_less, wsload::clock::now() + 1h); },
                              boost::asio::detached);
        ctx.poll();
        BOOST_TEST(q.size() == 2u);
    }
    BOOST_TEST(q.size() == 1u);
    q.shutdown();  // what still sleeps is resumed (posted), so that its frame is freed
    ctx.restart();
    ctx.poll();
    BOOST_TEST(order == (std::vector<int>{1, 3, 2}), boost::test_tools::per_element());
    BOOST_TEST(q.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_sleep_already_due_ends_on_the_next_turn_and_slack_zero_is_exact)
{
    boost::asio::io_context ctx(1);
    wsload::net::sleep_queue q;
    q.start(ctx.get_executor());
    BOOST_TEST((q.slack() == wsload::clock::duration::zero()));
    const auto t = wsload::clock::now() + 3ms + 123ns;
    BOOST_TEST((q.on_grid(t) == t));
    std::vector<int> order;
    sleeper past{1, wsload::clock::now() - 1s}, exact{2, t};
    boost::asio::co_spawn(ctx, sleep_in(q, past, order), boost::asio::detached);
    boost::asio::co_spawn(ctx, sleep_in(q, exact, order), boost::asio::detached);
    ctx.run();
    BOOST_TEST(order == (std::vector<int>{1, 2}), boost::test_tools::per_element());
    BOOST_TEST((exact.woke >= t));
    q.set_slack(-5ms);  // a negative slack is none
    BOOST_TEST((q.slack() == wsload::clock::duration::zero()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(resume_batch)

namespace {
void never_expires(wsload::net::deadline_entry&) noexcept {}

// A coroutine parked as a request is: its completion handler in `w`, resumed by w.resume().
wsload::task<> park_in(wsload::net::detail::parked_wait& w, int id, std::vector<int>& order)
{
    co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<wsload::executor>&, void()>(
        [](wsload::net::detail::resume_handler h, wsload::net::detail::parked_wait* w) { w->handler.emplace(std::move(h)); },
        wsload::use_awaitable, &w);
    order.push_back(id);
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_readers_resumes_run_inline_at_its_end_in_order_and_each_once)
{
    using wsload::net::detail::parked_wait;
    using wsload::net::detail::resume_batch;
    boost::asio::io_context ctx(1);
    std::vector<std::unique_ptr<parked_wait>> waits;
    std::vector<int> order;
    for (int i = 0; i < 14; ++i) {
        waits.push_back(std::make_unique<parked_wait>(&never_expires));
        boost::asio::co_spawn(ctx, park_in(*waits.back(), i, order), boost::asio::detached);
    }
    ctx.poll();  // all parked
    BOOST_REQUIRE(order.empty());

    // Outside a reader's batch: posted, as before.
    waits[0]->resume();
    BOOST_TEST(order.empty());
    ctx.poll();
    BOOST_TEST(order == (std::vector<int>{0}), boost::test_tools::per_element());

    // Inside one (a reader's handler): held until run(), then inline, in the order resumed;
    // a second resume of the same wait does nothing.
    std::vector<int> seen_at_run_end;
    boost::asio::post(ctx, [&] {
        resume_batch batch;
        waits[3]->resume();
        waits[1]->resume();
        waits[1]->resume();
        waits[2]->resume();
        BOOST_TEST(order.size() == 1u);  // nothing yet: the reader is still at work
        batch.run();
        seen_at_run_end = order;  // before returning to the io_context: inline
    });
    ctx.poll();
    BOOST_TEST(seen_at_run_end == (std::vector<int>{0, 3, 1, 2}), boost::test_tools::per_element());

    // More than a batch holds (8): the rest is posted at once. A batch that never ran (its
    // reader threw) posts what it held when it goes, and so does a nested one. Every wait is
    // resumed exactly once either way.
    boost::asio::post(ctx, [&] {
        resume_batch batch;
        for (int i = 4; i < 13; ++i) waits[i]->resume();  // 4..11 held, 12 posted
        {
            resume_batch inner;  // takes what comes while it is open
            waits[13]->resume();
            waits[4]->resume();  // already taken: nothing
        }  // posts 13
        BOOST_TEST(order.size() == 4u);
    });  // posts 4..11
    ctx.poll();
    BOOST_TEST(order == (std::vector<int>{0, 3, 1, 2, 12, 13, 4, 5, 6, 7, 8, 9, 10, 11}), boost::test_tools::per_element());
    for (const auto& w : waits) BOOST_TEST(!w->handler.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
