// chat_server: the TCP chat server that seed 001's scenario (chat_bench) talks to, in the
// manner of muduo's "chatserver": newline-delimited JSON objects over raw TCP, each with a msgid.
//
//   chat_server [--host 127.0.0.1] [--port 6000] [--threads 1] [--password 123456]
//               [--max-line 65536]
//
// One io_context per thread; the acceptor lives on the first and hands each accepted socket
// round-robin to a thread, where the session stays. Users and groups live in memory, shared by
// all threads under one mutex; a message for a session on another thread is posted to that
// thread. Each session writes from one queue, so replies and forwarded lines never interleave.
//
// Once listening it prints `chat_server listening on <host>:<port>` on stdout (tests read the
// port from it). SIGINT/SIGTERM: stop accepting, close every connection, exit 0 within ~2 s, and
// print on stderr one line with the connections accepted, logins, messages received and
// messages forwarded.
// Exit status: 0 after a signal, 1 when it cannot listen, 2 for a bad command line.
//
// Protocol. One JSON object per line, "\n" or "\r\n" ended; empty lines are ignored. Replies
// are one line each, "\n" ended, with their fields in the order shown. A forwarded line is the
// request line byte for byte, without the "\r" of a "\r\n". `seq`, when the request has one, is
// echoed as given (any JSON value) and left out otherwise. The server acts for the user logged
// in on the connection; the `id` field of requests after LOGIN is not checked.
//
//   1 LOGIN       {"msgid":1,"id":<int>,"password":"<text>"}
//              -> 2 {"msgid":2,"errno":0,"id":<id>,"name":"user<id>"}
//                 errno 1 "errmsg":"wrong password"      (every id's password is --password)
//                 errno 2 "errmsg":"already online"      (id logged in on another connection)
//                 errno 3 "errmsg":"already logged in as <other id>" (LOGOUT first)
//                 A failed LOGIN reply is {"msgid":2,"errno":<n>,"id":<id>,"errmsg":"..."}.
//                 LOGIN again with the same id on the same connection is answered errno 0.
//   3 LOGOUT      {"msgid":3}                     -> no reply; the connection stays open.
//   5 ONE_CHAT    {"msgid":5,"id":<from>,"toid":<to>,"msg":"<text>","seq":<any>}
//              -> the line, unchanged, to `toid` if online (to oneself too);
//                 6 {"msgid":6,"seq":<seq>,"errno":0} to the sender, or errno 1 "errmsg":"offline".
//   7 CREATE_GROUP {"msgid":7,"id":..,"groupname":"<text>","seq":..}
//              -> 8 {"msgid":8,"errno":0,"groupid":<new int, from 1>,"seq":..}; the creator joins.
//   9 ADD_GROUP   {"msgid":9,"id":..,"groupid":<int>,"seq":..}
//              -> 10 {"msgid":10,"errno":0,"seq":..} (also when already a member), or errno 1
//                 "errmsg":"no such group".
//  11 GROUP_CHAT  {"msgid":11,"id":..,"groupid":<int>,"msg":"<text>","seq":..}
//              -> the line, unchanged, to every other online member;
//                 12 {"msgid":12,"seq":..,"errno":0,"delivered":<n>}, or errno 1 "errmsg":"not a
//                 member" (also when there is no such group).
//  13 ECHO        {"msgid":13,...}                -> 14 with the same fields in the same order,
//                 msgid changed (values are written anew: 1.5 may come back as 1.5E0).
//  99 ERROR       {"msgid":99,"errno":<code>,"errmsg":"<why>"}; the connection is kept but for 413:
//                 400 invalid JSON, not an object, msgid missing, not an integer or unknown, or a
//                     field of the wrong type (id, toid, groupid integers; password, groupname
//                     strings);
//                 401 "login first": anything but LOGIN before a successful LOGIN;
//                 413 "line over --max-line <n> bytes": sent before the connection is closed,
//                     for a line (the bytes before "\n") longer than --max-line.
// Groups and their members outlive logouts; users exist as soon as they log in. A connection
// that falls 64 MiB behind reading what is sent to it is closed.

