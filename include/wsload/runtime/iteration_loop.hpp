#pragma once
// The iteration form of a behaviour (wsload::iterations) as the coroutine a user runs: on_start,
// the iterations, each counted, timed and its exception caught, then on_stop.

#include <wsload/core/error.hpp>
#include <wsload/runtime/behavior.hpp>
#include <wsload/runtime/send_pacer.hpp>
#include <wsload/runtime/user.hpp>
#include <wsload/runtime/worker.hpp>

#include <boost/asio/post.hpp>

#include <exception>
#include <memory>
#include <string>

namespace wsload::runtime {

/// What an exception says, for the errors table.
inline std::string exception_message(const std::exception_ptr& e)
{
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "a non-standard exception";
    }
}

/// One iteration: run, timed, counted, its exception caught (but a usage error's).
inline task<> run_one_iteration(user& u, const iterations& it)
{
    auto& w = u.worker();
    {
        const auto began = clock::now();
        std::exception_ptr failure;
        try {
            co_await it.iteration_step()(u);
        } catch (const usage_error&) {
            throw;  // the run is set up wrong (a URL its transport cannot take): the engine ends it
        } catch (...) {
            failure = std::current_exception();
        }
        w.stats()[stats::histogram_id::iteration].record(
            static_cast<std::uint64_t>(std::chrono::nanoseconds(clock::now() - began).count()));
        if (failure) {
            w.stats()[stats::counter_id::iteration_errors].add();
            w.stats().errors.count("iteration", exception_message(failure));
        } else {
            w.stats()[stats::counter_id::iterations].add();
        }
    }
}

/// Closed model: iterations one after the other while the user runs.
inline task<> run_iterations(user& u, std::shared_ptr<const iterations> it)
{
    auto& w = u.worker();
    const auto& config = u.config();
    if (const auto& start = it->start_step()) co_await start(u);
    std::optional<send_pacer> paced;
    if (const auto& p = it->iteration_pacing()) paced.emplace(u, *p);
    for (std::uint64_t n = 0; u.running(); ++n) {
        if (config.iterations_per_user != 0 && n >= config.iterations_per_user) break;
        if (paced) {
            if (!co_await paced->next()) break;  // the user is stopping
        }
        if (config.iterations != 0 && !w.run().claim_iteration()) break;  // the shared budget is spent
        u.begin_iteration(paced ? paced->due() : clock::now());
        co_await run_one_iteration(u, *it);
        // The next iteration after the thread's other work: an iteration that never waits
        // must not keep the other users of this thread from running (a paced one has waited).
        if (!paced) co_await boost::asio::post(w.get_executor(), wsload::use_awaitable);
    }
    if (const auto& stop = it->stop_step()) co_await stop(u);
}

/// Open model: an iteration each time the engine hands the user an arrival.
inline task<> run_arrivals(user& u, std::shared_ptr<const iterations> it)
{
    if (const auto& start = it->start_step()) co_await start(u);
    while (co_await u.await_arrival()) co_await run_one_iteration(u, *it);
    if (const auto& stop = it->stop_step()) co_await stop(u);
}

/// The iteration form as a plain behaviour the engine runs: in a loop, or (`open_model`, an
/// arrival-rate shape) on the engine's arrivals.
inline behavior iteration_behavior(std::shared_ptr<const iterations> it, bool open_model = false)
{
    if (open_model) return [it = std::move(it)](user& u) { return run_arrivals(u, it); };
    return [it = std::move(it)](user& u) { return run_iterations(u, it); };
}

}  // namespace wsload::runtime
