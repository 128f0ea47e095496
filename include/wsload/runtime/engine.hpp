#pragma once
// The engine: one worker thread per core, users spawned on their worker following the load
// shape, the run's clock, the stop sequence (arrivals stop, connections close with 1000
// within the grace period, stragglers are aborted and counted) and SIGINT/SIGTERM. Its load
// can be changed while it runs (load_control, applied as runtime/live_changes.hpp says).

#include <wsload/core/error.hpp>
#include <wsload/core/log.hpp>
#include <wsload/detail/frame_cache.hpp>
#include <wsload/runtime/behavior.hpp>
#include <wsload/runtime/iteration_loop.hpp>
#include <wsload/runtime/live_changes.hpp>
#include <wsload/runtime/load_control.hpp>
#include <wsload/runtime/user.hpp>
#include <wsload/runtime/worker.hpp>
#include <wsload/sched/plan.hpp>
#include <wsload/stats/metrics.hpp>
#include <wsload/stats/run_result.hpp>
#include <wsload/stats/series_merge.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace wsload::runtime {

using progress = stats::progress;
using run_result = stats::run_result;

class engine final : public stats::live_run, public load_control {
public:
    /// Builds the workers (their threads start in run()), so snapshot() works from here on.
    engine(run_config config, behavior b)
        : state_(std::move(config)), behavior_(std::move(b)), plan_(load_plan(state_.config))
    {
        state_.tls.prepare();
        state_.wake_control = [this] { wake_control(); };
        for (unsigned i = 0; i < state_.config.threads; ++i) workers_.push_back(std::make_unique<worker>(i, state_));
    }

    /// Called on the main thread once a second while the run goes.
    void on_progress(std::function<void(const progress&)> f) { on_progress_ = std::move(f); }

    /// Ends the run early (as its duration would), from any thread; `why` is logged.
    void request_stop(std::string why)
    {
        log(log_level::warn, "ending the run: " + why);
        stop_requested_.store(true, std::memory_order_release);
        wake_control();
    }

    /// Runs to the end (duration, all users finished, or a signal) and returns the figures.
    run_result run()
    {
        std::vector<boost::asio::executor_work_guard<executor>> guards;
        for (auto& w : workers_) guards.emplace_back(w->get_executor());
        state_.started_at = clock::now();
        started_ns_.store(state_.started_at.time_since_epoch().count(), std::memory_order_release);
        result_.started_at = std::chrono::system_clock::now();
        for (auto& w : workers_) {
            boost::asio::co_spawn(w->get_executor(), state_.config.arrivals ? spawn_arrivals(*w) : spawn_users(*w),
                                  boost::asio::detached);
            boost::asio::co_spawn(w->get_executor(), w->record_seconds(), boost::asio::detached);
            boost::asio::co_spawn(w->get_executor(), w->probe_lag(), boost::asio::detached);
        }
        std::vector<std::thread> threads;
        for (auto& w : workers_) threads.emplace_back([&ctx = w->context()] { ctx.run(); });

        control_loop(guards);
        for (auto& t : threads) t.join();

        result_.totals = collect<stats::totals>();
        for (const auto& w : workers_) result_.generator.push_back(w->health());
        result_.phases = phases_.results(*result_.totals, result_.elapsed, workers_.size());
        take_seconds();  // the last ones, cut as the run stopped
        series_.finish();
        return std::move(result_);
    }

private:
    // Each worker follows the plan for its own users (i = index, index + threads, ...): their
    // starts and, where the shape goes down, their stops. Nothing crosses threads.
    // The same walk reads the worker's shard at each phase's start (cut_phase), before the
    // events at that moment: a level's first user counts in its level. A live change is applied
    // here too, once what was due before it is done (runtime/live_changes.hpp).
    task<> spawn_users(worker& w)
    {
        const unsigned threads = state_.config.threads;
        sched::plan_cursor cursor(plan_, w.index(), threads);
        std::unique_ptr<sched::plan> changed;  // the plan of the last live change, which the cursor walks
        timer next(w.get_executor());
        spawn_timers_[w.index()] = &next;
        const auto& phases = plan_.phases();
        std::size_t boundary = 1;  // the shape's next phase start to read at (none after a live change)
        auto event = cursor.next();
        bool done = false;
        const auto spawned_all = [&] {
            if (!std::exchange(done, true)) spawner_done();
        };
        const auto cut_next = [&] {
            return boundary < phases.size() && (!event || cuts_before(phases, boundary, event->at));
        };
        const auto due = [&]() -> std::optional<std::chrono::nanoseconds> {
            if (cut_next()) return phases[boundary].start;
            if (event) return event->at;
            return std::nullopt;
        };
        const auto do_next = [&] {
            if (cut_next()) {
                cut_phase(w, boundary++);
                return;
            }
            auto*& running = w.slot(event->index);
            if (event->start && !running) {
                state_.live_users.fetch_add(1, std::memory_order_relaxed);
                running = start_user(w, event->index);
            } else if (!event->start && running) {
                // Out of its slot first: the same index may start again (a stage going back up)
                // while this one still closes.
                std::exchange(running, nullptr)->ramp_down(state_.config.ramp_down_timeout);
            }
            event = cursor.next();
        };
        auto& changes = pending_[w.index()];
        unsigned in_a_row = 0;
        while (!w.stopping()) {
            if (!event) spawned_all();  // phase starts may remain: they do not hold the run up
            const auto at = due();
            // Nothing left: wait for a live change or the end.
            const auto ec = co_await wait_until(next, at ? state_.started_at + *at : clock::time_point::max(), in_a_row);
            if (w.stopping()) break;
            if (changes.empty()) {
                if (!ec && at) do_next();
                continue;
            }
            // What `at` was for is done below if it was due; the next wait is for the new plan's.
            apply_changes(w, done, [&](std::chrono::nanoseconds t) {
                for (auto d = due(); d && *d <= t; d = due()) do_next();
            }, [&](const live_change& change, std::chrono::nanoseconds t) {
                const auto& walked = changed ? *changed : plan_;
                auto followed = std::make_unique<sched::plan>(live_controller::follow(walked, change, t));
                cursor = sched::plan_cursor(*followed, w.index(), threads);
                changed = std::move(followed);
                event = cursor.next();
                boundary = phases.size();  // dropped: the change holds until the run's end
            });
        }
        spawn_timers_[w.index()] = nullptr;
        spawned_all();
        dropped_changes(changes);
    }

