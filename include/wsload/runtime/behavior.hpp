#pragma once
// What a scenario hands the engine: the coroutine each user runs, in one of two forms.

#include <wsload/core/task.hpp>
#include <wsload/sched/pacing.hpp>

#include <cstdint>
#include <functional>
#include <optional>

namespace wsload {
class user;
}  // namespace wsload

namespace wsload::runtime {

/// A behaviour: the coroutine each user runs once. The user reference stays valid until it
/// returns; an exception ends that user only and is counted as behaviour_errors.
using behavior = std::function<task<>(user&)>;

}  // namespace wsload::runtime

namespace wsload {

/// A behaviour in three parts, as Locust's users and k6's VUs are written: `on_start` once
/// (connect, log in), then `iteration` again and again while the user runs, then `on_stop`
/// (log out; it runs when the user is being stopped too, with running() false). Iterations
/// are counted (`iterations`) and timed (the `iteration` histogram); an exception ends the
/// iteration, not the user, and is counted in `iteration_errors` and by message. An exception
/// in on_start or on_stop ends the user as in a plain behaviour. --iterations (shared by every
/// user) and --iterations-per-user bound them; the loop also ends when running() turns false.
/// A class with a constructor, not an aggregate (g++ 12 and aggregate temporaries, README).
class iterations {
public:
    using step = std::function<task<>(user&)>;

    explicit iterations(step iteration) : iteration_(std::move(iteration)) {}

    iterations& on_start(step f)
    {
        on_start_ = std::move(f);
        return *this;
    }
    iterations& on_stop(step f)
    {
        on_stop_ = std::move(f);
        return *this;
    }
    /// Starts each iteration at its due time under `p` (closed model): `pacing::every(1s)` is
    /// Locust's constant_pacing(1), one iteration a second per user whatever it took (one that
    /// overran starts the next at once, its lateness in user.iteration_due()). Unset: the next
    /// iteration when the last ended. An arrival-rate shape paces iterations itself.
    iterations& pacing(wsload::pacing p)
    {
        pacing_ = p;
        return *this;
    }
    const std::optional<wsload::pacing>& iteration_pacing() const noexcept { return pacing_; }

    const step& start_step() const noexcept { return on_start_; }
    const step& iteration_step() const noexcept { return iteration_; }
    const step& stop_step() const noexcept { return on_stop_; }

private:
    step on_start_, iteration_, on_stop_;
    std::optional<wsload::pacing> pacing_;
};

}  // namespace wsload
