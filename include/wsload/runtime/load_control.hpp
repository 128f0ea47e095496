#pragma once
// Live changes of the load while a run goes (issue 18 item 6): what a control surface (the
// control endpoint of --metrics-listen, the live web UI later) may ask of a running engine, and
// what it reads back. Value types and one abstract class, so that the caller needs no engine.
//
// A change takes effect from the moment it is accepted: the run goes from where it is to the new
// target (users, closed model) or rate (iterations per second, open model), then holds it until
// the run's end. The rest of the shape (later stages or steps) is dropped, and the run's end does
// not move: it is --duration, or the shape's own length when the shape has one. Each change
// starts a phase of its own in the per-phase figures ("live 500 users", "live 80 iterations/s").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace wsload::runtime {

/// Closed model: go to `target` users, starting or stopping them at `spawn_rate` users per second
/// or evenly over `over`; with neither, at the run's spawn rate (the last one set, else the
/// shape's), all at once when it has none.
struct users_change {
    std::uint64_t target = 0;
    std::optional<double> spawn_rate = {};        ///< users per second, above 0
    std::optional<std::chrono::nanoseconds> over = {};  ///< the time to get there; 0: at once
};

/// Open model: go to `per_second` iterations per second, linearly over `over` (0: at once).
struct rate_change {
    double per_second = 0;
    std::chrono::nanoseconds over{0};
};

/// What became of a change.
struct change_result {
    enum class status {
        applied,   ///< accepted: the workers follow it from now on
        invalid,   ///< a value out of range (a negative rate): fix the request
        refused,   ///< not possible for this run now (a rate on a closed model, above the maximum, stopping)
    };
    status outcome = status::applied;
    std::string reason;  ///< one line, when not applied

    bool applied() const noexcept { return outcome == status::applied; }
    static change_result ok() { return {}; }
    static change_result bad(std::string why) { return {status::invalid, std::move(why)}; }
    static change_result no(std::string why) { return {status::refused, std::move(why)}; }
};

/// The load as it is now.
struct load_state {
    bool started = false;       ///< the run has begun
    bool stopping = false;      ///< the run's stop has begun: changes are refused
    bool open_model = false;    ///< iterations start at a rate (arrival rates)
    std::uint64_t target_users = 0;   ///< closed model: where the shape is going now
    std::uint64_t running_users = 0;  ///< users started and not yet ended (either model)
    std::uint64_t max_users = 0;      ///< the most users a change may ask for (open: the run's maximum)
    double spawn_rate = 0;      ///< closed: users/s of the ramp under way, else the rate a change without one uses (0: at once)
    double arrival_rate = 0;    ///< open: iterations per second now
    std::chrono::nanoseconds elapsed{0};
    std::chrono::nanoseconds remaining{0};  ///< until the run's planned end (its duration)
    std::uint64_t changes = 0;  ///< live changes applied so far
    std::string phase;          ///< the phase under way ("" when the shape names none)
};

/// A running engine's live controls; every call is safe from any thread and returns at once
/// (the workers apply an accepted change on their own threads within microseconds).
class load_control {
public:
    virtual change_result set_users(const users_change& change) = 0;
    /// Closed model: the ramp under way goes on to its target at this rate (users per second),
    /// and later changes without a rate use it.
    virtual change_result set_spawn_rate(double per_second) = 0;
    virtual change_result set_arrival_rate(const rate_change& change) = 0;
    virtual load_state state() const = 0;

protected:
    ~load_control() = default;
};

}  // namespace wsload::runtime