#include <wsload/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <deque>
#include <exception>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace json = boost::json;
namespace po = boost::program_options;
namespace bi = boost::intrusive;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

// As im_server: io_context executors throughout, cheaper than any_io_executor per operation.
using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, executor_type>;
using timer_type = net::basic_waitable_timer<std::chrono::steady_clock,
                                             net::wait_traits<std::chrono::steady_clock>,
                                             executor_type>;
using signal_set_type = net::basic_signal_set<executor_type>;
template <class T = void>
using task = net::awaitable<T, executor_type>;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<executor_type>{});

// On SIGINT/SIGTERM every socket is closed at once; past this the io_contexts are stopped
// outright (a write still blocked on a peer that reads nothing).
constexpr auto shutdown_hard = 1800ms;
// A peer that reads nothing while others send to it would otherwise grow its queue without end.
constexpr std::size_t max_queued_bytes = 64 * 1024 * 1024;
// Lines queued per gathered write: fewer system calls when forwarded lines pile up.
constexpr std::size_t lines_per_write = 64;
// A typical request parses into this without touching the heap.
constexpr std::size_t parse_stack_bytes = 4096;

namespace msgid {
constexpr std::int64_t login = 1, login_ack = 2, logout = 3, one_chat = 5, chat_ack = 6, create_group = 7,
                       create_group_ack = 8, add_group = 9, add_group_ack = 10, group_chat = 11,
                       group_chat_ack = 12, echo = 13, echo_reply = 14, error = 99;
} // namespace msgid

// A command-line mistake; main prints it after "chat_server: " and exits 2.
struct bad_flag : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6000;
    std::size_t threads = 1;
    std::string password = "123456";
    std::size_t max_line = 65536;
};

// ---------------------------------------------------------------------------------------------
// Command line

long long ranged_flag(po::variables_map const& vm, char const* name, long long low, long long high,
                      char const* hint)
{
    auto const value = vm[name].as<long long>();
    if (value < low || value > high)
        throw bad_flag(std::string("--") + name + ": " + std::to_string(value) +
                       " is out of range (" + hint + ")");
    return value;
}

// nullopt when --help was printed.
std::optional<config> parse_command_line(int argc, char** argv)
{
    po::options_description options("chat_server options");
    // clang-format off
    options.add_options()
        ("help", "print this help and exit")
        ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on")
        ("port", po::value<long long>()->default_value(6000), "TCP port; 0 picks a free one")
        ("threads", po::value<long long>()->default_value(1), "I/O threads, one io_context each")
        ("password", po::value<std::string>()->default_value("123456"), "the password of every user id")
        ("max-line", po::value<long long>()->default_value(65536),
            "longest request line in bytes; a longer one closes the connection");
    // clang-format on

    po::variables_map vm;
    try {
        // An empty positional description makes a stray word an error instead of ignored.
        po::store(po::command_line_parser(argc, argv)
                      .options(options)
                      .positional(po::positional_options_description{})
                      .run(),
                  vm);
        po::notify(vm);
    } catch (po::error const& e) {
        throw bad_flag(std::string(e.what()) + " (see --help)");
    }
    if (vm.count("help")) {
        std::cout << "usage: chat_server [options]\n"
                  << "A chat server speaking newline-delimited JSON over TCP (muduo chatserver style).\n\n"
                  << options;
        return std::nullopt;
    }

    config cfg;
    cfg.host = vm["host"].as<std::string>();
    cfg.port = static_cast<std::uint16_t>(ranged_flag(vm, "port", 0, 65535, "use 0-65535; 0 picks a free port"));
    cfg.threads = static_cast<std::size_t>(ranged_flag(vm, "threads", 1, 1024, "use 1-1024"));
    cfg.password = vm["password"].as<std::string>();
    cfg.max_line = static_cast<std::size_t>(
        ranged_flag(vm, "max-line", 1, 1 << 30, "use 1 to 1073741824 bytes, e.g. 65536"));
    return cfg;
}