    /// How many starts or arrivals already due a spawner handles in a row before it lets its
    /// thread's other work run (the behaviours it started, their connects, the lag probe).
    static constexpr unsigned due_in_a_row = 64;

    /// Waits on `t` until `due`. A time already past takes no timer: an expired timer still
    /// costs an epoll_wait and two timerfd_settime calls (strace), ~18 µs of the thread's CPU on
    /// the bench machine, which held a burst (--ramp 0) and an arrival rate to ~50,000 per
    /// CPU-second, and to fewer on a shared core (bench/run burst, arrival-accuracy). Nothing
    /// starts early; every `due_in_a_row`-th due one yields to the thread with a post instead.
    /// The wait's error: operation_aborted when a live change (or the stop) cancelled it.
    static task<boost::system::error_code> wait_until(timer& t, clock::time_point due, unsigned& in_a_row)
    {
        if (due <= clock::now()) {
            if (++in_a_row < due_in_a_row) co_return boost::system::error_code();
            in_a_row = 0;
            co_await boost::asio::post(t.get_executor(), use_awaitable);
            co_return boost::system::error_code();
        }
        in_a_row = 0;
        t.expires_at(due);
        const auto [ec] = co_await t.async_wait(use_task);
        co_return ec;
    }

    /// Whether the reading at phase k's start comes before an event at `at`. At the phase's
    /// instant it does (a level's first users count in it), unless the phase before has no
    /// length (a k6 "0s" stage, a jump): the events of that instant are that phase's.
    static bool cuts_before(const std::vector<sched::phase>& phases, std::size_t k, std::chrono::nanoseconds at)
    {
        return phases[k].start < at || (phases[k].start == at && phases[k - 1].start != phases[k].start);
    }

    /// Adds worker w's shard, as it is now, to the reading at phase k's start. On w's thread.
    void cut_phase(worker& w, std::size_t k) { phases_.cut(k, w.stats()); }

