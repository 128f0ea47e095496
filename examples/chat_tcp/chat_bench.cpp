// chat_bench: seed 001's asyncio stress tool for a TCP JSON chat server, as a wsload scenario
// (chat_server.cpp in this folder speaks the protocol; its header comment has it).
//
//   chat_bench test HOST PORT                             the connection test: connect, login,
//                                                         chat, group chat; PASS/FAIL per step,
//                                                         exit 1 if a step failed
//   chat_bench stress HOST PORT CLIENTS DURATION [--interval 0.05]
//                                                         the stress mode: CLIENTS users log in,
//                                                         then each sends a one-to-one chat to a
//                                                         random other user every --interval
//   chat_bench --mode stress --target tcp://127.0.0.1:6000 --users 100 --duration 60s ...
//                                                         the same with wsload's flags
//   chat_bench steps --server HOST --port PORT --clients 10,50,100,200 --duration 120
//       [--warmup-clients 5 --warmup-duration 30]         the seed's run_stress_test.py: the
//                                                         stress mode at each level in turn (a
//                                                         warm-up first), one report row per level
//   (= --mode stress --steps 10,50,100,200 --step-duration 120 --warmup-users 5 ...)
//
// Besides wsload's report (requests per step: login, chat; connect phases; disconnect classes),
// stress mode prints the seed's report: connection and login success rates, messages sent and
// received, average QPS, average sent per client, connect time average and maximum.

#include <wsload/wsload.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::string mode = "stress";
std::chrono::nanoseconds interval = 1s;  // the seed's --interval, in seconds by default
std::chrono::nanoseconds reply_timeout = 5s;
std::string password = "123456";
std::uint64_t first_id = 1;  // users log in as first_id, first_id + 1, ...
bool test_failed = false;    // written by the test behaviour, read by main once the run is over

/// The reply to a request: a line whose msgid is `reply_msgid` and whose seq is `seq` (the
/// server echoes it); errno 0 accepts it, any other errno rejects it (the server said no).
auto reply_to(int reply_msgid, std::int64_t seq)
{
    return [reply_msgid, seq](std::string_view text) {
        boost::system::error_code ec;
        const auto v = boost::json::parse(text, ec);
        if (ec || !v.is_object()) return wsload::reply::ignore;
        const auto& o = v.get_object();
        const auto* msgid = o.if_contains("msgid");
        if (!msgid || !msgid->is_int64() || msgid->as_int64() != reply_msgid) return wsload::reply::ignore;
        if (seq >= 0) {
            const auto* s = o.if_contains("seq");
            if (!s || !s->is_int64() || s->as_int64() != seq) return wsload::reply::ignore;
        }
        const auto* error = o.if_contains("errno");
        return error && error->is_int64() && error->as_int64() == 0 ? wsload::reply::accept : wsload::reply::reject;
    };
}

/// True when `m` is a reply whose errno is 0 (the server said yes).
bool says_ok(const std::optional<wsload::message>& m)
{
    if (!m) return false;
    boost::system::error_code ec;
    const auto v = boost::json::parse(m->text(), ec);
    if (ec || !v.is_object()) return false;
    const auto* error = v.get_object().if_contains("errno");
    return error && error->is_int64() && error->as_int64() == 0;
}

std::string login_line(std::uint64_t id)
{
    return boost::json::serialize(boost::json::object{{"msgid", 1}, {"id", id}, {"password", password}});
}

wsload::tcp::options chat_options(bool keep_pushes)
{
    // Forwarded chats nobody asked for are counted as received; stress keeps none of them.
    return wsload::tcp::options().expect_json().inbox_limit(keep_pushes ? 64 : 0);
}

// ---- stress: log in, then chat to random peers at the interval ----------------------------

wsload::task<> stress_user(wsload::user& u)
{
    auto c = co_await wsload::tcp::connect(u, chat_options(false));
    if (!c) co_return;  // counted with its reason
    const auto id = first_id + u.index();
    const auto login = co_await c.request(login_line(id), reply_to(2, -1), {.timeout = reply_timeout, .intended_at = {}, .name = "login"});
    if (!says_ok(login)) co_return;  // counted: rejected or timed out

    const auto users = u.config().users;
    wsload::send_pacer sends(u, wsload::pacing::every(interval));
    for (std::int64_t seq = 1; c.is_open(); ++seq) {
        if (!co_await sends.next()) break;  // the user is stopping
        const auto to = first_id + u.random().below(users);
        const auto line = boost::json::serialize(boost::json::object{
            {"msgid", 5}, {"id", id}, {"toid", to}, {"msg", "hello from " + std::to_string(id)}, {"seq", seq}});
        // Measured from the due time: a late send shows as latency, not as a quieter server.
        co_await c.request(line, reply_to(6, seq), {.timeout = reply_timeout, .intended_at = sends.due(), .name = "chat"});
    }
    co_await c.close();
}

// ---- test: one user walks the seed's connection test with two clients, A and B ------------

