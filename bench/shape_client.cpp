// shape_client: issue 18's load-shape benchmarks as a wsload scenario, driven by bench/run
// (workloads burst, burst-connect, arrival-accuracy). A program of its own beside
// wsload_client: the open model needs the iteration form, chosen before the flags are read.
//
//   shape_client --workload burst --users 200000 --ramp 0 --duration 10s --threads 1 --json b.json
//   shape_client --workload burst-connect --target ws://127.0.0.1:9000/ws --users 19000 --ramp 0
//                --duration 10s --ping-interval 0 --threads 1 --json c.json
//   shape_client --workload arrival --arrival-rate 50000 --preallocated-users 100 --duration 10s
//                --threads 1 --json a.json
//
// Workloads:
//   burst          the shape asks for every user at once (--ramp 0); each user holds no
//                  connection and waits until the run ends. The engine alone: how fast it starts
//                  users.
//   burst-connect  the same burst, each user opening a WebSocket to --target and holding it
//                  (no heartbeat with --ping-interval 0) until the run ends.
//   arrival        the open model: --arrival-rate iterations per second on
//                  --preallocated-users users, each iteration returning at once (no network).
//
// The burst workloads print, after wsload's report, one line `shape_marks {...}`: when (since
// the engine's start of the run) the first and the last user's behaviour began and, for
// burst-connect, when the last connect ended, with the process's rusage (user and system CPU)
// at each of those moments, so that bench/run can divide users started by the CPU the burst
// itself took. The counts are wsload's own (users_started, connections) in its --json result.

#include <wsload/wsload.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "peak_rss.hpp"

using namespace std::chrono_literals;

namespace {

std::string workload = "burst";

/// A moment of the burst: its time since the run's start and the process's CPU then.
struct mark {
    std::int64_t at_ns = -1;  ///< -1: never reached
    double user_s = 0, sys_s = 0;

    void take(wsload::user& u)
    {
        at_ns = std::chrono::nanoseconds(wsload::clock::now() - u.worker().run().started_at).count();
        ::rusage r{};
        ::getrusage(RUSAGE_SELF, &r);
        user_s = static_cast<double>(r.ru_utime.tv_sec) + static_cast<double>(r.ru_utime.tv_usec) * 1e-6;
        sys_s = static_cast<double>(r.ru_stime.tv_sec) + static_cast<double>(r.ru_stime.tv_usec) * 1e-6;
    }
};

/// Counts by 100 ms since the run's start (the last slot takes everything later): the burst's
/// shape over time, printed with the marks.
struct by_100ms {
    static constexpr std::size_t slots = 600;
    std::array<std::atomic<std::uint32_t>, slots> counts{};

    void add(wsload::user& u)
    {
        const auto t = wsload::clock::now() - u.worker().run().started_at;
        const auto k = static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::milliseconds>(t).count() / 100);
        counts[std::min(k, slots - 1)].fetch_add(1, std::memory_order_relaxed);
    }
    void print(const char* name) const
    {
        std::size_t last = 0;
        for (std::size_t k = 0; k < slots; ++k)
            if (counts[k].load() != 0) last = k + 1;
        std::printf("\"%s\":[", name);
        for (std::size_t k = 0; k < last; ++k) std::printf("%s%u", k ? "," : "", counts[k].load());
        std::printf("],");
    }
};

/// The burst's moments. Each count is bumped by every user, on whichever thread it lives; the
/// user whose bump reaches the first or the last one takes that mark (once), so no lock and no
/// per-user record. Read by main() after the run, once the engine's threads are joined.
struct burst_marks {
    std::atomic<std::uint64_t> began{0};  ///< behaviours that have started running
    std::atomic<std::uint64_t> ended_connect{0};  ///< burst-connect: connects over (opened or failed)
    mark first_began, last_began, last_connect;
    by_100ms began_at, opened_at, failed_at;  ///< behaviours begun, connects opened and failed, by 100 ms
} marks;

/// Counts this user's start; the first and the last of `users` take their mark.
void count_start(wsload::user& u)
{
    const auto n = marks.began.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (n == 1) marks.first_began.take(u);
    if (n == u.config().users) marks.last_began.take(u);
    marks.began_at.add(u);
}

/// Until the run ends, as the hold's idle user waits (its one timer, made at its first wait).
wsload::task<> wait_for_the_end(wsload::user& u)
{
    while (u.running()) co_await u.think(u.config().duration);
}

wsload::task<> burst_user(wsload::user& u)
{
    count_start(u);
    co_await wait_for_the_end(u);
}

wsload::task<> burst_connect_user(wsload::user& u)
{
    count_start(u);
    auto ws = co_await u.websocket();
    (ws ? marks.opened_at : marks.failed_at).add(u);
    if (marks.ended_connect.fetch_add(1, std::memory_order_acq_rel) + 1 == u.config().users) marks.last_connect.take(u);
    if (ws) co_await ws.wait_closed();  // until the run's end closes it (or the server does)
}

wsload::task<> bench_user(wsload::user& u)
{
    if (workload == "burst-connect") return burst_connect_user(u);
    return burst_user(u);
}

/// The open model's iteration: nothing to do, so the figures are the engine's own cost of
/// starting an iteration on time.
wsload::task<> trivial_iteration(wsload::user&) { co_return; }

/// What --workload asks for, read before the scenario is built: the open model's behaviour
/// must be in the iteration form (wsload::iterations), a burst's is a plain coroutine.
std::string_view workload_asked(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--workload" && i + 1 < argc) return argv[i + 1];
        if (a.starts_with("--workload=")) return a.substr(11);
    }
    return "burst";
}

void print_mark(const char* name, const mark& m, bool last)
{
    std::printf("\"%s\":{\"at_ns\":%lld,\"user_s\":%.6f,\"sys_s\":%.6f}%s", name, static_cast<long long>(m.at_ns),
                m.user_s, m.sys_s, last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv)
{
    auto s = wsload::scenario("shape_client");
    s.target("ws://127.0.0.1:9000/ws")
        .users(1000)
        .duration(10s)
        .threads(1)
        .flag("workload", workload, "what the users do", {"burst", "burst-connect", "arrival"});
    if (workload_asked(argc, argv) == "arrival")
        s.behavior(wsload::iterations(trivial_iteration));
    else
        s.behavior(bench_user);
    const int status = s.run(argc, argv);
    if (workload != "arrival") {
        std::printf("shape_marks {\"workload\":\"%s\",\"began\":%llu,\"connects_ended\":%llu,", workload.c_str(),
                    static_cast<unsigned long long>(marks.began.load()),
                    static_cast<unsigned long long>(marks.ended_connect.load()));
        marks.began_at.print("began_by_100ms");
        marks.opened_at.print("opened_by_100ms");
        marks.failed_at.print("failed_by_100ms");
        print_mark("first_began", marks.first_began, false);
        print_mark("last_began", marks.last_began, false);
        print_mark("last_connect", marks.last_connect, true);
        std::printf("}\n");
    }
    print_peak_rss();
    return status;
}
