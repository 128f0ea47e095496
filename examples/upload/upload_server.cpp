// upload_server: the video upload server of seed 004 (500 students, each uploading a 15-20 MB
// video every 120 s and the server checking id uniqueness and sequence continuity), and the
// general HTTP/1.1 test server that the HTTP client's tests and benchmarks talk to.
//
//   upload_server [--host 127.0.0.1] [--port 0] [--threads 1] [--store DIR]
//                 [--max-body 67108864] [--password secret] [--tls-cert PEM --tls-key PEM]
//
// HTTP/1.1 on Boost.Beast with C++20 coroutines, or HTTPS with --tls-cert/--tls-key. One
// io_context per thread; the acceptor lives on the first and hands each accepted socket
// round-robin to a thread, where the connection stays. Logins, tokens and the per-student
// sequence bookkeeping are shared by all threads under one mutex (a few lookups per login or
// upload). Request bodies are streamed in pieces of at most 64 KiB: an upload is parsed as it
// arrives and its file bytes go to disk (--store DIR, as DIR/<student_id>/<filename>, written to
// a hidden temporary file first and renamed once the upload is accepted) or are counted and
// dropped. A connection holds no timer: each thread sweeps its connections once a second and
// closes those past their deadline, 60 s without progress (reading a request, a body piece, or
// writing a piece of a reply); a stalled client costs its connection, never a growing buffer.
//
// Once listening it prints `upload_server listening on <host>:<port>` on stdout (tests read the
// port from it). SIGINT/SIGTERM: stop accepting, close every connection, exit 0 within ~2 s, and
// print on stderr exactly one line:
//   upload_server: <logins> logins, <uploads> uploads, <bytes> bytes, <students> students,
//   <gaps> gaps, <duplicates> duplicates, <rejected> rejected
// Exit status: 0 after a signal, 1 when it cannot listen, 2 for a bad command line (including a
// --store folder that cannot be created and a certificate or key that cannot be loaded).
//
// HTTP. Keep-alive per HTTP/1.1 (HTTP/1.0 only with "Connection: keep-alive"); pipelined requests
// are answered in order. Every reply has Content-Length, but the chunked ones below and 204/304
// from /status; every reply has Date and Server. A reply sent before the request's body was read
// whole carries "Connection: close" and the connection is closed after it (FIN after the reply;
// what the client still sends is read and dropped for up to 2 s). "Expect: 100-continue"
// is answered "100 Continue" when the server starts reading the body, and not at all when it
// refuses the request first. Errors are JSON `{"error":"<why>"}` (application/json). A request
// that is not HTTP is answered 400 (431 when its header passes 16 KiB) and the connection closed.
//
// Upload API (seed 004). A student id is 1-64 of A-Z a-z 0-9 _ - . and does not begin with ".".
//   POST /api/login   body {"student_id":"test_00001","password":"<--password>"} (at most 64 KiB)
//     -> 200 {"token":"<32 hex digits>","student_id":"test_00001"}
//        and "Set-Cookie: session=<token>; Path=/; HttpOnly";
//        400 bad JSON, a field missing or not a string, a bad student id; 401 wrong password.
//        Each login makes a new token; older ones stay valid (the 64 latest per student).
//   POST /api/upload  "Authorization: Bearer <token>" or "Cookie: session=<token>", and either
//        multipart/form-data (boundary=...) with, in any order, text fields `student_id` and `seq`
//        and one file part named `file` (other parts are ignored), or a raw body of any other
//        Content-Type (application/octet-stream) with ?student_id=..&seq=..&filename=.. in the
//        target (percent-encoded). The file's name is
//        <student_id>_<yyyymmdd>_<hhmmss>_seq_<seq, zero-padded to 4 digits or more>.mp4.
//     -> 201 {"student_id":"test_00001","seq":1,"bytes":<file bytes>};
//        413 a Content-Length over --max-body: sent after the header without reading the body,
//            then the connection closes; a chunked body passing --max-body: the same, once it does;
//        401 no token or an unknown one (after the 413 check); 403 the token is another student's;
//        400 malformed multipart or HTTP body, a field missing, seq not a decimal integer >= 1,
//            or a filename that does not match the student and seq;
//        500 --store could not write the file (stderr says why; not counted as an upload).
//        Checks that need the body (multipart) are made once it has been read whole; the raw form
//        is checked from the target before its body is read.
//        Bookkeeping per student: expected = last accepted seq + 1 (1 at first). seq > expected
//        adds seq - expected to gaps and one entry to the gap list; seq < expected is a duplicate
//        (so is a filename already seen: its seq is below expected); otherwise accepted. Gaps and
//        accepted uploads advance expected to seq + 1; duplicates are still 201, and stored unless
//        their name is already taken (an accepted upload replaces a file of an earlier run).
//        An upload whose client goes away (or stalls 60 s) before its body ends is an aborted
//        upload: no reply, no bookkeeping, no file left behind.
//   GET /stats -> 200 {"logins":..,"uploads":<201 replies>,"bytes":<their file bytes>,
//        "students":<students with an upload>,"gaps":..,"duplicates":..,
//        "rejected":<4xx replies to POST /api/upload>,"aborted_uploads":..,
//        "gap_list":[{"student_id":..,"missing_from":..,"missing_to":..}, the first 100 gaps]}
//
// Test endpoints. HEAD of any GET path: the GET reply's headers (and its wait), no body.
//   GET /hello            -> 200 text/plain "hello\n"
//   GET /status/<code>    -> <code> (200-599) text/plain "status <code>\n"; 204 and 304 without
//                            body or Content-Length, 205 with an empty one; 1xx or other -> 400
//   GET /delay/<ms>       -> 200 text/plain "delayed <ms> ms\n" after <ms> (0-600000) ms
//   GET /chunked/<n>      -> 200 text/plain, Transfer-Encoding: chunked, n (0-10000000) chunks,
//                            "chunk 0\n" to "chunk <n-1>\n" (to HTTP/1.0: unchunked, then close)
//   GET /bytes/<n>        -> 200 application/octet-stream, Content-Length n (0-1073741824), n 'x'
//   GET /redirect/<n>     -> 302 Location: /redirect/<n-1>; /redirect/0 -> 302 Location: /hello
//   GET /redirect-loop    -> 302 Location: /redirect-loop
//   GET /cookies/set?a=1&b=2 -> 200 application/json {"a":"1","b":"2"}, with one
//                            "Set-Cookie: <name>=<value>; Path=/" per pair, in order; a name that
//                            is not a token or a value with bytes a cookie cannot hold -> 400
//   GET /cookies          -> 200 application/json: the Cookie header's pairs as an object
//   GET /headers          -> 200 application/json: the request's headers as an object, names in
//                            lower case, repeated headers joined with ", "
//   POST|PUT|PATCH|DELETE /echo -> 200 with the request's body (up to 16 MiB and --max-body, else
//                            413), its Content-Type (none when it had none) and "X-Method: <method>"
//   GET /close            -> 200 text/plain "closing\n" with "Connection: close", then close
//   anything else         -> 404 (a body it carries is read and dropped, up to --max-body)

#include <wsload/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace po = boost::program_options;
namespace bi = boost::intrusive;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// As chat_server: io_context executors throughout, cheaper than any_io_executor per operation.
using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using tls_stream = ssl::stream<socket_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, executor_type>;
using timer_type = net::basic_waitable_timer<clock_type, net::wait_traits<clock_type>, executor_type>;
using signal_set_type = net::basic_signal_set<executor_type>;
template <class T = void>
using task = net::awaitable<T, executor_type>;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<executor_type>{});