void step(bool ok, std::string_view name, std::string_view detail = {})
{
    std::printf("[%s] %.*s%s%.*s\n", ok ? "PASS" : "FAIL", static_cast<int>(name.size()), name.data(),
                detail.empty() ? "" : ": ", static_cast<int>(detail.size()), detail.data());
    std::fflush(stdout);
    if (!ok) test_failed = true;
}

/// The detail a step prints when it failed.
std::string_view explain(bool ok, std::string_view why) { return ok ? std::string_view{} : why; }

/// Waits for a pushed line with `msgid` on `c`; the line or nullopt.
wsload::task<std::optional<boost::json::object>> pushed(wsload::tcp::connection& c, int msgid)
{
    const auto until = wsload::clock::now() + reply_timeout;
    while (wsload::clock::now() < until) {
        auto m = co_await c.receive(until - wsload::clock::now());
        if (!m) break;
        auto v = boost::json::parse(m->text());
        if (v.is_object() && v.get_object().contains("msgid") && v.at("msgid") == msgid) co_return v.get_object();
    }
    co_return std::nullopt;
}

wsload::task<> test_user(wsload::user& u)
{
    auto a = co_await wsload::tcp::connect(u, chat_options(true));
    auto b = co_await wsload::tcp::connect(u, chat_options(true));
    step(a && b, "connect", explain(a && b, "see the connection failures in the report"));
    if (!a || !b) co_return;

    const auto id_a = first_id, id_b = first_id + 1;
    auto la = co_await a.request(login_line(id_a), reply_to(2, -1), {.timeout = reply_timeout, .intended_at = {}, .name = "login"});
    auto lb = co_await b.request(login_line(id_b), reply_to(2, -1), {.timeout = reply_timeout, .intended_at = {}, .name = "login"});
    const auto accepted = says_ok;
    step(accepted(la) && accepted(lb), "login", explain(accepted(la) && accepted(lb), "refused or no reply"));
    if (!accepted(la) || !accepted(lb)) co_return;

    const auto chat = boost::json::serialize(
        boost::json::object{{"msgid", 5}, {"id", id_a}, {"toid", id_b}, {"msg", "hello B"}, {"seq", 1}});
    auto ack = co_await a.request(chat, reply_to(6, 1), {.timeout = reply_timeout, .intended_at = {}, .name = "chat"});
    auto got = co_await pushed(b, 5);
    step(accepted(ack) && got && got->at("msg") == "hello B", "chat", explain(got.has_value(), "B did not receive it"));

    // Each line is built before its co_await: g++ 12 cannot keep an initializer list of string
    // literals alive across a suspension point ("array used as initializer").
    const auto create = boost::json::serialize(boost::json::object{{"msgid", 7}, {"id", id_a}, {"groupname", "g"}, {"seq", 2}});
    auto created = co_await a.request(create, reply_to(8, 2), {.timeout = reply_timeout, .intended_at = {}, .name = "create group"});
    if (!accepted(created)) {
        step(false, "group chat", "the group could not be created");
        co_return;
    }
    const auto group = boost::json::parse(created->text()).at("groupid").as_int64();
    const auto join = boost::json::serialize(boost::json::object{{"msgid", 9}, {"id", id_b}, {"groupid", group}, {"seq", 3}});
    auto joined = co_await b.request(join, reply_to(10, 3), {.timeout = reply_timeout, .intended_at = {}, .name = "join group"});
    const auto say = boost::json::serialize(
        boost::json::object{{"msgid", 11}, {"id", id_a}, {"groupid", group}, {"msg", "hello group"}, {"seq", 4}});
    auto sent = co_await a.request(say, reply_to(12, 4), {.timeout = reply_timeout, .intended_at = {}, .name = "group chat"});
    auto heard = co_await pushed(b, 11);
    step(accepted(joined) && accepted(sent) && heard && heard->at("msg") == "hello group", "group chat",
         explain(heard.has_value(), "B did not receive it"));
    co_await a.close();
    co_await b.close();
}

wsload::task<> chat_user(wsload::user& u) { return mode == "test" ? test_user(u) : stress_user(u); }

// ---- the seed's report ---------------------------------------------------------------------

void seed_report(std::FILE* out, const wsload::stats::run_info& info, const wsload::stats::run_result& r)
{
    using wsload::stats::counter_id;
    if (mode != "stress") return;
    const auto& t = *r.totals;
    const auto pct = [](std::uint64_t n, std::uint64_t of) { return of ? 100.0 * double(n) / double(of) : 0.0; };
    std::uint64_t logins_ok = 0;
    for (const auto& [key, named] : t.requests)
        if (key.name == "login") logins_ok += named.answered;
    const double seconds = std::chrono::duration<double>(r.elapsed).count();
    const auto sent = t[counter_id::messages_sent], received = t[counter_id::messages_received];
    const auto& connect = t[wsload::stats::histogram_id::connect];
    std::fprintf(out, "\n===== Stress test report (seed 001) =====\n");
    std::fprintf(out, "Configuration:\n  server: %s\n  clients: %llu\n  duration: %.0f s\n", info.target.c_str(),
                 static_cast<unsigned long long>(info.users), std::chrono::duration<double>(info.duration).count());
    std::fprintf(out, "Connections:\n  connect success: %llu/%llu (%.1f%%)\n  login success: %llu/%llu (%.1f%%)\n",
                 static_cast<unsigned long long>(t[counter_id::connect_successes]),
                 static_cast<unsigned long long>(info.users), pct(t[counter_id::connect_successes], info.users),
                 static_cast<unsigned long long>(logins_ok), static_cast<unsigned long long>(info.users),
                 pct(logins_ok, info.users));
    std::fprintf(out, "Messages:\n  sent: %llu\n  received: %llu\n  average QPS: %.2f\n  average sent per client: %.1f\n",
                 static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
                 seconds > 0 ? double(sent) / seconds : 0.0, info.users ? double(sent) / double(info.users) : 0.0);
    std::fprintf(out, "Connect time:\n  average: %.6f s\n  maximum: %.6f s\n", connect.mean() / 1e9,
                 double(connect.max()) / 1e9);
}