    /// Applies worker w's pending live changes in order, on its thread: for each, at t (now,
    /// since the start), `catch_up(t)` does what the plan followed had due up to t, `follow(change,
    /// t)` makes the worker follow the changed plan from t, and the change's phase is read. `done`:
    /// whether the spawner had nothing left to start (it may have again).
    template <class CatchUp, class Follow>
    void apply_changes(worker& w, bool& done, CatchUp catch_up, Follow follow)
    {
        auto& changes = pending_[w.index()];
        while (!changes.empty()) {
            const auto change = changes.front();
            changes.pop_front();
            const auto t = clock::now() - state_.started_at;
            catch_up(t);
            follow(change, t);
            cut_phase(w, change.phase);
            // Not done before the change leaves the count, which all_users_done() reads first.
            if (std::exchange(done, false)) spawners_done_.fetch_sub(1, std::memory_order_acq_rel);
            pending_changes_.fetch_sub(1, std::memory_order_release);
        }
    }
    /// A worker's spawner has ended (the run stops): changes it will not apply leave the count.
    void dropped_changes(std::deque<live_change>& changes)
    {
        pending_changes_.fetch_sub(changes.size(), std::memory_order_release);
        changes.clear();
    }

    // Open model (arrival rates): each worker starts its share of the pre-allocated users, then
    // hands each of its arrivals (k = index, index + threads, ...) to a free user of its own,
    // starts a new one for it (up to its share of the maximum), or counts it dropped. Nothing
    // waits for a user to be free: a slow server gets the same arrivals (no coordinated
    // omission), and what could not start is counted.
    task<> spawn_arrivals(worker& w)
    {
        const auto& config = state_.config;
        const auto& plan = *config.arrivals;
        const std::uint64_t threads = config.threads;
        std::uint64_t next_index = w.index();
        const auto start_one = [&](std::optional<clock::time_point> arrival) {
            const bool with_arrival = arrival.has_value();
            state_.live_users.fetch_add(1, std::memory_order_relaxed);
            if (auto* u = start_user(w, next_index)) {
                if (with_arrival) u->give_arrival(*arrival);
            } else if (with_arrival) {
                w.stats()[stats::counter_id::dropped_iterations].add();  // its on_start threw
            }
            next_index += threads;
        };
        while (next_index < plan.preallocated()) start_one(std::nullopt);
        sched::arrival_cursor cursor(plan, w.index(), config.threads, config.poisson, config.seed);
        std::unique_ptr<sched::arrival_plan> changed;  // the plan of the last live change, which the cursor follows
        timer next(w.get_executor());
        spawn_timers_[w.index()] = &next;
        auto at = cursor.next();
        bool done = false;
        const auto arrive = [&] {
            // An arrival is the open model's send: one that starts late is counted late.
            if (const auto late = clock::now() - (state_.started_at + *at); late > stats::late_send_threshold)
                w.stats().count_late_send(static_cast<std::uint64_t>(std::chrono::nanoseconds(late).count()));
            const auto due = state_.started_at + *at;
            if (auto* u = w.take_free_user()) u->give_arrival(due);
            else if (next_index < plan.max_users()) start_one(due);
            else w.stats()[stats::counter_id::dropped_iterations].add();
            at = cursor.next();
        };
        auto& changes = pending_[w.index()];
        // The shape's arrivals are those of the run's duration, not of the moments its stop takes.
        const auto in_run = [&] { return at && *at < config.duration; };
        unsigned in_a_row = 0;
        while (!w.stopping()) {
            if (!in_run() && !std::exchange(done, true)) spawner_done();
            const auto ec = co_await wait_until(next, in_run() ? state_.started_at + *at : clock::time_point::max(), in_a_row);
            if (w.stopping()) break;
            if (changes.empty()) {
                if (!ec && in_run()) arrive();
                continue;
            }
            apply_changes(w, done, [&](std::chrono::nanoseconds t) {
                while (in_run() && *at <= t) arrive();
            }, [&](const live_change& change, std::chrono::nanoseconds t) {
                const auto& walked = changed ? *changed : plan;
                auto followed = std::make_unique<sched::arrival_plan>(
                    live_controller::follow(walked, change.per_second, change.over.value_or(std::chrono::nanoseconds(0)), t));
                cursor.follow(*followed);
                changed = std::move(followed);
                at = cursor.again();  // the next arrival, as the changed rate has it
            });
        }
        // Arrivals due before the run ended that this thread never reached (it was behind):
        // dropped too, so that every arrival the shape asked for is an iteration or dropped.
        const auto end = std::min<std::chrono::nanoseconds>(clock::now() - state_.started_at, config.duration);
        for (; at && *at < end; at = cursor.next()) w.stats()[stats::counter_id::dropped_iterations].add();
        spawn_timers_[w.index()] = nullptr;
        if (!done) spawner_done();
        dropped_changes(changes);
    }