constexpr auto idle_timeout = 60s;      // without progress, a connection is closed
constexpr auto linger_time = 2s;        // reading what follows a closing reply, then closing
constexpr auto shutdown_hard = 1800ms;  // after a signal, the io_contexts are stopped outright
constexpr std::size_t piece_bytes = 64 * 1024;  // a body is read and written in pieces this big
constexpr std::uint32_t header_limit = 16 * 1024;
constexpr std::uint64_t login_body_limit = 64 * 1024;
constexpr std::uint64_t echo_body_limit = 16 * 1024 * 1024;
constexpr std::uint64_t max_bytes_reply = 1ull << 30;  // GET /bytes/<n>
constexpr std::uint64_t max_chunks_reply = 10'000'000; // GET /chunked/<n>
constexpr std::uint64_t max_delay_ms = 600'000;        // GET /delay/<ms>
constexpr std::uint64_t max_seq = 999'999'999;
constexpr std::size_t max_gap_list = 100;
constexpr std::size_t tokens_per_student = 64;
constexpr std::size_t max_field_bytes = 1024;          // a multipart text field
constexpr std::size_t max_part_header_bytes = 8 * 1024;
constexpr std::size_t max_boundary = 200;              // RFC 2046 says 70; be lenient

// A command-line mistake; main prints it after "upload_server: " and exits 2.
struct bad_flag : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t threads = 1;
    std::optional<fs::path> store;
    std::uint64_t max_body = 64 * 1024 * 1024;
    std::string password = "secret";
    std::string tls_cert;
    std::string tls_key;
};

// ---------------------------------------------------------------------------------------------
// Small text helpers

std::string_view sv(beast::string_view s)
{
    return {s.data(), s.size()};
}

char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The rest of `s` after `prefix`, or nothing when it does not start with it.
std::optional<std::string_view> after(std::string_view s, std::string_view prefix)
{
    if (!s.starts_with(prefix)) return std::nullopt;
    return s.substr(prefix.size());
}

// Decimal digits only (no sign, no space), at most `max`.
std::optional<std::uint64_t> parse_number(std::string_view s, std::uint64_t max)
{
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    auto const [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value > max) return std::nullopt;
    return value;
}

void append_number(std::string& out, std::uint64_t n)
{
    char digits[24];
    auto const [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    out.append(digits, end);
}

std::string in_quotes(std::string_view s)
{
    return wsload::detail::quoted(s);
}

// `n` random bytes from OpenSSL's generator, as 2n lower-case hex digits.
std::string random_hex(std::size_t n)
{
    static constexpr char hex[] = "0123456789abcdef";
    unsigned char bytes[32];
    n = std::min(n, sizeof bytes);
    if (RAND_bytes(bytes, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += hex[bytes[i] >> 4];
        out += hex[bytes[i] & 0xf];
    }
    return out;
}

// Query or form text: %XX and "+" for a space; nothing when a "%" is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view s)
{
    auto const digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = lower(c);
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            int const hi = digit(s[i + 1]), lo = digit(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Calls f(name, value) for each "name=value" of an "&"-separated query (value empty without "=").
template <class F>
void for_each_query_pair(std::string_view query, F f)
{
    while (!query.empty()) {
        auto const amp = query.find('&');
        auto const pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto const eq = pair.find('=');
        if (eq == std::string_view::npos) f(pair, std::string_view{});
        else f(pair.substr(0, eq), pair.substr(eq + 1));
    }
}

// A header value of the form `type; name=value; name="quoted value"` (Content-Type,
// Content-Disposition). Parameter names come back in lower case, quoted values unquoted.
struct header_params {
    std::string_view type;
    std::vector<std::pair<std::string, std::string>> params;

    std::optional<std::string_view> get(std::string_view name) const
    {
        for (auto const& [n, v] : params)
            if (n == name) return std::string_view(v);
        return std::nullopt;
    }
};

std::optional<header_params> parse_header_params(std::string_view value)
{
    header_params out;
    auto const semi = value.find(';');
    out.type = trim(value.substr(0, semi));
    if (semi == std::string_view::npos) return out;
    std::size_t i = semi + 1;
    while (i < value.size()) {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ';')) ++i;
        if (i == value.size()) break;
        auto const eq = value.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string name;
        for (char c : trim(value.substr(i, eq - i))) name += lower(c);
        if (name.empty()) return std::nullopt;
        i = eq + 1;
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
        std::string v;
        if (i < value.size() && value[i] == '"') {
            ++i;
            bool closed = false;
            for (; i < value.size(); ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) {
                    v += value[++i];
                } else if (value[i] == '"') {
                    closed = true;
                    ++i;
                    break;
                } else {
                    v += value[i];
                }
            }
            if (!closed) return std::nullopt;
        } else {
            auto const end = std::min(value.find(';', i), value.size());
            v = trim(value.substr(i, end - i));
            i = end;
        }
        out.params.emplace_back(std::move(name), std::move(v));
    }
    return out;
}

// Ids become folder names under --store: nothing that could climb out of it.
bool valid_student_id(std::string_view id)
{
    if (id.empty() || id.size() > 64 || id.front() == '.') return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.';
    });
}

bool all_digits(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int two_digits(std::string_view s, std::size_t at)
{
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// <student>_<yyyymmdd>_<hhmmss>_seq_<seq zero-padded to 4 digits or more>.mp4, a real date and time.
bool valid_filename(std::string_view name, std::string_view student, std::uint64_t seq)
{
    auto rest = after(name, student);
    if (!rest || !rest->starts_with('_')) return false;
    auto const stamp = rest->substr(1, 15); // yyyymmdd_hhmmss
    if (stamp.size() != 15 || stamp[8] != '_' || !all_digits(stamp.substr(0, 8)) || !all_digits(stamp.substr(9)))
        return false;
    int const month = two_digits(stamp, 4), day = two_digits(stamp, 6);
    int const hour = two_digits(stamp, 9), minute = two_digits(stamp, 11), second = two_digits(stamp, 13);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    auto const tail = after(rest->substr(16), "_seq_");
    if (!tail || !tail->ends_with(".mp4")) return false;
    auto const digits = tail->substr(0, tail->size() - 4);
    std::string expected = std::to_string(seq);
    if (expected.size() < 4) expected.insert(0, 4 - expected.size(), '0');
    return digits == expected;
}

// RFC 6265: a cookie name is a token; a value is cookie-octets.
bool valid_cookie_name(std::string_view s)
{
    static constexpr std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        auto const u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f && separators.find(c) == std::string_view::npos;
    });
}

bool valid_cookie_value(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) {
        auto const u = static_cast<unsigned char>(c);
        return u == 0x21 || (u >= 0x23 && u <= 0x2b) || (u >= 0x2d && u <= 0x3a) || (u >= 0x3c && u <= 0x5b) ||
               (u >= 0x5d && u <= 0x7e);
    });
}

// Calls f(name, value) for each pair of a Cookie header value ("a=1; b=2").
template <class F>
void for_each_cookie(std::string_view header, F f)
{
    while (!header.empty()) {
        auto const semi = header.find(';');
        auto const pair = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        auto const eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        f(trim(pair.substr(0, eq)), trim(pair.substr(eq + 1)));
    }
}

std::string_view reason(unsigned status)
{
    auto const text = sv(http::obsolete_reason(static_cast<http::status>(status)));
    if (text.empty() || text.front() == '<') return "Status"; // a code Beast has no phrase for
    return text;
}

// ---------------------------------------------------------------------------------------------
// Command line

long long ranged_flag(po::variables_map const& vm, char const* name, long long low, long long high,
                      char const* hint)
{
    auto const value = vm[name].as<long long>();
    if (value < low || value > high)
        throw bad_flag(std::string("--") + name + ": " + std::to_string(value) + " is out of range (" + hint + ")");
    return value;
}