tcp::endpoint resolve_listen_endpoint(config const& cfg)
{
    error_code ec;
    auto const address = net::ip::make_address(cfg.host, ec);
    if (!ec) return {address, cfg.port};
    // Not numeric (e.g. "localhost"): take the first address the resolver gives.
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    auto const results = resolver.resolve(cfg.host, std::to_string(cfg.port), ec);
    if (ec || results.empty())
        throw bad_flag("--host: cannot resolve " + wsload::detail::quoted(cfg.host) +
                       " (use an address such as 127.0.0.1)");
    return results.begin()->endpoint();
}

// ---------------------------------------------------------------------------------------------
// Sessions, the threads that own them, and the shared users and groups

using line_ptr = std::shared_ptr<std::string const>; // one forwarded line, shared by its recipients

struct server;
struct worker;

// One connection, touched only on its worker's thread: other threads reach it through
// net::post. Kept alive by shared_ptr: its coroutines, the online map and posted deliveries
// hold it, and each lets go on the session's own thread (or in main after the threads joined).
struct session : bi::list_base_hook<bi::link_mode<bi::auto_unlink>>, std::enable_shared_from_this<session> {
    session(server& srv, worker& w, socket_type s);
    session(session const&) = delete;
    session& operator=(session const&) = delete;
    ~session();

    void send(line_ptr line);
    void close();

    server& srv;
    worker& owner;
    socket_type socket;
    std::optional<std::int64_t> user; // logged in as
    std::deque<line_ptr> queue;       // to write, in order
    std::size_t queued_bytes = 0;
    int tasks = 1;                    // the reader, and the writer while it runs
    bool writing = false;
    bool closed = false;
    bool close_when_flushed = false;  // the 413 reply is the last line
};

using session_list = bi::list<session, bi::constant_time_size<false>>;

struct worker {
    // Declared before the io_context so that it outlives it: after a hard stop, destroying the
    // io_context destroys parked coroutine frames, whose sessions unlink themselves.
    session_list sessions;

    net::io_context ioc{1};
    net::executor_work_guard<executor_type> keep_running = net::make_work_guard(ioc);
    bool stopping = false;

    // Touched only on this worker's thread; main reads them after joining it.
    std::uint64_t accepted = 0;
    std::uint64_t logins = 0;
    std::uint64_t received = 0;
    std::uint64_t forwarded = 0;

    void begin_shutdown()
    {
        stopping = true;
        keep_running.reset();
        for (auto& s : sessions) s.close();
    }
};

struct group {
    std::string name;
    std::unordered_set<std::int64_t> members;
};

struct server {
    config cfg;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<std::size_t> live_sessions{0}; // session objects not yet destroyed
    int stopped_by = 0;

    // Users and groups: a test server, so one mutex; what is done under it is a few lookups.
    std::mutex mutex;
    std::unordered_map<std::int64_t, std::shared_ptr<session>> online;
    std::unordered_map<std::int64_t, group> groups;
    std::int64_t next_group = 1;

    void stop_now()
    {
        for (auto& w : workers) w->ioc.stop();
    }
};

session::session(server& s, worker& w, socket_type sock) : srv(s), owner(w), socket(std::move(sock))
{
    srv.live_sessions.fetch_add(1, std::memory_order_acq_rel);
}

session::~session()
{
    srv.live_sessions.fetch_sub(1, std::memory_order_acq_rel);
}

void session::close()
{
    closed = true;
    error_code ignored;
    socket.close(ignored); // pending reads and writes end with operation_aborted
}

void report_failure(std::exception_ptr e)
{
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& x) {
        std::cerr << "chat_server: internal error: " << x.what() << '\n';
    }
}

// A session's reader and writer each count in `tasks`; the last to end takes the session off
// its worker's list, on its own thread.
void task_done(session& s)
{
    if (--s.tasks == 0) s.unlink();
}