    /// Starts user `index`'s behaviour as a coroutine of its own. The user lives on the heap
    /// and is owned by the completion handler, which counts the ending: an idle user is then
    /// parked in the behaviour's frames and co_spawn's entry frame only, with no frame of the
    /// engine's between them (PERF-FACTS.md: each parked frame costs ~400 B per user).
    /// Returns the user while its behaviour runs, or null when it ended before its first
    /// suspension point.
    user* start_user(worker& w, std::uint64_t index)
    {
        auto u = std::make_unique<user>(w, index);
        auto* started = u.get();
        w.stats()[stats::counter_id::users_started].add();
        // The behaviour's frame and co_spawn's may stay parked for the whole run: exact sizes.
        wsload::detail::release_cached_frames();
        std::optional<task<>> behaviour;
        try {
            behaviour.emplace(behavior_(*u));
        } catch (...) {  // a behaviour that throws before its first suspension point
            user_ended(std::move(u), std::current_exception());
            return nullptr;
        }
        boost::asio::co_spawn(w.get_executor(), std::move(*behaviour),
                              [u = std::move(u)](std::exception_ptr e) mutable {
                                  // Only the user is captured: the handler lives in co_spawn's frame.
                                  user_ended(std::move(u), e);
                              });
        return started;
    }

    static void user_ended(std::unique_ptr<user> u, std::exception_ptr e)
    {
        auto& w = u->worker();
        if (e) {
            w.stats()[stats::counter_id::behaviour_errors].add();
            try {
                std::rethrow_exception(e);
            } catch (const usage_error& x) {
                w.run().report_misuse(x.what());  // not the user's failure: the run's setup is wrong
            } catch (...) {
                const auto what = exception_message(e);  // the one wording iterations use too
                w.stats().errors.count("behaviour", what);
                log(log_level::debug, "user " + u->id() + ": behaviour failed: " + what);
                if (u->traced()) log_traced("wsload", u->trace_tag(), "ended: behaviour failed: " + mask_secrets(what));
            }
        } else if (u->traced()) {
            log_traced("wsload", u->trace_tag(), "ended: its behaviour returned");
        }
        w.stats()[stats::counter_id::users_finished].add();
        if (auto*& running = w.slot(u->index()); running == u.get()) running = nullptr;
        u.reset();
        // The last user running: the run may be over (all_users_done), which the control thread
        // then sees at once.
        if (w.run().live_users.fetch_sub(1, std::memory_order_release) == 1) w.run().wake_control();
    }

public:
    /// The figures so far, merged from every worker; safe from any thread while the run goes
    /// (shards are single-writer atomics). `stats::totals` adds the histograms (costlier).
    template <class Totals = stats::counter_totals>
    std::unique_ptr<Totals> snapshot() const
    {
        return collect<Totals>();
    }
    std::unique_ptr<stats::totals> snapshot_totals() const override { return collect<stats::totals>(); }
    /// Time since the start of the run (0 before it starts).
    std::chrono::nanoseconds elapsed() const noexcept override
    {
        const auto started = started_ns_.load(std::memory_order_acquire);
        if (started == 0) return std::chrono::nanoseconds(0);
        return clock::now() - clock::time_point(clock::duration(started));
    }
    const run_config& config() const noexcept { return state_.config; }

    // load_control: live changes from any thread (runtime/load_control.hpp). A change is refused
    // before the run starts and once its stop has begun.
    change_result set_users(const users_change& c) override
    {
        return change([&](std::chrono::nanoseconds at) { return live_.users(c, at); });
    }
    change_result set_spawn_rate(double per_second) override
    {
        return change([&](std::chrono::nanoseconds at) { return live_.spawn_rate(per_second, at); });
    }
    change_result set_arrival_rate(const rate_change& c) override
    {
        return change([&](std::chrono::nanoseconds at) { return live_.arrival_rate(c, at); });
    }
    load_state state() const override
    {
        load_state s;
        std::lock_guard lock(control_mutex_);
        s.started = started_ns_.load(std::memory_order_acquire) != 0;
        s.stopping = state_.stopping.load(std::memory_order_acquire);
        s.elapsed = elapsed();
        s.remaining = std::max(std::chrono::nanoseconds(0), state_.config.duration - s.elapsed);
        s.running_users = state_.live_users.load(std::memory_order_relaxed);
        live_.fill(s, s.elapsed);
        s.phase = phases_.current(s.elapsed);
        return s;
    }
    /// The usage error a behaviour ran into (a URL its transport cannot take), if any: the run
    /// ended at once and exits with status 2.
    std::string misuse() const { return state_.misuse(); }

private:
    template <class Totals = stats::counter_totals>
    std::unique_ptr<Totals> collect() const
    {
        std::vector<const stats::shard*> shards;
        for (const auto& w : workers_) shards.push_back(&w->stats());
        return stats::collect<Totals>(shards);
    }

