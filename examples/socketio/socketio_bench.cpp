// socketio_bench: seed 003's WebSocket stress test of a Socket.IO server, as a wsload scenario
// (socketio_server.js in this folder is the server: npm's socket.io v4 with a handler delay).
//
//   socketio_bench levels --server http://127.0.0.1:3000 --clients 20,50,100 --duration 10
//                                       the seed's scenarios: levels of concurrent clients, each
//                                       client sending requests as emits with an ack, one after
//                                       the other (or one per --interval); one table row per level
//   (= --target http://127.0.0.1:3000 --steps 20,50,100 --step-duration 10)
//   socketio_bench --target http://127.0.0.1:3000/chat --users 50 --duration 30s --auth '{"token":"t"}'
//                                       any other wsload shape and flag
//
// Every ack's latency is recorded from the emit's intended time (request "request", type SIO),
// the namespace connect as request "connect /"; wsload's report comes first, then the seed's
// comparison table: concurrency, total requests, success rate, average and maximum response
// time, throughput.

#include <wsload/wsload.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::chrono::nanoseconds interval = 0s;  // 0: a closed loop, the next emit when the ack came
std::chrono::nanoseconds ack_timeout = 10s;
std::uint64_t requests_per_client = 0;  // 0: as many as the level's duration allows
std::uint64_t payload_bytes = 64;
std::string auth;

wsload::task<> client(wsload::user& u)
{
    auto io = co_await wsload::socketio::connect(u, wsload::socketio::options().auth(auth));
    if (!io) co_return;  // counted: the WebSocket's attempt, or the "connect /" request
    const std::string filler(payload_bytes, 'x');
    // 0: a closed loop (the next emit when the ack came, measured from its own send).
    wsload::send_pacer emits(u, wsload::pacing::every(interval));
    for (std::uint64_t n = 1; io.is_open(); ++n) {
        if (requests_per_client && n > requests_per_client) {
            co_await io.wait_closed();  // done: hold the connection until the run ends
            break;
        }
        if (!co_await emits.next()) break;  // the user is stopping
        const auto request = boost::json::serialize(boost::json::object{{"id", n}, {"user", u.index()}, {"data", filler}});
        co_await io.emit_with_ack("request", request, {.timeout = ack_timeout, .intended_at = emits.due(), .name = "request"});
    }
}

// ---- the seed's table ----------------------------------------------------------------------

/// The "request" rows of a level: requests that ended in it (answered, rejected, timed out or
/// failed; one sent at a level's end and answered in the next counts in the next).
struct level_figures {
    std::uint64_t ended = 0, answered = 0;
    double avg_ms = 0, max_ms = 0;
};

level_figures requests_of(const wsload::stats::totals& t)
{
    level_figures f;
    for (const auto& [key, named] : t.requests)
        if (key.name == "request") {
            f.ended += named.answered + named.rejected + named.timed_out + named.failed;
            f.answered += named.answered;
            f.avg_ms = named.round_trip.mean() / 1e6;
            f.max_ms = double(named.round_trip.max()) / 1e6;
        }
    return f;
}

void seed_table(std::FILE* out, const wsload::stats::run_info& info, const wsload::stats::run_result& r)
{
    std::fprintf(out, "\n===== Socket.IO stress test (seed 003) =====\nserver: %s\n", info.target.c_str());
    std::fprintf(out, "| %-12s | %11s | %14s | %12s | %17s | %17s | %18s |\n", "scenario", "concurrency", "total requests",
                 "success rate", "avg response (ms)", "max response (ms)", "throughput (req/s)");
    std::fprintf(out, "|--------------|-------------|----------------|--------------|-------------------|-------------------|--------------------|\n");
    const auto row = [&](const std::string& name, std::uint64_t users, const wsload::stats::totals& t, double seconds) {
        const auto f = requests_of(t);
        std::fprintf(out, "| %-12s | %11llu | %14llu | %11.2f%% | %17.2f | %17.2f | %18.2f |\n", name.c_str(),
                     static_cast<unsigned long long>(users), static_cast<unsigned long long>(f.ended),
                     f.ended ? 100.0 * double(f.answered) / double(f.ended) : 0.0, f.avg_ms, f.max_ms,
                     seconds > 0 ? double(f.answered) / seconds : 0.0);
    };
    bool any = false;
    for (const auto& p : r.phases)
        if (p.name.starts_with("level ")) {
            row(p.name, p.users, *p.totals, std::chrono::duration<double>(p.length()).count());
            any = true;
        }
    if (!any) row("run", info.users, *r.totals, std::chrono::duration<double>(r.elapsed).count());
}

/// The seed's form, rewritten into wsload's flags:
///   levels --server URL --clients LEVELS --duration D  ->  --target URL --steps LEVELS --step-duration D
std::vector<std::string> seed_arguments(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    if (args.size() < 2 || args[1] != "levels") return args;
    std::vector<std::string> out{args[0]};
    for (std::size_t i = 2; i < args.size(); ++i) {
        const auto& a = args[i];
        const bool valued = i + 1 < args.size();
        if (a == "--server" && valued) out.insert(out.end(), {"--target", args[++i]});
        else if (a == "--clients" && valued) out.insert(out.end(), {"--steps", args[++i]});
        else if (a == "--duration" && valued) out.insert(out.end(), {"--step-duration", args[++i]});
        else out.push_back(a);  // wsload's own flags pass through
    }
    return out;
}

}  // namespace

int main(int argc, char** argv)
{
    auto args = seed_arguments(argc, argv);
    std::vector<char*> argv2;
    for (auto& a : args) argv2.push_back(a.data());
    return wsload::scenario("socketio_bench")
        .target("http://127.0.0.1:3000")
        .load(wsload::steps{.levels = {20, 50, 100}, .hold = 10s, .ramp = 0s, .warmup_users = 0, .warmup = 0s})
        .flag("interval", interval, "each client emits one request per interval (0: the next when its ack came)")
        .flag("ack-timeout", ack_timeout, "how long to wait for each ack")
        .flag("requests-per-client", requests_per_client, "each client stops emitting after this many (0: no limit)")
        .flag("payload-bytes", payload_bytes, "bytes of filler in each request")
        .flag("auth", auth, "the namespace connect's auth payload, JSON (e.g. '{\"token\":\"t\"}')")
        .behavior(client)
        .summary(seed_table)
        .run(static_cast<int>(argv2.size()), argv2.data());
}