// nullopt when --help was printed.
std::optional<config> parse_command_line(int argc, char** argv)
{
    po::options_description options("upload_server options");
    // clang-format off
    options.add_options()
        ("help", "print this help and exit")
        ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on")
        ("port", po::value<long long>()->default_value(0), "TCP port; 0 picks a free one")
        ("threads", po::value<long long>()->default_value(1), "I/O threads, one io_context each")
        ("store", po::value<std::string>(),
            "keep each upload as DIR/<student_id>/<filename> (default: count the bytes and drop them)")
        ("max-body", po::value<long long>()->default_value(64 * 1024 * 1024),
            "largest request body in bytes; a larger one is refused with 413")
        ("password", po::value<std::string>()->default_value("secret"), "the password of every student")
        ("tls-cert", po::value<std::string>(), "PEM certificate chain: serve HTTPS (needs --tls-key)")
        ("tls-key", po::value<std::string>(), "PEM private key for --tls-cert");
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
        std::cout << "usage: upload_server [options]\n"
                  << "An HTTP/1.1 server for video uploads (login, multipart or raw upload, sequence\n"
                  << "checks, /stats) and for HTTP client tests (/hello, /status, /delay, /bytes...).\n\n"
                  << options;
        return std::nullopt;
    }

    config cfg;
    cfg.host = vm["host"].as<std::string>();
    cfg.port = static_cast<std::uint16_t>(ranged_flag(vm, "port", 0, 65535, "use 0-65535; 0 picks a free port"));
    cfg.threads = static_cast<std::size_t>(ranged_flag(vm, "threads", 1, 1024, "use 1-1024"));
    cfg.max_body = static_cast<std::uint64_t>(
        ranged_flag(vm, "max-body", 1, 1ll << 40, "use 1 to 1099511627776 bytes, e.g. 67108864"));
    cfg.password = vm["password"].as<std::string>();
    if (vm.count("store")) {
        auto const dir = vm["store"].as<std::string>();
        if (dir.empty()) throw bad_flag("--store: empty folder name (use --store uploads)");
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec || !fs::is_directory(dir))
            throw bad_flag("--store: cannot create the folder " + in_quotes(dir) + ": " +
                           (ec ? ec.message() : std::string("not a folder")));
        cfg.store = fs::path(dir);
    }
    if (vm.count("tls-cert") != vm.count("tls-key"))
        throw bad_flag(vm.count("tls-cert") ? "--tls-cert needs --tls-key (the certificate's private key)"
                                            : "--tls-key needs --tls-cert (the certificate chain)");
    if (vm.count("tls-cert")) {
        cfg.tls_cert = vm["tls-cert"].as<std::string>();
        cfg.tls_key = vm["tls-key"].as<std::string>();
    }
    return cfg;
}