    /// Accepts a change `decide` made at the time it is given, starts its phase and posts it to
    /// every worker (which applies it on its own thread).
    template <class Decide>
    change_result change(Decide decide)
    {
        std::lock_guard lock(control_mutex_);
        if (started_ns_.load(std::memory_order_acquire) == 0) return change_result::no("the run has not started yet");
        if (state_.stopping.load(std::memory_order_acquire))
            return change_result::no("the run is stopping: changes are refused once its stop has begun");
        const auto at = elapsed();
        const auto initial_users = live_.initial_users();  // the shape's, before the change
        auto d = decide(at);
        if (!d.result.applied()) return d.result;
        d.change.phase = phases_.begin_live(std::move(d.name), at, d.users, initial_users);
        pending_changes_.fetch_add(workers_.size(), std::memory_order_acq_rel);
        for (auto& w : workers_)
            boost::asio::post(w->get_executor(), [this, &w = *w, c = d.change] {
                if (!spawn_timers_[w.index()]) {  // its spawner has ended: the run is stopping
                    pending_changes_.fetch_sub(1, std::memory_order_release);
                    return;
                }
                pending_[w.index()].push_back(c);
                spawn_timers_[w.index()]->cancel();
            });
        return d.result;
    }

    /// A worker's spawner has nothing left to start.
    void spawner_done()
    {
        spawners_done_.fetch_add(1, std::memory_order_release);
        if (all_users_done()) wake_control();
    }
    /// Something the stop sequence waits for may have happened (a stop asked for, a misuse, the
    /// last user done): the control thread looks now rather than at its next poll. Any thread.
    void wake_control()
    {
        boost::asio::post(control_, [this] {
            if (control_poll_) control_poll_->cancel();
        });
    }

    bool all_users_done() const noexcept
    {
        // The changes first: a worker that applies one counts itself not done before it leaves.
        return pending_changes_.load(std::memory_order_acquire) == 0 &&
               spawners_done_.load(std::memory_order_acquire) == workers_.size() &&
               state_.live_users.load(std::memory_order_acquire) == 0;
    }

    /// Hands the seconds the workers have cut to the time series (stats/series_merge.hpp),
    /// which merges each second once every worker has cut it and spills its histogram.
    void take_seconds()
    {
        for (std::size_t i = 0; i < workers_.size(); ++i)
            for (auto& r : workers_[i]->take_seconds()) {
                latest_seconds_[i] = {static_cast<unsigned>(r.row.busiest_worker_pct), r.row.event_loop_lag_max_ns};
                series_.add(i, std::move(r));
            }
    }

    template <class F>
    void on_each_worker(F f)
    {
        for (auto& w : workers_) boost::asio::post(w->get_executor(), [&w = *w, f] { f(w); });
    }

