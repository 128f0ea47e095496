#pragma once
// A user's sends, paced (sched/pacing.hpp): waits for each send's turn and says when it was
// due, so a behaviour never computes an intended time itself.
//
//     wsload::send_pacer sends(u, wsload::pacing::every(interval));  // zero: a closed loop
//     while (ws.is_open()) {
//         if (!co_await sends.next()) break;  // the user is stopping
//         co_await ws.request(payload, match, {.timeout = 5s, .intended_at = sends.due()});
//     }
//
// With a fixed interval each round trip counts from the send's due time, so a send held up by
// a slow reply shows as latency, not as a quieter server (and as a late send of the
// generator when the thread, not the reply, held it up); in a closed loop from the send itself.

#include <wsload/core/task.hpp>
#include <wsload/runtime/user.hpp>
#include <wsload/runtime/worker.hpp>
#include <wsload/sched/pacing.hpp>

#include <boost/asio/post.hpp>

#include <cstdint>

namespace wsload {

class send_pacer {
public:
    send_pacer(user& u, const pacing& p)
        : user_(u), schedule_(p, clock::now(), p.is_closed_loop() ? std::chrono::nanoseconds(0) : u.random().phase(p.interval()))
    {}

    /// Waits until the next send is due. False when the user is stopping: end the loop. A
    /// closed loop without think time still yields to the thread's other users once per send,
    /// so that a send that never waits cannot hold the thread.
    task<bool> next()
    {
        if (!user_.running()) co_return false;
        const auto now = clock::now();
        due_ = schedule_.next(now);
        if (due_ > now) co_await user_.sleep_until(due_);
        else if (schedule_.pacing().is_closed_loop()) co_await boost::asio::post(user_.worker().get_executor(), wsload::use_awaitable);
        co_return user_.running();
    }

    /// When the send next() let through was due: give it as the request's `.intended_at`.
    clock::time_point due() const noexcept { return due_; }
    /// Sends let through so far.
    std::uint64_t sends() const noexcept { return schedule_.sends(); }

private:
    user& user_;
    sched::send_schedule schedule_;
    clock::time_point due_{};
};

}  // namespace wsload