ssl::context make_tls_context(config const& cfg)
{
    for (auto const& [flag, file] : {std::pair{"--tls-cert", cfg.tls_cert}, std::pair{"--tls-key", cfg.tls_key}})
        if (!fs::is_regular_file(file))
            throw bad_flag(std::string(flag) + ": " + in_quotes(file) + " is not a readable file");

    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    ctx.use_certificate_chain_file(cfg.tls_cert, ec);
    if (ec) throw bad_flag("--tls-cert: cannot load " + in_quotes(cfg.tls_cert) + ": " + ec.message());
    ctx.use_private_key_file(cfg.tls_key, ssl::context::pem, ec);
    if (ec) throw bad_flag("--tls-key: cannot load " + in_quotes(cfg.tls_key) + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
        throw bad_flag("--tls-key: " + in_quotes(cfg.tls_key) + " is not the key of " + in_quotes(cfg.tls_cert));
    // OpenSSL frees its record buffers while a connection is idle.
    SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    return ctx;
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
        throw bad_flag("--host: cannot resolve " + in_quotes(cfg.host) + " (use an address such as 127.0.0.1)");
    return results.begin()->endpoint();
}

// ---------------------------------------------------------------------------------------------
// Students, tokens and the sequence bookkeeping, shared by all threads

struct totals {
    std::uint64_t logins = 0;
    std::uint64_t uploads = 0;
    std::uint64_t bytes = 0;
    std::uint64_t students = 0;
    std::uint64_t gaps = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t rejected = 0;
    std::uint64_t aborted = 0;
};

class registry {
public:
    // A new token for `student` (a valid id, the password checked).
    std::string log_in(std::string const& student)
    {
        auto token = random_hex(16);
        std::lock_guard lock(mutex_);
        auto& s = students_[student];
        s.tokens.push_back(token);
        if (s.tokens.size() > tokens_per_student) {
            tokens_.erase(s.tokens.front());
            s.tokens.pop_front();
        }
        tokens_.emplace(token, student);
        ++counts_.logins;
        return token;
    }

    std::optional<std::string> student_of(std::string const& token) const
    {
        std::lock_guard lock(mutex_);
        auto const it = tokens_.find(token);
        if (it == tokens_.end()) return std::nullopt;
        return it->second;
    }

    // A complete, valid upload: a 201 reply follows.
    void record_upload(std::string const& student, std::uint64_t seq, std::uint64_t bytes)
    {
        std::lock_guard lock(mutex_);
        auto& s = students_[student];
        if (s.uploads++ == 0) ++counts_.students;
        ++counts_.uploads;
        counts_.bytes += bytes;
        auto const expected = s.last_seq + 1;
        if (seq < expected) {
            ++counts_.duplicates;
            return;
        }
        if (seq > expected) {
            counts_.gaps += seq - expected;
            if (gap_list_.size() < max_gap_list) gap_list_.push_back({student, expected, seq - 1});
        }
        s.last_seq = seq;
    }

    // Whether an upload of `seq` would count as a duplicate now.
    bool is_duplicate(std::string const& student, std::uint64_t seq) const
    {
        std::lock_guard lock(mutex_);
        auto const it = students_.find(student);
        return it != students_.end() && seq <= it->second.last_seq;
    }

    void count_rejected()
    {
        std::lock_guard lock(mutex_);
        ++counts_.rejected;
    }

    void count_aborted()
    {
        std::lock_guard lock(mutex_);
        ++counts_.aborted;
    }

    totals snapshot() const
    {
        std::lock_guard lock(mutex_);
        return counts_;
    }

    std::string stats_json() const
    {
        json::object o;
        json::array gaps;
        {
            std::lock_guard lock(mutex_);
            o["logins"] = counts_.logins;
            o["uploads"] = counts_.uploads;
            o["bytes"] = counts_.bytes;
            o["students"] = counts_.students;
            o["gaps"] = counts_.gaps;
            o["duplicates"] = counts_.duplicates;
            o["rejected"] = counts_.rejected;
            o["aborted_uploads"] = counts_.aborted;
            for (auto const& g : gap_list_)
                gaps.push_back(
                    json::object{{"student_id", g.student}, {"missing_from", g.from}, {"missing_to", g.to}});
        }
        o["gap_list"] = std::move(gaps);
        return json::serialize(o);
    }

private:
    struct student_record {
        std::uint64_t last_seq = 0; // the last accepted (or gap-making) sequence number
        std::uint64_t uploads = 0;
        std::deque<std::string> tokens; // oldest first
    };
    struct gap_record {
        std::string student;
        std::uint64_t from;
        std::uint64_t to;
    };

    mutable std::mutex mutex_;
    std::unordered_map<std::string, student_record> students_;
    std::unordered_map<std::string, std::string> tokens_; // token -> student
    std::vector<gap_record> gap_list_;
    totals counts_;
};

// ---------------------------------------------------------------------------------------------
// Multipart, parsed as it arrives

// A multipart/form-data body fed piece by piece, holding no more than a part's header and the
// few bytes that may begin a boundary. The delimiter "\r\n--<boundary>" begins with the only
// "\r" it contains, so a failed partial match never hides the start of another: the bytes held
// back are content, and the scan starts afresh at the byte that failed.
class multipart_reader {
public:
    explicit multipart_reader(std::string_view boundary) : delimiter_("\r\n--" + std::string(boundary)) {}

    // Parses `in`; the file part's bytes in it are appended to `file_out`. False once the body
    // is malformed (error() says why); later calls do nothing.
    bool feed(std::string_view in, std::string& file_out)
    {
        std::size_t i = 0;
        while (i < in.size()) {
            switch (state_) {
            case state::failed: return false;
            case state::epilogue: return true;
            case state::preamble:
            case state::content: i = scan(in, i, file_out); break;
            case state::boundary_tail: {
                char const c = in[i++];
                if (c == '-') state_ = state::close_dash;
                else if (c == '\r') state_ = state::line_feed;
                else if (c != ' ' && c != '\t') return fail("no line break after a boundary");
                break;
            }
            case state::close_dash:
                if (in[i++] != '-') return fail("no line break after a boundary");
                state_ = state::epilogue;
                return true;
            case state::line_feed:
                if (in[i++] != '\n') return fail("no line break after a boundary");
                head_.clear();
                state_ = state::headers;
                break;
            case state::headers:
                while (i < in.size()) {
                    head_ += in[i++];
                    if (head_ == "\r\n" || head_.ends_with("\r\n\r\n")) {
                        if (!begin_part()) return false;
                        state_ = state::content;
                        break;
                    }
                    if (head_.size() > max_part_header_bytes) return fail("a part's header passes 8 KiB");
                }
                break;
            }
        }
        return state_ != state::failed;
    }

    // Whether the body ended with the closing boundary; error() says what went wrong otherwise.
    bool finish()
    {
        if (state_ == state::epilogue) return true;
        if (state_ != state::failed) fail("the body ends before the closing boundary");
        return false;
    }

    std::string const& error() const { return error_; }

    std::optional<std::string> student_id;
    std::optional<std::string> seq;
    std::optional<std::string> filename; // set once the file part begins
    std::uint64_t file_bytes = 0;

private:
    enum class state { preamble, boundary_tail, close_dash, line_feed, headers, content, epilogue, failed };
    enum class part { skip, file, text };

    bool fail(std::string why)
    {
        state_ = state::failed;
        error_ = std::move(why);
        return false;
    }

    // Content up to the next delimiter; returns where it stopped in `in`.
    std::size_t scan(std::string_view in, std::size_t i, std::string& file_out)
    {
        while (i < in.size()) {
            if (matched_ == 0) {
                auto const* start = in.data() + i;
                auto const* cr = static_cast<char const*>(std::memchr(start, '\r', in.size() - i));
                auto const run = cr ? static_cast<std::size_t>(cr - start) : in.size() - i;
                emit({start, run}, file_out);
                i += run;
                if (!cr) break;
                matched_ = 1;
                ++i;
            } else if (in[i] == delimiter_[matched_]) {
                ++i;
                if (++matched_ == delimiter_.size()) {
                    matched_ = 0;
                    state_ = state::boundary_tail;
                    return i;
                }
            } else {
                emit({delimiter_.data(), matched_}, file_out); // held back, but content after all
                matched_ = 0;
            }
            if (state_ == state::failed) return in.size();
        }
        return i;
    }

    void emit(std::string_view data, std::string& file_out)
    {
        if (state_ != state::content || data.empty()) return; // the preamble is dropped
        switch (part_) {
        case part::file:
            file_out.append(data);
            file_bytes += data.size();
            break;
        case part::text:
            if (field_->size() + data.size() > max_field_bytes) {
                fail("a text field passes 1 KiB");
                return;
            }
            field_->append(data);
            break;
        case part::skip: break;
        }
    }

    bool begin_part()
    {
        std::optional<header_params> disposition;
        std::string_view rest = head_;
        while (!rest.empty()) {
            auto const eol = rest.find("\r\n");
            auto const line = rest.substr(0, eol);
            rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
            if (line.empty()) continue;
            auto const colon = line.find(':');
            if (colon == std::string_view::npos) return fail("a part header line without \":\"");
            if (!iequals(trim(line.substr(0, colon)), "content-disposition")) continue;
            disposition = parse_header_params(line.substr(colon + 1));
            if (!disposition) return fail("a malformed Content-Disposition");
        }
        if (!disposition || !iequals(disposition->type, "form-data") || !disposition->get("name"))
            return fail("a part without Content-Disposition: form-data; name=\"...\"");
        auto const name = *disposition->get("name");
        part_ = part::skip;
        if (name == "file") {
            if (filename) return fail("more than one part named \"file\"");
            auto const given = disposition->get("filename");
            if (!given) return fail("the part named \"file\" has no filename");
            filename = std::string(*given);
            part_ = part::file;
        } else if (name == "student_id" || name == "seq") {
            auto& field = name == "seq" ? seq : student_id;
            if (field) return fail("more than one part named \"" + std::string(name) + "\"");
            field.emplace();
            field_ = &*field;
            part_ = part::text;
        }
        return true;
    }

    std::string delimiter_;
    state state_ = state::preamble;
    std::size_t matched_ = 2; // the body begins as if after "\r\n": its first line is a boundary
    std::string head_;
    part part_ = part::skip;
    std::string* field_ = nullptr;
    std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Files under --store

std::string errno_text()
{
    return std::error_code(errno, std::generic_category()).message();
}

// An upload on its way to disk: a hidden temporary file in the student's folder, renamed to its
// name once accepted and removed otherwise (also when the coroutine holding it is destroyed).
class stored_file {
public:
    stored_file() = default;
    stored_file(stored_file const&) = delete;
    stored_file& operator=(stored_file const&) = delete;
    ~stored_file() { discard(); }

    bool open(fs::path const& folder, std::string& error)
    {
        std::error_code ec;
        fs::create_directories(folder, ec);
        if (ec) {
            error = "cannot create " + in_quotes(folder.string()) + ": " + ec.message();
            return false;
        }
        temp_ = folder / (".upload-" + random_hex(8) + ".part");
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            error = "cannot create " + in_quotes(temp_.string()) + ": " + errno_text();
            temp_.clear();
            return false;
        }
        return true;
    }

    bool is_open() const { return fd_ >= 0; }

    // Blocks the thread for the disk, as Beast's file_body does: a piece is at most 64 KiB.
    bool write(std::string_view data, std::string& error)
    {
        while (!data.empty()) {
            auto const n = ::write(fd_, data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                error = "cannot write " + in_quotes(temp_.string()) + ": " + errno_text();
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Gives the file its name. With `keep_existing`, a file already under that name stays and
    // this one is dropped.
    bool commit(fs::path const& name, bool keep_existing, std::string& error)
    {
        auto const fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) {
            error = "cannot write " + in_quotes(temp_.string()) + ": " + errno_text();
            return false;
        }
        if (keep_existing) {
            if (::link(temp_.c_str(), name.c_str()) != 0 && errno != EEXIST) {
                error = "cannot link " + in_quotes(temp_.string()) + " to " + in_quotes(name.string()) + ": " +
                        errno_text();
                return false;
            }
            discard();
            return true;
        }
        if (std::rename(temp_.c_str(), name.c_str()) != 0) {
            error = "cannot rename " + in_quotes(temp_.string()) + " to " + in_quotes(name.string()) + ": " +
                    errno_text();
            return false;
        }
        temp_.clear();
        return true;
    }

    void discard()
    {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
        if (!temp_.empty()) ::unlink(temp_.c_str());
        temp_.clear();
    }

private:
    fs::path temp_;
    int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------
// Connections and the threads that own them

struct server;
struct worker;

// What a worker needs to reach a connection from outside its coroutine: to close it when its
// deadline passes or at shutdown. Lives in the connection's coroutine frame and sits in its
// worker's list, touched only on that worker's thread.
struct connection : bi::list_base_hook<bi::link_mode<bi::auto_unlink>> {
    connection(server& srv, worker& w, socket_type& socket);
    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;
    ~connection();

    void expires_after(clock_type::duration d) { deadline = clock_type::now() + d; }
    void close();

    server& srv;
    socket_type& socket;                                // the TCP socket, under TLS or not
    clock_type::time_point deadline = clock_type::time_point::max();
    timer_type* sleeping = nullptr;                     // GET /delay's timer while it runs
    bool closed = false;
};

using connection_list = bi::list<connection, bi::constant_time_size<false>>;

struct worker {
    // Declared before the io_context so that it outlives it: after a hard stop, destroying the
    // io_context destroys parked coroutine frames, whose connections unlink themselves.
    connection_list connections;

    net::io_context ioc{1};
    net::executor_work_guard<executor_type> keep_running = net::make_work_guard(ioc);
    timer_type tick{ioc};
    std::string date; // the Date header's value, renewed every tick
    bool stopping = false;

    worker() { renew_date(); }

    void renew_date()
    {
        auto const now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        char text[64];
        auto const n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date.assign(text, n);
    }

    void begin_shutdown()
    {
        stopping = true;
        keep_running.reset();
        tick.cancel();
        for (auto& c : connections) c.close();
    }
};

struct server {
    config cfg;
    std::optional<ssl::context> tls;
    registry students;
    std::atomic<std::size_t> live_connections{0};
    // Last: destroyed first, while what their coroutine frames refer to still exists.
    std::vector<std::unique_ptr<worker>> workers;

    void stop_now()
    {
        for (auto& w : workers) w->ioc.stop();
    }
};

connection::connection(server& s, worker& w, socket_type& sock) : srv(s), socket(sock)
{
    srv.live_connections.fetch_add(1, std::memory_order_acq_rel);
    w.connections.push_back(*this);
    if (w.stopping) close();
}

connection::~connection()
{
    srv.live_connections.fetch_sub(1, std::memory_order_acq_rel);
}

void connection::close()
{
    if (closed) return;
    closed = true;
    deadline = clock_type::time_point::max();
    error_code ignored;
    socket.close(ignored); // pending reads and writes end with operation_aborted
    if (sleeping) sleeping->cancel();
}

void report_failure(std::exception_ptr e)
{
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& x) {
        std::cerr << "upload_server: internal error: " << x.what() << '\n';
    }
}

// Once a second: the Date header, and the connections past their deadline.
task<> sweep(worker& w)
{
    while (!w.stopping) {
        w.renew_date();
        auto const now = clock_type::now();
        for (auto& c : w.connections)
            if (c.deadline <= now) c.close();
        w.tick.expires_after(1s);
        co_await w.tick.async_wait(use_tuple);
    }
}

// ---------------------------------------------------------------------------------------------
// One request and its reply

using request_parser = http::request_parser<http::buffer_body>;

// The reply being built, in the connection's reusable `out`, and what decides its framing.
struct exchange_base {
    exchange_base(server& s, worker& wk, connection& c, std::string& o, request_parser& p)
        : srv(s), w(wk), conn(c), out(o), parser(p)
    {
    }

    server& srv;
    worker& w;
    connection& conn;
    std::string& out;
    request_parser& parser;
    bool head = false;         // HEAD: the headers only
    bool keep_alive = true;    // after this reply
    bool http10 = false;
    bool body_pending = false; // the request's body is not read whole
    std::string body_error;    // why the body was malformed

    auto const& req() const { return parser.get(); }

    void start(unsigned status)
    {
        // The unread rest of the body would be taken for the next request.
        if (body_pending) keep_alive = false;
        out.clear();
        out += "HTTP/1.1 ";
        append_number(out, status);
        out += ' ';
        out += reason(status);
        out += "\r\nDate: ";
        out += w.date;
        out += "\r\nServer: upload_server\r\n";
    }

    void header(std::string_view name, std::string_view value)
    {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }

    void end_headers(std::optional<std::uint64_t> content_length)
    {
        if (content_length) {
            out += "Content-Length: ";
            append_number(out, *content_length);
            out += "\r\n";
        }
        if (!keep_alive) out += "Connection: close\r\n";
        else if (http10) out += "Connection: keep-alive\r\n";
        out += "\r\n";
    }

    void finish(std::string_view content_type, std::string_view body)
    {
        if (!content_type.empty()) header("Content-Type", content_type);
        end_headers(body.size());
        if (!head) out += body;
    }

    void reply(unsigned status, std::string_view content_type, std::string_view body)
    {
        start(status);
        finish(content_type, body);
    }

    void reply_json(unsigned status, json::object const& body)
    {
        reply(status, "application/json", json::serialize(body));
    }

    void reply_error(unsigned status, std::string_view why) { reply_json(status, {{"error", why}}); }
};

// `stream`, the buffer, the parser (so the request and views of its target) and the exchange
// itself live in serve()'s frame, which awaits every coroutine it hands them to.
template <class Stream>
struct exchange : exchange_base {
    exchange(exchange_base base, Stream& s, beast::flat_buffer& b) : exchange_base(base), stream(s), buffer(b) {}

    Stream& stream;
    beast::flat_buffer& buffer;
};

// Writes `data` in pieces, each with its own deadline: a slow reader is fine, a stalled one is not.
template <class Stream>
task<bool> write_all(exchange<Stream>& x, std::string_view data)
{
    while (!data.empty()) {
        auto const n = std::min(data.size(), piece_bytes);
        x.conn.expires_after(idle_timeout);
        auto [ec, written] = co_await net::async_write(x.stream, net::buffer(data.data(), n), use_tuple);
        if (ec || x.conn.closed) co_return false;
        data.remove_prefix(n);
    }
    co_return true;
}

// Sends what was built in `out`, then `body` unless HEAD. False when the connection failed.
template <class Stream>
task<bool> send(exchange<Stream>& x, std::string_view body = {})
{
    if (x.head) body = {};
    if (body.size() <= piece_bytes) { // one write for a small reply
        x.out += body;
        body = {};
    }
    bool ok = co_await write_all(x, x.out);
    if (ok && !body.empty()) ok = co_await write_all(x, body);
    if (x.out.capacity() > 2 * piece_bytes) std::string().swap(x.out); // a big reply's room is not kept
    else x.out.clear();
    co_return ok;
}

enum class body_end { done, too_large, aborted, malformed };

bool is_parse_error(error_code ec)
{
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Reads the rest of the request's body, at most `limit` bytes, handing it to `sink` in pieces of
// at most 64 KiB. A Content-Length over `limit` is too_large before anything is read.
template <class Stream, class Sink>
task<body_end> read_body(exchange<Stream>& x, std::uint64_t limit, Sink sink)
{
    auto& p = x.parser;
    if (p.is_done()) {
        x.body_pending = false;
        co_return body_end::done;
    }
    if (auto const length = p.content_length(); length && *length > limit) co_return body_end::too_large;
    if (!x.http10 && iequals(trim(sv(x.req()[http::field::expect])), "100-continue")) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        if (!co_await write_all(x, go_on)) co_return body_end::aborted;
    }

    auto const piece = std::make_unique<char[]>(piece_bytes);
    x.buffer.reserve(piece_bytes); // read from the socket in big pieces, not 512 bytes at a time
    std::uint64_t total = 0;
    while (!p.is_done()) {
        auto& body = p.get().body();
        body.data = piece.get();
        body.size = piece_bytes;
        body.more = true;
        x.conn.expires_after(idle_timeout);
        auto [ec, n] = co_await http::async_read_some(x.stream, x.buffer, p, use_tuple);
        if (ec == http::error::need_buffer) ec = {};
        auto const got = piece_bytes - body.size;
        if (got > 0) {
            total += got;
            if (total > limit) co_return body_end::too_large;
            sink(std::string_view(piece.get(), got));
        }
        if (ec) {
            if (x.conn.closed || !is_parse_error(ec)) co_return body_end::aborted;
            x.body_error = ec.message();
            co_return body_end::malformed;
        }
    }
    x.body_pending = false;
    co_return body_end::done;
}

// The reply when a body did not arrive whole; false (drop the connection) when it was cut short.
template <class Stream>
task<bool> body_failed(exchange<Stream>& x, body_end end)
{
    if (end == body_end::aborted) co_return false;
    if (end == body_end::too_large)
        x.reply_error(413, "the body passes " + std::to_string(x.srv.cfg.max_body) + " bytes (--max-body)");
    else
        x.reply_error(400, "malformed body: " + x.body_error);
    co_return co_await send(x);
}

template <class Stream>
task<body_end> discard_body(exchange<Stream>& x)
{
    co_return co_await read_body(x, x.srv.cfg.max_body, [](std::string_view) {});
}

// ---------------------------------------------------------------------------------------------
// Login and upload

void log_in(exchange_base& x, std::string_view body)
{
    error_code ec;
    auto const value = json::parse(json::string_view(body.data(), body.size()), ec);
    if (ec) return x.reply_error(400, "invalid JSON: " + ec.message());
    auto const* o = value.if_object();
    if (!o) return x.reply_error(400, "the body must be a JSON object");
    auto const* id = o->if_contains("student_id");
    auto const* password = o->if_contains("password");
    if (!id || !id->is_string()) return x.reply_error(400, "\"student_id\" must be a string");
    if (!password || !password->is_string()) return x.reply_error(400, "\"password\" must be a string");
    std::string const student(id->get_string());
    if (!valid_student_id(student))
        return x.reply_error(400, "\"student_id\" must be 1-64 of A-Z a-z 0-9 _ - . (not beginning with .)");
    if (password->get_string() != x.srv.cfg.password) return x.reply_error(401, "wrong password");

    auto const token = x.srv.students.log_in(student);
    x.start(200);
    x.header("Set-Cookie", "session=" + token + "; Path=/; HttpOnly");
    x.finish("application/json", json::serialize(json::object{{"token", token}, {"student_id", student}}));
}

template <class Stream>
task<bool> handle_login(exchange<Stream>& x)
{
    std::string body;
    auto const end =
        co_await read_body(x, login_body_limit, [&body](std::string_view piece) { body.append(piece); });
    if (end == body_end::too_large) {
        x.reply_error(413, "a login body passes 64 KiB");
        co_return co_await send(x);
    }
    if (end != body_end::done) co_return co_await body_failed(x, end);
    log_in(x, body);
    co_return co_await send(x);
}

// The token from "Authorization: Bearer <token>", else from the cookie "session".
std::string request_token(exchange_base const& x)
{
    auto const auth = trim(sv(x.req()[http::field::authorization]));
    if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ")) return std::string(trim(auth.substr(7)));
    std::string token;
    auto const [first, last] = x.req().equal_range(http::field::cookie);
    for (auto it = first; it != last; ++it)
        for_each_cookie(sv(it->value()), [&token](std::string_view name, std::string_view value) {
            if (name == "session" && token.empty()) token = value;
        });
    return token;
}

struct upload_fields {
    std::optional<std::string> student_id;
    std::optional<std::string> seq;
    std::optional<std::string> filename;
};

struct refusal {
    unsigned status;
    std::string why;
};

// The checks that follow authentication, in the order the header comment gives.
std::optional<refusal> check_fields(upload_fields const& f, std::string const& student, bool multipart)
{
    if (!f.student_id) return refusal{400, multipart ? "no student_id part" : "no student_id in the query"};
    if (!f.seq) return refusal{400, multipart ? "no seq part" : "no seq in the query"};
    if (!f.filename) return refusal{400, multipart ? "no file part (a part named \"file\" with a filename)"
                                                   : "no filename in the query"};
    auto const seq = parse_number(*f.seq, max_seq);
    if (!seq || *seq == 0)
        return refusal{400, "seq " + in_quotes(*f.seq) + " is not a decimal integer from 1 to 999999999"};
    if (*f.student_id != student)
        return refusal{403, "the token is " + in_quotes(student) + "'s, not " + in_quotes(*f.student_id) + "'s"};
    if (!valid_filename(*f.filename, student, *seq))
        return refusal{400, "filename " + in_quotes(*f.filename) + " does not match " + student +
                                "_<yyyymmdd>_<hhmmss>_seq_<NNNN>.mp4 for seq " + std::to_string(*seq)};
    return std::nullopt;
}

template <class Stream>
task<bool> reject_upload(exchange<Stream>& x, unsigned status, std::string why)
{
    x.srv.students.count_rejected();
    x.reply_error(status, why);
    co_return co_await send(x);
}

template <class Stream>
task<bool> store_failed(exchange<Stream>& x, std::string why)
{
    std::cerr << "upload_server: " << why << '\n';
    x.reply_error(500, "cannot store the upload: " + why);
    co_return co_await send(x);
}

template <class Stream>
task<bool> handle_upload(exchange<Stream>& x, std::string_view query)
{
    auto& srv = x.srv;
    auto const& req = x.req();
    if (auto const length = x.parser.content_length(); length && *length > srv.cfg.max_body)
        co_return co_await reject_upload(
            x, 413, "Content-Length " + std::to_string(*length) + " passes " + std::to_string(srv.cfg.max_body) +
                        " bytes (--max-body)");
    auto const student = srv.students.student_of(request_token(x));
    if (!student)
        co_return co_await reject_upload(
            x, 401, "no token or an unknown one: POST /api/login, then send \"Authorization: Bearer <token>\"");

    upload_fields fields;
    std::optional<multipart_reader> multipart;
    auto const content_type = parse_header_params(sv(req[http::field::content_type]));
    if (content_type && iequals(content_type->type, "multipart/form-data")) {
        auto const boundary = content_type->get("boundary");
        if (!boundary || boundary->empty() || boundary->size() > max_boundary)
            co_return co_await reject_upload(x, 400, "multipart/form-data needs a boundary of 1-200 characters");
        multipart.emplace(*boundary);
    } else {
        bool bad_escape = false;
        for_each_query_pair(query, [&](std::string_view name, std::string_view value) {
            auto decoded = percent_decode(value);
            if (!decoded) bad_escape = true;
            else if (name == "student_id") fields.student_id = std::move(*decoded);
            else if (name == "seq") fields.seq = std::move(*decoded);
            else if (name == "filename") fields.filename = std::move(*decoded);
        });
        if (bad_escape) co_return co_await reject_upload(x, 400, "a bad %-escape in the query");
        if (auto const refused = check_fields(fields, *student, false))
            co_return co_await reject_upload(x, refused->status, refused->why);
    }

    stored_file file;
    std::string store_error;
    if (srv.cfg.store && !file.open(*srv.cfg.store / *student, store_error))
        co_return co_await store_failed(x, store_error);

    std::uint64_t raw_bytes = 0;
    std::string file_piece; // a piece's file bytes, out of the multipart framing
    auto const end = co_await read_body(x, srv.cfg.max_body, [&](std::string_view piece) {
        std::string_view data = piece;
        if (multipart) {
            file_piece.clear();
            if (!multipart->feed(piece, file_piece)) return;
            data = file_piece;
        } else {
            raw_bytes += data.size();
        }
        if (file.is_open() && store_error.empty() && !data.empty()) file.write(data, store_error);
    });
    if (end == body_end::aborted) {
        srv.students.count_aborted();
        co_return false;
    }
    if (end == body_end::too_large)
        co_return co_await reject_upload(x, 413, "the body passes " + std::to_string(srv.cfg.max_body) +
                                                     " bytes (--max-body)");
    if (end == body_end::malformed) co_return co_await reject_upload(x, 400, "malformed body: " + x.body_error);

    std::uint64_t bytes = raw_bytes;
    if (multipart) {
        if (!multipart->finish())
            co_return co_await reject_upload(x, 400, "malformed multipart: " + multipart->error());
        fields = {multipart->student_id, multipart->seq, multipart->filename};
        if (auto const refused = check_fields(fields, *student, true))
            co_return co_await reject_upload(x, refused->status, refused->why);
        bytes = multipart->file_bytes;
    }
    if (!store_error.empty()) co_return co_await store_failed(x, store_error);
    auto const seq = *parse_number(*fields.seq, max_seq);
    if (file.is_open()) {
        // A duplicate does not replace the file it repeats; an accepted upload replaces whatever
        // an earlier run of the server left under its name.
        bool const duplicate = srv.students.is_duplicate(*student, seq);
        if (!file.commit(*srv.cfg.store / *student / *fields.filename, duplicate, store_error))
            co_return co_await store_failed(x, store_error);
    }
    srv.students.record_upload(*student, seq, bytes);
    x.reply_json(201, {{"student_id", *student}, {"seq", seq}, {"bytes", bytes}});
    co_return co_await send(x);
}

// ---------------------------------------------------------------------------------------------
// Test endpoints

template <class Stream>
task<bool> handle_echo(exchange<Stream>& x)
{
    std::string body;
    auto const limit = std::min(x.srv.cfg.max_body, echo_body_limit);
    auto const end = co_await read_body(x, limit, [&body](std::string_view piece) { body.append(piece); });
    if (end == body_end::too_large) {
        x.reply_error(413, "an /echo body passes " + std::to_string(limit) + " bytes");
        co_return co_await send(x);
    }
    if (end != body_end::done) co_return co_await body_failed(x, end);
    x.start(200);
    if (auto const type = sv(x.req()[http::field::content_type]); !type.empty()) x.header("Content-Type", type);
    x.header("X-Method", sv(x.req().method_string()));
    x.end_headers(body.size());
    co_return co_await send(x, body);
}

template <class Stream>
task<bool> handle_delay(exchange<Stream>& x, std::uint64_t ms)
{
    timer_type timer(x.conn.socket.get_executor(), std::chrono::milliseconds(ms));
    x.conn.sleeping = &timer;
    x.conn.deadline = clock_type::time_point::max(); // the wait is ours, not the client's
    co_await timer.async_wait(use_tuple);
    x.conn.sleeping = nullptr;
    if (x.conn.closed) co_return false;
    x.reply(200, "text/plain", "delayed " + std::to_string(ms) + " ms\n");
    co_return co_await send(x);
}

template <class Stream>
task<bool> handle_chunked(exchange<Stream>& x, std::uint64_t n)
{
    // HTTP/1.0 knows no chunks: the body ends when the connection does.
    bool const chunked = !x.http10;
    if (!chunked) x.keep_alive = false;
    x.start(200);
    x.header("Content-Type", "text/plain");
    if (chunked) x.header("Transfer-Encoding", "chunked");
    x.end_headers(std::nullopt);
    if (x.head) co_return co_await send(x);
    for (std::uint64_t i = 0; i < n; ++i) {
        char line[32] = "chunk ";
        auto const [end, ec] = std::to_chars(line + 6, line + sizeof line - 1, i);
        *end = '\n';
        std::string_view const text(line, static_cast<std::size_t>(end + 1 - line));
        if (chunked) {
            char size[16];
            auto const [size_end, size_ec] = std::to_chars(size, size + sizeof size, text.size(), 16);
            x.out.append(size, size_end);
            x.out += "\r\n";
        }
        x.out += text;
        if (chunked) x.out += "\r\n";
        if (x.out.size() >= piece_bytes && !co_await send(x)) co_return false;
    }
    if (chunked) x.out += "0\r\n\r\n";
    co_return co_await send(x);
}

template <class Stream>
task<bool> handle_bytes(exchange<Stream>& x, std::uint64_t n)
{
    static std::string const filler(piece_bytes, 'x');
    x.start(200);
    x.header("Content-Type", "application/octet-stream");
    x.end_headers(n);
    if (x.head) co_return co_await send(x);
    if (n <= piece_bytes) co_return co_await send(x, std::string_view(filler).substr(0, n));
    if (!co_await send(x)) co_return false;
    for (std::uint64_t left = n; left > 0;) {
        auto const piece = std::min<std::uint64_t>(left, piece_bytes);
        if (!co_await write_all(x, std::string_view(filler).substr(0, piece))) co_return false;
        left -= piece;
    }
    co_return true;
}

void reply_status(exchange_base& x, std::string_view code_text)
{
    auto const code = parse_number(code_text, 599);
    if (!code || *code < 200)
        return x.reply_error(400, "/status/<code>: use a code from 200 to 599, not " + in_quotes(code_text));
    auto const status = static_cast<unsigned>(*code);
    x.start(status);
    if (status == 204 || status == 304) return x.end_headers(std::nullopt); // no body, no length
    if (status == 205) return x.end_headers(0);
    x.finish("text/plain", "status " + std::to_string(status) + "\n");
}

void reply_redirect(exchange_base& x, std::string_view location)
{
    x.start(302);
    x.header("Location", location);
    x.end_headers(0);
}

void reply_set_cookies(exchange_base& x, std::string_view query)
{
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    std::string bad;
    for_each_query_pair(query, [&](std::string_view name, std::string_view value) {
        if (!valid_cookie_name(name)) bad = "cookie name " + in_quotes(name) + " is not a token";
        else if (!valid_cookie_value(value))
            bad = "cookie value " + in_quotes(value) + " has bytes a cookie cannot hold";
        else pairs.emplace_back(name, value);
    });
    if (!bad.empty()) return x.reply_error(400, bad);
    json::object body;
    x.start(200);
    for (auto const& [name, value] : pairs) {
        x.header("Set-Cookie", std::string(name) + "=" + std::string(value) + "; Path=/");
        body[name] = value;
    }
    x.finish("application/json", json::serialize(body));
}

void reply_cookies(exchange_base& x)
{
    json::object body;
    auto const [first, last] = x.req().equal_range(http::field::cookie);
    for (auto it = first; it != last; ++it)
        for_each_cookie(sv(it->value()),
                        [&body](std::string_view name, std::string_view value) { body[name] = value; });
    x.reply_json(200, body);
}

void reply_headers(exchange_base& x)
{
    json::object body;
    std::string name;
    for (auto const& field : x.req()) {
        name.clear();
        for (char c : sv(field.name_string())) name += lower(c);
        auto const value = sv(field.value());
        if (auto* seen = body.if_contains(name)) {
            auto& text = seen->as_string();
            text.append(", ");
            text.append(value);
        } else {
            body[name] = value;
        }
    }
    x.reply_json(200, body);
}

template <class Stream>
task<bool> handle_get(exchange<Stream>& x, std::string_view path, std::string_view query)
{
    if (path == "/hello") {
        x.reply(200, "text/plain", "hello\n");
    } else if (path == "/stats") {
        x.reply(200, "application/json", x.srv.students.stats_json());
    } else if (auto const code = after(path, "/status/")) {
        reply_status(x, *code);
    } else if (auto const ms = after(path, "/delay/")) {
        auto const value = parse_number(*ms, max_delay_ms);
        if (value) co_return co_await handle_delay(x, *value);
        x.reply_error(400, "/delay/<ms>: use 0 to 600000 milliseconds, not " + in_quotes(*ms));
    } else if (auto const chunks = after(path, "/chunked/")) {
        auto const value = parse_number(*chunks, max_chunks_reply);
        if (value) co_return co_await handle_chunked(x, *value);
        x.reply_error(400, "/chunked/<n>: use 0 to 10000000 chunks, not " + in_quotes(*chunks));
    } else if (auto const bytes = after(path, "/bytes/")) {
        auto const value = parse_number(*bytes, max_bytes_reply);
        if (value) co_return co_await handle_bytes(x, *value);
        x.reply_error(400, "/bytes/<n>: use 0 to 1073741824 bytes, not " + in_quotes(*bytes));
    } else if (auto const hops = after(path, "/redirect/")) {
        auto const value = parse_number(*hops, 1'000'000'000);
        if (!value) x.reply_error(400, "/redirect/<n>: use 0 to 1000000000, not " + in_quotes(*hops));
        else if (*value == 0) reply_redirect(x, "/hello");
        else reply_redirect(x, "/redirect/" + std::to_string(*value - 1));
    } else if (path == "/redirect-loop") {
        reply_redirect(x, "/redirect-loop");
    } else if (path == "/cookies/set") {
        reply_set_cookies(x, query);
    } else if (path == "/cookies") {
        reply_cookies(x);
    } else if (path == "/headers") {
        reply_headers(x);
    } else if (path == "/close") {
        x.keep_alive = false;
        x.reply(200, "text/plain", "closing\n");
    } else {
        x.reply_error(404, "no such path: " + std::string(path));
    }
    co_return co_await send(x);
}

// One request whose header has been read. False when the connection is to be dropped.
template <class Stream>
task<bool> handle_request(exchange<Stream>& x)
{
    auto const target = sv(x.req().target());
    auto const mark = target.find('?');
    auto const path = target.substr(0, mark);
    auto const query = mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
    auto const method = x.req().method();

    if (method == http::verb::get || method == http::verb::head) {
        x.head = method == http::verb::head;
        if (auto const end = co_await discard_body(x); end != body_end::done)
            co_return co_await body_failed(x, end);
        co_return co_await handle_get(x, path, query);
    }
    if (method == http::verb::post && path == "/api/upload") co_return co_await handle_upload(x, query);
    if (method == http::verb::post && path == "/api/login") co_return co_await handle_login(x);
    if (path == "/echo" && (method == http::verb::post || method == http::verb::put ||
                            method == http::verb::patch || method == http::verb::delete_))
        co_return co_await handle_echo(x);
    if (auto const end = co_await discard_body(x); end != body_end::done) co_return co_await body_failed(x, end);
    x.reply_error(404, "no such path for " + std::string(sv(x.req().method_string())) + ": " + std::string(path));
    co_return co_await send(x);
}

// ---------------------------------------------------------------------------------------------
// Connections

// After the last reply: no more from us (FIN), and what the peer still sends is read and dropped
// for a while, since closing with unread bytes sends a reset that can destroy the reply in flight.
task<> linger(connection& conn)
{
    error_code ignored;
    conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
    conn.expires_after(linger_time);
    char scratch[4096];
    while (!conn.closed) {
        auto [ec, n] = co_await conn.socket.async_read_some(net::buffer(scratch), use_tuple);
        if (ec) break;
    }
}

task<> close_gracefully(connection& conn, socket_type&, bool)
{
    co_await linger(conn);
}

task<> close_gracefully(connection& conn, tls_stream& stream, bool body_pending)
{
    // close_notify, unless the peer may still be sending a body a TLS shutdown would choke on.
    if (body_pending) {
        co_await linger(conn);
        co_return;
    }
    conn.expires_after(linger_time);
    co_await stream.async_shutdown(use_tuple);
}

// Requests and replies on one connection, in order, until either side closes it.
template <class Stream>
task<> serve(server& srv, worker& w, connection& conn, Stream& stream)
{
    beast::flat_buffer buffer(header_limit + piece_bytes);
    std::string out;
    bool graceful = false;
    bool body_pending = false;
    while (!conn.closed) {
        request_parser parser;
        parser.header_limit(header_limit);
        parser.body_limit(boost::none); // each route applies its own
        conn.expires_after(idle_timeout);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        exchange<Stream> x({srv, w, conn, out, parser}, stream, buffer);
        if (ec) {
            if (conn.closed || !is_parse_error(ec)) break;
            x.keep_alive = false;
            bool const too_big = ec == http::error::header_limit || ec == http::error::buffer_overflow;
            x.reply_error(too_big ? 431 : 400, too_big ? "the request header passes 16 KiB"
                                                       : "not an HTTP request: " + ec.message());
            graceful = co_await send(x);
            body_pending = true;
            break;
        }
        x.http10 = parser.get().version() < 11;
        x.keep_alive = parser.get().keep_alive() && !w.stopping;
        x.body_pending = !parser.is_done();
        if (!co_await handle_request(x) || conn.closed) break;
        if (!x.keep_alive) {
            graceful = true;
            body_pending = x.body_pending;
            break;
        }
        if (buffer.size() == 0 && buffer.capacity() > 4096) buffer.shrink_to_fit(); // idle: give back a body's room
    }
    if (graceful && !conn.closed) co_await close_gracefully(conn, stream, body_pending);
    conn.close();
}

// One accepted connection, on `w`'s thread only; `srv` and `w` live until main returns.
task<> run_connection(server& srv, worker& w, socket_type socket)
{
    if (srv.tls) {
        tls_stream stream(std::move(socket), *srv.tls);
        connection conn(srv, w, stream.next_layer());
        conn.expires_after(idle_timeout);
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
        if (!ec && !conn.closed) co_await serve(srv, w, conn, stream);
        conn.close();
    } else {
        connection conn(srv, w, socket);
        co_await serve(srv, w, conn, socket);
    }
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
            if (!reported) std::cerr << "upload_server: accept failed: " << ec.message() << " (retrying)\n";
            reported = true;
            backoff.expires_after(50ms);
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        net::co_spawn(target.ioc, run_connection(srv, target, std::move(socket)), report_failure);
    }
}

// Runs on the first worker: the stop, bounded so that it ends within ~2 s.
task<> stop_on_signal(server& srv, acceptor_type& acceptor, signal_set_type& signals)
{
    auto [ec, signo] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& w : srv.workers) net::post(w->ioc, [&w = *w] { w.begin_shutdown(); });
    // A second signal does not wait.
    signals.async_wait([&srv](error_code e, int) {
        if (!e) srv.stop_now();
    });

    timer_type tick(co_await net::this_coro::executor);
    auto const start = clock_type::now();
    while (srv.live_connections.load(std::memory_order_acquire) > 0) {
        if (clock_type::now() - start >= shutdown_hard) {
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

} // namespace

int main(int argc, char** argv)
{
    // Sockets already write with MSG_NOSIGNAL; this keeps a closed stderr (a test runner that
    // went away) from turning the summary line into a SIGPIPE death.
    std::signal(SIGPIPE, SIG_IGN);

    server srv;
    tcp::endpoint endpoint;
    try {
        auto cfg = parse_command_line(argc, argv);
        if (!cfg) return 0;
        srv.cfg = std::move(*cfg);
        if (!srv.cfg.tls_cert.empty()) srv.tls.emplace(make_tls_context(srv.cfg));
        endpoint = resolve_listen_endpoint(srv.cfg);
    } catch (bad_flag const& e) {
        std::cerr << "upload_server: " << e.what() << '\n';
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
        std::cerr << "upload_server: cannot listen on " << endpoint_text(endpoint) << ": " << e.code().message()
                  << '\n';
        return 1;
    }

    // Installed before the readiness line, so a test may signal as soon as it reads it.
    signal_set_type signals(first.ioc, SIGINT, SIGTERM);

    for (auto& w : srv.workers) net::co_spawn(w->ioc, sweep(*w), report_failure);
    net::co_spawn(first.ioc, accept_loop(srv, acceptor), report_failure);
    net::co_spawn(first.ioc, stop_on_signal(srv, acceptor, signals), report_failure);

    std::cout << "upload_server listening on " << endpoint_text(acceptor.local_endpoint()) << std::endl;

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < srv.workers.size(); ++i)
        threads.emplace_back([&w = *srv.workers[i]] { w.ioc.run(); });
    first.ioc.run();
    for (auto& t : threads) t.join();

    auto const t = srv.students.snapshot();
    std::cerr << "upload_server: " << t.logins << " logins, " << t.uploads << " uploads, " << t.bytes << " bytes, "
              << t.students << " students, " << t.gaps << " gaps, " << t.duplicates << " duplicates, " << t.rejected
              << " rejected\n";
    return 0;
}