    /// The main thread's loop: signals, the once-a-second progress, the end of the run.
    void control_loop(std::vector<boost::asio::executor_work_guard<executor>>& guards)
    {
        auto& control = control_;
        control.restart();
        boost::asio::signal_set signals(control, SIGINT, SIGTERM);
        boost::asio::steady_timer ticker(control), poll(control);
        control_poll_ = &poll;
        auto& config = state_.config;
        // The baseline is zero, not a first reading: workers may have connected users before
        // this thread got here, and those belong to the first second.
        auto previous = std::make_unique<stats::counter_totals>();
        clock::time_point grace_end = clock::time_point::max();
        clock::time_point abort_end = clock::time_point::max();
        enum class phase { running, stopping, aborting, draining } phase = phase::running;

        auto begin_stop = [&](bool interrupted) {
            if (phase != phase::running) return;
            phase = phase::stopping;
            result_.interrupted = interrupted;
            result_.elapsed = clock::now() - state_.started_at;
            result_.open_at_end = (*collect())[stats::counter_id::active_connections];
            state_.stopping.store(true, std::memory_order_relaxed);
            on_each_worker([this](worker& w) {
                if (auto* t = spawn_timers_[w.index()]) t->cancel();
                w.stop_all();
            });
            grace_end = clock::now() + config.grace;
        };
        auto begin_abort = [&] {
            phase = phase::aborting;
            on_each_worker([](worker& w) { w.abort_all(); });
            for (auto& g : guards) g.reset();  // threads return once their last operation ends
            abort_end = clock::now() + std::chrono::seconds(2);
        };

        std::function<void()> wait_signal = [&] {
            signals.async_wait([&](boost::system::error_code ec, int) {
                if (ec) return;
                if (phase != phase::running) {  // second signal: leave at once, the log file written
                    close_log_file_now();
                    std::_Exit(130);
                }
                log(log_level::warn, "interrupted: closing connections (press Ctrl-C again to quit now)");
                begin_stop(true);
                wait_signal();
            });
        };
        wait_signal();

        // Ticks on whole seconds since the start, as the workers' second boundaries do.
        std::uint32_t seconds = 0;
        std::function<void()> tick = [&] {
            ticker.expires_at(state_.started_at + std::chrono::seconds(++seconds));
            ticker.async_wait([&](boost::system::error_code ec) {
                if (ec || phase != phase::running) return;
                // Usually the second before this one (workers cut it meanwhile): its generator
                // figures go with this line, a second late at most.
                take_seconds();
                auto now = collect();
                if (on_progress_) on_progress_({std::chrono::seconds(seconds), *now, *previous, latest_seconds_});
                previous = std::move(now);
                tick();
            });
        };
        tick();

        // A poll drives the stop sequence; it touches only atomics, never the hot path. While the
        // run goes it wakes at the run's end, or when wake_control() says something changed
        // (the cancel of its wait), and at least every 250 ms; stopping, every 10 ms. (A fixed
        // 10 ms poll woke the process 100 times a second for nothing.)
        std::function<void()> step = [&] {
            const auto now = clock::now();
            poll.expires_at(phase == phase::running
                                ? std::min(now + std::chrono::milliseconds(250), state_.started_at + config.duration)
                                : now + std::chrono::milliseconds(10));
            poll.async_wait([&](boost::system::error_code ec) {
                if (ec && ec != boost::asio::error::operation_aborted) return;
                const auto now = clock::now();
                if (phase == phase::running && (stop_requested_.load(std::memory_order_acquire) ||
                                                state_.misused.load(std::memory_order_acquire))) {
                    result_.ended_early = true;
                    begin_stop(false);
                }
                if (phase == phase::running && (now >= state_.started_at + config.duration || all_users_done()))
                    begin_stop(false);
                if (phase == phase::stopping && (all_users_done() || now >= grace_end)) begin_abort();
                if (phase == phase::aborting && now >= abort_end) {
                    log(log_level::warn, "operations still pending after the grace period: stopping threads");
                    for (auto& w : workers_) w->context().stop();
                    phase = phase::draining;
                }
                if (phase == phase::aborting && workers_idle()) phase = phase::draining;
                if (phase == phase::draining) {
                    signals.cancel();
                    ticker.cancel();
                    return;
                }
                step();
            });
        };
        step();
        control.run();
        control_poll_ = nullptr;
    }

    bool workers_idle() const noexcept
    {
        for (const auto& w : workers_)
            if (!w->context().stopped()) return false;
        return true;
    }

    run_state state_;
    behavior behavior_;
    sched::plan plan_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<timer*> spawn_timers_ = std::vector<timer*>(state_.config.threads, nullptr);
    std::atomic<std::size_t> spawners_done_{0};
    std::atomic<bool> stop_requested_{false};
    /// The main thread's loop (control_loop); posted to from any thread by wake_control().
    boost::asio::io_context control_{1};
    boost::asio::steady_timer* control_poll_ = nullptr;  ///< its stop poll, while it runs
    std::atomic<clock::rep> started_ns_{0};  ///< started_at, for readers on other threads
    std::function<void(const progress&)> on_progress_;
    /// Each worker's last second taken (take_seconds), for the live line (control thread).
    std::vector<stats::worker_second> latest_seconds_ = std::vector<stats::worker_second>(state_.config.threads);
    run_result result_;
    /// The shape's phases and the live changes', with each worker's reading at their starts.
    phase_table phases_{plan_.phases()};
    mutable std::mutex control_mutex_;  ///< live changes, one at a time, and the state they read
    live_controller live_{state_.config, plan_};
    /// Changes posted to each worker and not yet applied (each worker's own thread).
    std::vector<std::deque<live_change>> pending_ = std::vector<std::deque<live_change>>(state_.config.threads);
    std::atomic<std::size_t> pending_changes_{0};  ///< posted and not yet applied or dropped, over all workers
    /// Fills result_.series and result_.series_round_trips as the run goes (control thread).
    stats::series_builder series_{state_.config.threads, result_.series, result_.series_round_trips};
};

}  // namespace wsload::runtime