// Writes the queue out, a batch at a time, until it is empty. One runs per session at most.
task<> write_loop(std::shared_ptr<session> s)
{
    std::vector<net::const_buffer> batch;
    while (!s->queue.empty() && !s->closed) {
        batch.clear();
        // Lines sent while this write is pending go to the back; these stay put at the front.
        for (auto const& line : s->queue) {
            batch.push_back(net::buffer(*line));
            if (batch.size() == lines_per_write) break;
        }
        auto [ec, n] = co_await net::async_write(s->socket, batch, use_tuple);
        if (ec) {
            s->close();
            break;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            s->queued_bytes -= s->queue.front()->size();
            s->queue.pop_front();
        }
    }
    s->writing = false;
    if (s->closed) {
        s->queue.clear();
        s->queued_bytes = 0;
    } else if (s->close_when_flushed) {
        // FIN after the 413 reply; the reader drains what the peer still sends, then closes.
        error_code ignored;
        s->socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
    task_done(*s);
}

void session::send(line_ptr line)
{
    // After the 413 reply nothing more: the peer is told why the connection ends, last.
    if (closed || close_when_flushed) return;
    queued_bytes += line->size();
    if (queued_bytes > max_queued_bytes) {
        close();
        return;
    }
    queue.push_back(std::move(line));
    if (!writing) {
        writing = true;
        ++tasks;
        net::co_spawn(owner.ioc, write_loop(shared_from_this()), report_failure);
    }
}

// Hands `line` to `to`, posting it when `to` lives on another thread. `to` is moved into the
// posted handler, so that its last reference, if it is that one, dies on `to`'s own thread.
void deliver(worker& here, std::shared_ptr<session> to, line_ptr const& line)
{
    ++here.forwarded;
    if (&to->owner == &here) {
        to->send(line);
        return;
    }
    auto& there = to->owner.ioc;
    net::post(there, [to = std::move(to), line]() mutable { to->send(std::move(line)); });
}

// ---------------------------------------------------------------------------------------------
// Requests

// One reply line, built field by field in the order the protocol shows.
class reply {
public:
    explicit reply(std::int64_t id) : text_("{\"msgid\":" + std::to_string(id)) {}

    reply& number(std::string_view key, std::int64_t value)
    {
        return raw(key, std::to_string(value));
    }
    reply& text(std::string_view key, std::string_view value)
    {
        return raw(key, json::serialize(json::string_view(value.data(), value.size())));
    }
    // The request's value as given (`seq`); nothing when the request had none.
    reply& echoed(std::string_view key, json::value const* value)
    {
        if (!value) return *this;
        return raw(key, value->is_int64() ? std::to_string(value->get_int64()) : json::serialize(*value));
    }
    // Ends the line and hands it over; the reply is spent.
    line_ptr line()
    {
        text_ += "}\n";
        return std::make_shared<std::string const>(std::move(text_));
    }

private:
    reply& raw(std::string_view key, std::string_view json_value)
    {
        text_ += ",\"";
        text_ += key;
        text_ += "\":";
        text_ += json_value;
        return *this;
    }

    std::string text_;
};

line_ptr error_line(int code, std::string_view why)
{
    return reply(msgid::error).number("errno", code).text("errmsg", why).line();
}

// Integers only: 5.0 or "5" is a client bug worth a 400.
std::optional<std::int64_t> int_field(json::object const& o, std::string_view key)
{
    auto const* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(v->get_uint64());
    return std::nullopt;
}

std::optional<std::string_view> string_field(json::object const& o, std::string_view key)
{
    auto const* v = o.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string_view(v->get_string());
}

line_ptr bad_field(std::string_view request, std::string_view field, std::string_view type)
{
    return error_line(400, std::string(request) + ": \"" + std::string(field) + "\" must be " + std::string(type));
}

// The forwarded copy of a chat line: as received, without its "\r" if it had one.
line_ptr forwarded_line(std::string_view line)
{
    std::string text;
    text.reserve(line.size() + 1);
    text.append(line);
    text += '\n';
    return std::make_shared<std::string const>(std::move(text));
}

void handle_login(session& s, json::object const& req)
{
    auto& srv = s.srv;
    auto const id = int_field(req, "id");
    if (!id) return s.send(bad_field("LOGIN", "id", "an integer"));
    auto const password = string_field(req, "password");
    if (!password) return s.send(bad_field("LOGIN", "password", "a string"));

    auto const refuse = [&](int code, std::string_view why) {
        s.send(reply(msgid::login_ack).number("errno", code).number("id", *id).text("errmsg", why).line());
    };
    if (s.user && *s.user != *id) return refuse(3, "already logged in as " + std::to_string(*s.user));
    if (*password != srv.cfg.password) return refuse(1, "wrong password");
    if (!s.user) {
        {
            std::lock_guard lock(srv.mutex);
            if (!srv.online.try_emplace(*id, s.shared_from_this()).second) return refuse(2, "already online");
        }
        s.user = *id;
        ++s.owner.logins;
    }
    auto const name = "user" + std::to_string(*id);
    s.send(reply(msgid::login_ack).number("errno", 0).number("id", *id).text("name", name).line());
}

// Takes the session's user off the online map, if it is still there as this session.
void log_out(session& s)
{
    if (!s.user) return;
    std::shared_ptr<session> dropped; // released after the lock
    {
        std::lock_guard lock(s.srv.mutex);
        auto const it = s.srv.online.find(*s.user);
        if (it != s.srv.online.end() && it->second.get() == &s) {
            dropped = std::move(it->second);
            s.srv.online.erase(it);
        }
    }
    s.user.reset();
}

void handle_one_chat(session& s, json::object const& req, std::string_view line)
{
    auto const to = int_field(req, "toid");
    if (!to) return s.send(bad_field("ONE_CHAT", "toid", "an integer"));
    std::shared_ptr<session> target;
    {
        std::lock_guard lock(s.srv.mutex);
        if (auto const it = s.srv.online.find(*to); it != s.srv.online.end()) target = it->second;
    }
    auto ack = reply(msgid::chat_ack).echoed("seq", req.if_contains("seq"));
    if (!target) return s.send(ack.number("errno", 1).text("errmsg", "offline").line());
    deliver(s.owner, std::move(target), forwarded_line(line));
    s.send(ack.number("errno", 0).line());
}

void handle_create_group(session& s, json::object const& req)
{
    auto const name = string_field(req, "groupname");
    if (!name) return s.send(bad_field("CREATE_GROUP", "groupname", "a string"));
    std::int64_t id = 0;
    {
        std::lock_guard lock(s.srv.mutex);
        id = s.srv.next_group++;
        auto& g = s.srv.groups[id];
        g.name = *name;
        g.members.insert(*s.user);
    }
    auto const* seq = req.if_contains("seq");
    s.send(reply(msgid::create_group_ack).number("errno", 0).number("groupid", id).echoed("seq", seq).line());
}

void handle_add_group(session& s, json::object const& req)
{
    auto const id = int_field(req, "groupid");
    if (!id) return s.send(bad_field("ADD_GROUP", "groupid", "an integer"));
    bool found = false;
    {
        std::lock_guard lock(s.srv.mutex);
        if (auto const it = s.srv.groups.find(*id); it != s.srv.groups.end()) {
            it->second.members.insert(*s.user);
            found = true;
        }
    }
    auto r = reply(msgid::add_group_ack).number("errno", found ? 0 : 1);
    if (!found) r.text("errmsg", "no such group");
    s.send(r.echoed("seq", req.if_contains("seq")).line());
}

void handle_group_chat(session& s, json::object const& req, std::string_view line)
{
    auto const id = int_field(req, "groupid");
    if (!id) return s.send(bad_field("GROUP_CHAT", "groupid", "an integer"));
    // Reused by every group message on this thread: no allocation per message once grown.
    thread_local std::vector<std::shared_ptr<session>> targets;
    targets.clear();
    bool member = false;
    {
        std::lock_guard lock(s.srv.mutex);
        auto const it = s.srv.groups.find(*id);
        member = it != s.srv.groups.end() && it->second.members.contains(*s.user);
        if (member)
            for (auto const m : it->second.members) {
                if (m == *s.user) continue;
                if (auto const o = s.srv.online.find(m); o != s.srv.online.end()) targets.push_back(o->second);
            }
    }
    auto ack = reply(msgid::group_chat_ack).echoed("seq", req.if_contains("seq"));
    if (!member) return s.send(ack.number("errno", 1).text("errmsg", "not a member").line());
    std::int64_t const delivered = static_cast<std::int64_t>(targets.size());
    if (!targets.empty()) {
        auto const copy = forwarded_line(line); // one copy for every member
        for (auto& t : targets) deliver(s.owner, std::move(t), copy);
        targets.clear();
    }
    s.send(ack.number("errno", 0).number("delivered", delivered).line());
}

// One request line, without its line ending. A plain function, not a coroutine: the parse
// buffer below lives on the thread's stack.
void handle_line(session& s, std::string_view line)
{
    ++s.owner.received;
    unsigned char storage[parse_stack_bytes];
    json::monotonic_resource resource(storage, sizeof storage);
    error_code ec;
    json::value request = json::parse(json::string_view(line.data(), line.size()), ec, &resource);
    if (ec) return s.send(error_line(400, "invalid JSON: " + ec.message()));
    auto* req = request.if_object();
    if (!req) return s.send(error_line(400, "not a JSON object"));
    if (!req->contains("msgid")) return s.send(error_line(400, "no msgid"));
    auto const id = int_field(*req, "msgid");
    if (!id) return s.send(error_line(400, "msgid must be an integer"));
    switch (*id) {
    case msgid::login: case msgid::logout: case msgid::one_chat: case msgid::create_group:
    case msgid::add_group: case msgid::group_chat: case msgid::echo: break;
    default: return s.send(error_line(400, "unknown msgid " + std::to_string(*id)));
    }
    if (*id == msgid::login) return handle_login(s, *req);
    if (!s.user) return s.send(error_line(401, "login first"));
    switch (*id) {
    case msgid::logout: return log_out(s);
    case msgid::one_chat: return handle_one_chat(s, *req, line);
    case msgid::create_group: return handle_create_group(s, *req);
    case msgid::add_group: return handle_add_group(s, *req);
    case msgid::group_chat: return handle_group_chat(s, *req, line);
    case msgid::echo:
        (*req)["msgid"] = static_cast<std::int64_t>(msgid::echo_reply);
        return s.send(std::make_shared<std::string const>(json::serialize(*req) + '\n'));
    default: return;
    }
}

// Reads and drops what the peer sends until it closes: closing a socket with unread bytes
// sends a reset, which can destroy the 413 reply before the peer reads it.
task<> drain(std::shared_ptr<session> s)
{
    char scratch[4096];
    for (;;) {
        auto [ec, n] = co_await s->socket.async_read_some(net::buffer(scratch), use_tuple);
        if (ec) co_return;
    }
}

task<> sleep_for(std::chrono::steady_clock::duration d)
{
    timer_type timer(co_await net::this_coro::executor, d);
    co_await timer.async_wait(use_tuple);
}

// One connection, from the accepted socket to its close. Runs on `w`'s thread only; `srv`
// and `w` live until main returns.
task<> run_session(server& srv, worker& w, socket_type socket)
{
    using namespace net::experimental::awaitable_operators;
    ++w.accepted;
    auto const s = std::make_shared<session>(srv, w, std::move(socket));
    w.sessions.push_back(*s);
    if (w.stopping) s->close();

    std::string buffer;
    auto const max_line = srv.cfg.max_line;
    while (!s->closed) {
        // Room for the longest line and its "\n": a longer line fills it and ends with not_found.
        auto [ec, n] = co_await net::async_read_until(s->socket, net::dynamic_buffer(buffer, max_line + 1), '\n',
                                                      use_tuple);
        if (ec == net::error::not_found) {
            s->send(error_line(413, "line over --max-line " + std::to_string(max_line) + " bytes"));
            s->close_when_flushed = true;
            log_out(*s);
            std::string{}.swap(buffer);
            co_await (drain(s) || sleep_for(2s));
            break;
        }
        if (ec) break;
        std::string_view line(buffer.data(), n - 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) handle_line(*s, line);
        buffer.erase(0, n);
    }
    log_out(*s);
    s->close();
    task_done(*s);
}

// Runs on the first worker; `srv` and `acceptor` live until main returns.
task<> accept_loop(server& srv, acceptor_type& acceptor)
{
    timer_type backoff(co_await net::this_coro::executor);
    bool reported = false;
    for (std::size_t next = 0;; next = (next + 1) % srv.workers.size()) {
        auto& target = *srv.workers[next];
        // The socket is created on the target's io_context and stays there.
        auto [ec, socket] = co_await acceptor.async_accept(target.ioc, use_tuple);
        if (!acceptor.is_open() || ec == net::error::operation_aborted) co_return;
        if (ec) {
            // Typically out of descriptors: pause instead of spinning on a full fd table.
            if (!reported) std::cerr << "chat_server: accept failed: " << ec.message() << " (retrying)\n";
            reported = true;
            backoff.expires_after(50ms);
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        net::co_spawn(target.ioc, run_session(srv, target, std::move(socket)), report_failure);
    }
}

// Runs on the first worker: the stop, bounded so that it ends within ~2 s.
task<> stop_on_signal(server& srv, acceptor_type& acceptor, signal_set_type& signals)
{
    auto [ec, signo] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    srv.stopped_by = signo;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& w : srv.workers) net::post(w->ioc, [&w = *w] { w.begin_shutdown(); });
    // A second signal does not wait.
    signals.async_wait([&srv](error_code e, int) {
        if (!e) srv.stop_now();
    });

    timer_type tick(co_await net::this_coro::executor);
    auto const start = std::chrono::steady_clock::now();
    while (srv.live_sessions.load(std::memory_order_acquire) > 0) {
        if (std::chrono::steady_clock::now() - start >= shutdown_hard) {
            srv.stop_now();
            break;
        }
        tick.expires_after(10ms);
        co_await tick.async_wait(use_tuple);
    }
    signals.cancel(ignored);
}

std::string endpoint_text(tcp::endpoint const& ep)
{
    auto const address = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

char const* signal_name(int signo)
{
    switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
    }
}

} // namespace