/// The seed's positional forms, rewritten into wsload's flags:
///   test HOST PORT  ->  --mode test --target tcp://HOST:PORT
///   stress HOST PORT CLIENTS DURATION  ->  --mode stress --target ... --users CLIENTS --duration DURATION
///   steps --server HOST --port PORT --clients LEVELS --duration D --warmup-clients N --warmup-duration D
///     ->  --mode stress --target tcp://HOST:PORT --steps LEVELS --step-duration D --warmup-users N ...
std::vector<std::string> steps_arguments(const std::vector<std::string>& args)
{
    std::vector<std::string> out{args[0], "--mode", "stress"};
    std::string host = "127.0.0.1", port = "6000";
    for (std::size_t i = 2; i < args.size(); ++i) {
        const auto& a = args[i];
        const bool valued = i + 1 < args.size();
        const auto take = [&] { return args[++i]; };
        if (a == "--server" && valued) host = take();
        else if (a == "--port" && valued) port = take();
        else if (a == "--clients" && valued) out.insert(out.end(), {"--steps", take()});
        else if (a == "--duration" && valued) out.insert(out.end(), {"--step-duration", take()});
        else if (a == "--warmup-clients" && valued) out.insert(out.end(), {"--warmup-users", take()});
        else out.push_back(a);  // wsload's own flags (--warmup-duration among them) pass through
    }
    const bool ipv6 = host.find(':') != std::string::npos;
    out.insert(out.begin() + 3, {"--target", "tcp://" + (ipv6 ? "[" + host + "]" : host) + ":" + port});
    return out;
}

std::vector<std::string> seed_arguments(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    if (args.size() >= 2 && args[1] == "steps") return steps_arguments(args);
    if (args.size() < 2 || (args[1] != "test" && args[1] != "stress")) return args;
    std::vector<std::string> out{args[0], "--mode", args[1]};
    std::size_t i = 2;
    std::vector<std::string> positional;
    while (i < args.size() && !args[i].starts_with("-")) positional.push_back(args[i++]);
    const std::size_t wanted = args[1] == "test" ? 2 : 4;
    if (positional.size() != wanted) {
        std::fprintf(stderr, "wsload: chat_bench %s takes %s (got %zu arguments before the flags)\n", args[1].c_str(),
                     wanted == 2 ? "HOST PORT" : "HOST PORT CLIENTS DURATION", positional.size());
        std::exit(2);
    }
    const auto& host = positional[0];
    const bool ipv6 = host.find(':') != std::string::npos;
    out.insert(out.end(), {"--target", "tcp://" + (ipv6 ? "[" + host + "]" : host) + ":" + positional[1]});
    if (wanted == 4) out.insert(out.end(), {"--users", positional[2], "--duration", positional[3]});
    out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return out;
}

}  // namespace

int main(int argc, char** argv)
{
    auto args = seed_arguments(argc, argv);
    std::vector<char*> argv2;
    for (auto& a : args) argv2.push_back(a.data());
    // The test mode is one user with two clients (its defaults differ; --users still wins).
    for (std::size_t i = 1; i < args.size(); ++i)
        if (args[i] == "--mode=test" || (args[i] == "--mode" && i + 1 < args.size() && args[i + 1] == "test")) mode = "test";
    auto s = wsload::scenario("chat_bench");
    s.target("tcp://127.0.0.1:6000")
        .users(mode == "test" ? 1 : 100)
        .duration(mode == "test" ? 30s : 60s)
        .flag("mode", mode, "test: the seed's connection test; stress: clients chat at --interval", {"test", "stress"})
        .flag("interval", interval, "stress: each client sends one chat message per interval (the seed's --interval)")
        .flag("reply-timeout", reply_timeout, "how long to wait for each reply")
        .flag("password", password, "the password every user logs in with")
        .flag("first-id", first_id, "users log in as first-id, first-id + 1, ...")
        .behavior(chat_user)
        .summary(seed_report);
    const int status = s.run(static_cast<int>(argv2.size()), argv2.data());
    if (status == 0 && mode == "test" && test_failed) return 1;  // a step failed
    return status;
}
