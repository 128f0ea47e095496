#pragma once
// What a scenario hands the engine: the coroutine each user runs, in one of two forms.

#include <wsload/core/task.hpp>

#include <cstdint>
#include <functional>

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

    const step& start_step() const noexcept { return on_start_; }
    const step& iteration_step() const noexcept { return iteration_; }
    const step& stop_step() const noexcept { return on_stop_; }

private:
    step on_start_, iteration_, on_stop_;
};

}  // namespace wsload