int main(int argc, char** argv)
{
    // Sockets already write with MSG_NOSIGNAL; this keeps a closed stderr (a test runner that
    // went away) from turning the final stats line into a SIGPIPE death.
    std::signal(SIGPIPE, SIG_IGN);

    server srv;
    tcp::endpoint endpoint;
    try {
        auto cfg = parse_command_line(argc, argv);
        if (!cfg) return 0;
        srv.cfg = std::move(*cfg);
        endpoint = resolve_listen_endpoint(srv.cfg);
    } catch (bad_flag const& e) {
        std::cerr << "chat_server: " << e.what() << '\n';
        return 2;
    }

    for (std::size_t i = 0; i < srv.cfg.threads; ++i) srv.workers.push_back(std::make_unique<worker>());
    auto& first = *srv.workers.front();

    acceptor_type acceptor(first.ioc);
    try {
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
    } catch (boost::system::system_error const& e) {
        std::cerr << "chat_server: cannot listen on " << endpoint_text(endpoint) << ": "
                  << e.code().message() << '\n';
        return 1;
    }

    // Installed before the readiness line, so a test may signal as soon as it reads it.
    signal_set_type signals(first.ioc, SIGINT, SIGTERM);

    net::co_spawn(first.ioc, accept_loop(srv, acceptor), report_failure);
    net::co_spawn(first.ioc, stop_on_signal(srv, acceptor, signals), report_failure);

    std::cout << "chat_server listening on " << endpoint_text(acceptor.local_endpoint()) << std::endl;

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < srv.workers.size(); ++i)
        threads.emplace_back([&w = *srv.workers[i]] { w.ioc.run(); });
    first.ioc.run();
    for (auto& t : threads) t.join();
    // Sessions still online after a hard stop hold sockets of the io_contexts: let them go first.
    srv.online.clear();

    std::uint64_t accepted = 0, logins = 0, received = 0, forwarded = 0;
    for (auto const& w : srv.workers) {
        accepted += w->accepted;
        logins += w->logins;
        received += w->received;
        forwarded += w->forwarded;
    }
    std::cerr << "chat_server: stopped by " << signal_name(srv.stopped_by) << ": " << accepted
              << " connections accepted, " << logins << " logins, " << received << " messages received, "
              << forwarded << " messages forwarded\n";
    return 0;
}
