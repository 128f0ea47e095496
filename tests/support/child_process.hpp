#pragma once

// POSIX helpers for integration tests that run real processes: a child process with its
// output captured through pipes, the bundled im_server started on a free port, a temporary
// directory, a self-signed certificate, and a port with nothing listening on it.
// Every wait takes a bound; nothing here sleeps for a fixed time.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace wsload::test {

namespace detail {

[[noreturn]] inline void throw_errno(std::string const& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

inline void close_fd(int& fd) noexcept
{
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// Milliseconds until `deadline` for poll(): rounded up so that a sub-millisecond rest does not
// become a busy loop, 0 once it has passed.
inline int poll_timeout(std::chrono::steady_clock::time_point deadline)
{
    auto const rest = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(rest.count(), 0, INT_MAX));
}

// One captured output stream of a child: the pipe's read end (-1 when not captured, or after
// end of file) and everything read from it so far.
struct captured_output {
    int fd = -1;
    std::string text;
    std::size_t handed_out = 0; // how much of `text` line reads and drains have returned

    captured_output() = default;
    captured_output(captured_output&& other) noexcept
        : fd(std::exchange(other.fd, -1)), text(std::move(other.text)),
          handed_out(std::exchange(other.handed_out, 0))
    {
    }
    captured_output& operator=(captured_output&& other) noexcept
    {
        if (this != &other) {
            close_fd(fd);
            fd = std::exchange(other.fd, -1);
            text = std::move(other.text);
            handed_out = std::exchange(other.handed_out, 0);
        }
        return *this;
    }
    ~captured_output() { close_fd(fd); }

    // Reads whatever the pipe holds without blocking; closes it at end of file.
    void read_available()
    {
        char chunk[16 * 1024];
        while (fd >= 0) {
            auto const n = ::read(fd, chunk, sizeof chunk);
            if (n > 0) {
                text.append(chunk, static_cast<std::size_t>(n));
            } else if (n == 0) {
                close_fd(fd);
            } else if (errno == EINTR) {
                continue;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            } else {
                close_fd(fd);
            }
        }
    }

    // The next complete line without its '\n' (and '\r'); at end of file, an unterminated rest.
    std::optional<std::string> take_line()
    {
        auto const end = text.find('\n', handed_out);
        if (end == std::string::npos && (fd >= 0 || handed_out == text.size())) return std::nullopt;
        auto const stop = end == std::string::npos ? text.size() : end;
        std::string line = text.substr(handed_out, stop - handed_out);
        handed_out = end == std::string::npos ? text.size() : end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }

    std::string take_rest()
    {
        std::string rest = text.substr(handed_out);
        handed_out = text.size();
        return rest;
    }
};

} // namespace detail

/// How child_process starts its child. stdin is always /dev/null.
struct child_options {
    bool capture_stdout = true;         ///< false: the child writes to this process's stdout
    bool capture_stderr = true;         ///< false: the child writes to this process's stderr
    std::vector<std::string> extra_env; ///< "NAME=value", replacing an inherited NAME
    bool search_path = false;           ///< look argv[0] up in PATH (posix_spawnp)
};

/// A process started with posix_spawn, its stdout and stderr captured through pipes. Every
/// wait also drains both pipes into internal buffers, so a chatty child never blocks on a full
/// pipe. The destructor SIGKILLs and reaps the child if it is still running (only that PID).
class child_process {
public:
    using options = child_options;

    /// Starts argv[0] (a path, unless opts.search_path) with these arguments; throws
    /// std::system_error if it cannot be started.
    explicit child_process(std::vector<std::string> argv, options opts = {})
    {
        if (argv.empty()) throw std::invalid_argument("child_process: argv is empty");
        start(argv, opts);
    }

    child_process(child_process&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), pidfd_(std::exchange(other.pidfd_, -1)),
          status_(std::exchange(other.status_, std::nullopt)), out_(std::move(other.out_)),
          err_(std::move(other.err_))
    {
    }

    child_process& operator=(child_process&& other) noexcept
    {
        if (this != &other) {
            kill_and_reap();
            detail::close_fd(pidfd_);
            pid_ = std::exchange(other.pid_, -1);
            pidfd_ = std::exchange(other.pidfd_, -1);
            status_ = std::exchange(other.status_, std::nullopt);
            out_ = std::move(other.out_);
            err_ = std::move(other.err_);
        }
        return *this;
    }

    child_process(child_process const&) = delete;
    child_process& operator=(child_process const&) = delete;

    ~child_process()
    {
        kill_and_reap();
        detail::close_fd(pidfd_);
    }

    /// -1 for a moved-from object.
    pid_t pid() const noexcept { return pid_; }

    /// The next line the child wrote (without its newline), waiting at most `timeout`;
    /// nullopt on timeout, at end of output, or when that stream is not captured.
    std::optional<std::string> read_stdout_line(std::chrono::milliseconds timeout)
    {
        return read_line(out_, timeout);
    }
    std::optional<std::string> read_stderr_line(std::chrono::milliseconds timeout)
    {
        return read_line(err_, timeout);
    }

    /// Everything not yet returned by a line read, up to end of output or `timeout`.
    std::string drain_stdout(std::chrono::milliseconds timeout = std::chrono::seconds(5))
    {
        return drain(out_, timeout);
    }
    std::string drain_stderr(std::chrono::milliseconds timeout = std::chrono::seconds(5))
    {
        return drain(err_, timeout);
    }

    /// Everything captured so far, including what line reads have returned.
    std::string const& stdout_text() const noexcept { return out_.text; }
    std::string const& stderr_text() const noexcept { return err_.text; }

    /// Does nothing once the child has been reaped (its PID may belong to someone else then).
    void send_signal(int signo)
    {
        if (pid_ <= 0 || status_) return;
        if (::kill(pid_, signo) != 0 && errno != ESRCH) detail::throw_errno("kill");
    }

    /// Exit code, or 128 + signal number if a signal ended it; nullopt if it is still running
    /// after `timeout`. Once it returns a value, the captured texts hold everything written.
    std::optional<int> wait_for_exit(std::chrono::milliseconds timeout)
    {
        auto const deadline = std::chrono::steady_clock::now() + timeout;
        while (!status_ && pid_ > 0 && !reap(false)) {
            // Without a pidfd, exit shows only through waitpid: look again every 10 ms.
            auto const wake = pidfd_ >= 0 ? deadline
                                          : std::min(deadline, std::chrono::steady_clock::now() +
                                                                   std::chrono::milliseconds(10));
            if (!wait_for_output(wake, true) && std::chrono::steady_clock::now() >= deadline)
                return reap(false) ? status_ : std::nullopt;
        }
        // Dead: whatever it wrote is already in the pipes. (A grandchild holding a pipe open is
        // not waited for.)
        out_.read_available();
        err_.read_available();
        return status_;
    }

    /// False once the child has exited (it is reaped then).
    bool running()
    {
        if (pid_ <= 0 || status_) return false;
        return !reap(false);
    }

private:
    void start(std::vector<std::string> const& argv, options const& opts)
    {
        int out_pipe[2] = {-1, -1};
        int err_pipe[2] = {-1, -1};
        auto close_all = [&] {
            for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1]}) detail::close_fd(*fd);
        };
        // O_CLOEXEC: the child keeps only the copies dup2'd onto 1 and 2, and children started
        // by other threads get none.
        if ((opts.capture_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0) ||
            (opts.capture_stderr && ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
            int const saved = errno;
            close_all();
            errno = saved;
            detail::throw_errno("pipe2");
        }

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (opts.capture_stdout) posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
        if (opts.capture_stderr) posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);

        // A test runner may have blocked or ignored signals (a background job ignores SIGINT);
        // the child starts with none blocked and the usual ones at their defaults.
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attr, &none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
            sigaddset(&defaults, s);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

        std::vector<char*> args;
        for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        auto env_storage = environment(opts.extra_env);
        std::vector<char*> env;
        for (auto& e : env_storage) env.push_back(e.data());
        env.push_back(nullptr);

        pid_t pid = -1;
        int const rc = opts.search_path
                           ? ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data())
                           : ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        detail::close_fd(out_pipe[1]);
        detail::close_fd(err_pipe[1]);
        if (rc != 0) {
            close_all();
            throw std::system_error(rc, std::generic_category(), "cannot start " + argv[0]);
        }

        pid_ = pid;
        out_.fd = std::exchange(out_pipe[0], -1);
        err_.fd = std::exchange(err_pipe[0], -1);
        for (int fd : {out_.fd, err_.fd})
            if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
#ifdef SYS_pidfd_open
        // Readable when the child exits, so waiting for exit is a poll, not a sleep loop.
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
#endif
    }

    static std::vector<std::string> environment(std::vector<std::string> const& extra)
    {
        auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
        std::vector<std::string> env;
        for (char** e = environ; e && *e; ++e) {
            std::string_view const entry(*e);
            bool const replaced = std::any_of(extra.begin(), extra.end(), [&](std::string const& x) {
                return name_of(x) == name_of(entry);
            });
            if (!replaced) env.emplace_back(entry);
        }
        env.insert(env.end(), extra.begin(), extra.end());
        return env;
    }

    // waitpid; true once the child is reaped and status_ is set.
    bool reap(bool block)
    {
        if (status_) return true;
        if (pid_ <= 0) return false;
        int st = 0;
        pid_t r;
        do {
            r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == 0) return false;
        if (r < 0) {
            // ECHILD: someone else reaped it (SIGCHLD ignored); its status is lost.
            status_ = -1;
        } else if (WIFEXITED(st)) {
            status_ = WEXITSTATUS(st);
        } else if (WIFSIGNALED(st)) {
            status_ = 128 + WTERMSIG(st);
        } else {
            return false; // stopped or continued: still alive
        }
        detail::close_fd(pidfd_);
        return true;
    }

    void kill_and_reap() noexcept
    {
        if (pid_ > 0 && !status_) {
            ::kill(pid_, SIGKILL);
            reap(true);
        }
    }

    // Waits until some pipe has data or end of file (or, with `watch_exit`, the child exits),
    // at most until `deadline`, and reads what is there. False when nothing happened. With
    // nothing to watch it just waits out the deadline (wait_for_exit's 10 ms steps then).
    bool wait_for_output(std::chrono::steady_clock::time_point deadline, bool watch_exit)
    {
        pollfd fds[3];
        nfds_t n = 0;
        for (int fd : {out_.fd, err_.fd})
            if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
        if (watch_exit && pidfd_ >= 0) fds[n++] = {pidfd_, POLLIN, 0};
        int rc;
        do {
            rc = ::poll(fds, n, detail::poll_timeout(deadline));
        } while (rc < 0 && errno == EINTR);
        if (rc < 0) detail::throw_errno("poll");
        if (rc == 0) return false;
        out_.read_available();
        err_.read_available();
        return true;
    }

    std::optional<std::string> read_line(detail::captured_output& which, std::chrono::milliseconds timeout)
    {
        auto const deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto line = which.take_line()) return line;
            if (which.fd < 0) return std::nullopt; // end of output, or not captured
            // Both pipes are read while waiting: the child may be blocked writing the other.
            if (!wait_for_output(deadline, false)) return std::nullopt;
        }
    }

    std::string drain(detail::captured_output& which, std::chrono::milliseconds timeout)
    {
        auto const deadline = std::chrono::steady_clock::now() + timeout;
        while (which.fd >= 0 && wait_for_output(deadline, false)) {
        }
        return which.take_rest();
    }

    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::optional<int> status_;
    detail::captured_output out_;
    detail::captured_output err_;
};

/// A bundled server (im_server, chat_server) started with `--port 0` plus `extra_args` (do not
/// pass --port), its readiness line (`<name> listening on HOST:PORT`) read back. Stopped with
/// SIGTERM by the destructor, SIGKILL after 3 s.
struct server_process {
public:
    /// Throws std::runtime_error, with what the server wrote on stderr, when it does not report
    /// `<binary's name> listening on HOST:PORT` within `ready_timeout`.
    explicit server_process(std::filesystem::path const& binary, std::vector<std::string> extra_args = {},
                               std::chrono::milliseconds ready_timeout = std::chrono::seconds(10))
        : process_(arguments(binary, std::move(extra_args)))
    {
        const std::string ready = binary.filename().string() + " listening on ";
        auto const deadline = std::chrono::steady_clock::now() + ready_timeout;
        for (;;) {
            auto const rest = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            auto line = process_.read_stdout_line(std::max(rest, std::chrono::milliseconds(0)));
            if (!line) break;
            if (!line->starts_with(ready)) continue;
            std::string_view const where = std::string_view(*line).substr(ready.size());
            auto const colon = where.rfind(':');
            unsigned port = 0;
            auto const digits = where.substr(colon == std::string_view::npos ? where.size() : colon + 1);
            auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
            if (colon == std::string_view::npos || ec != std::errc{} || end != digits.data() + digits.size() ||
                port == 0 || port > 65535)
                fail("printed an unexpected readiness line \"" + *line + "\"");
            host_ = std::string(where.substr(0, colon));
            port_ = static_cast<std::uint16_t>(port);
            return;
        }
        if (std::chrono::steady_clock::now() < deadline) fail("closed its stdout before reporting readiness");
        fail("did not report readiness within " + std::to_string(ready_timeout.count()) + " ms");
    }

    server_process(server_process&&) noexcept = default;
    server_process& operator=(server_process&&) = delete;
    server_process(server_process const&) = delete;
    server_process& operator=(server_process const&) = delete;

    ~server_process()
    {
        try {
            stop();
        } catch (...) {
            // child_process's destructor still SIGKILLs and reaps it.
        }
    }

    std::uint16_t port() const noexcept { return port_; }
    /// As printed by the server, e.g. "127.0.0.1" or "[::1]".
    std::string const& host() const noexcept { return host_; }
    child_process& process() noexcept { return process_; }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`; its exit status (the server
    /// exits 0 after SIGTERM, and its stats line is then in process().stderr_text()).
    std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(3))
    {
        if (process_.pid() <= 0) return std::nullopt;
        process_.send_signal(SIGTERM);
        if (auto status = process_.wait_for_exit(grace)) return status;
        process_.send_signal(SIGKILL);
        return process_.wait_for_exit(std::chrono::seconds(5));
    }

private:
    static std::vector<std::string> arguments(std::filesystem::path const& binary, std::vector<std::string> extra)
    {
        std::vector<std::string> args{binary.string(), "--port", "0"};
        args.insert(args.end(), std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
        return args;
    }

    [[noreturn]] void fail(std::string const& what)
    {
        process_.send_signal(SIGKILL);
        auto const status = process_.wait_for_exit(std::chrono::seconds(5));
        throw std::runtime_error("the server " + what +
                                 (status ? " (exit status " + std::to_string(*status) + ")" : std::string()) +
                                 "; its stderr: " + process_.stderr_text());
    }

    child_process process_;
    std::string host_;
    std::uint16_t port_ = 0;
};

using im_server_process = server_process;

/// A fresh directory /tmp/<prefix>-XXXXXX, removed with its contents by the destructor.
struct temp_dir {
public:
    explicit temp_dir(std::string_view prefix = "wsload-test")
    {
        std::string pattern = "/tmp/" + std::string(prefix) + "-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) detail::throw_errno("mkdtemp " + pattern);
        path_ = pattern;
    }
    temp_dir(temp_dir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
    temp_dir& operator=(temp_dir&&) = delete;
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;
    ~temp_dir()
    {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }

    std::filesystem::path const& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// Writes `dir`/cert.pem and `dir`/key.pem: a self-signed certificate for CN=`common_name` with
/// `subject_alt_name` (openssl's -addext syntax), valid two days, made by the openssl CLI. The
/// default names 127.0.0.1 and localhost. (A host name is checked against the subject's CN only
/// when the certificate has no DNS name at all: a certificate meant for IPs only needs a CN
/// that is not a host name.) Throws std::runtime_error with openssl's stderr if that fails.
inline void make_self_signed_certificate(std::filesystem::path const& dir,
                                         std::string const& subject_alt_name = "IP:127.0.0.1,DNS:localhost",
                                         std::string const& common_name = "localhost")
{
    child_options opts;
    opts.search_path = true;
    std::optional<child_process> openssl;
    try {
        openssl.emplace(std::vector<std::string>{"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                                                 "2", "-subj", "/CN=" + common_name, "-addext",
                                                 "subjectAltName=" + subject_alt_name, "-keyout",
                                                 (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()},
                        opts);
    } catch (std::system_error const& e) {
        throw std::runtime_error(std::string("cannot run the openssl CLI (is the openssl package installed?): ") +
                                 e.what());
    }
    auto const status = openssl->wait_for_exit(std::chrono::seconds(60));
    if (!status) throw std::runtime_error("openssl req did not finish within 60 s: " + openssl->stderr_text());
    if (*status != 0)
        throw std::runtime_error("openssl req failed with exit status " + std::to_string(*status) + ": " +
                                 openssl->stderr_text());
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed): for
/// "nothing listening" tests. Another process may take it meanwhile; tests accept that.
inline std::uint16_t free_tcp_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) detail::throw_errno("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        int const saved = errno;
        detail::close_fd(fd);
        errno = saved;
        detail::throw_errno("binding 127.0.0.1:0");
    }
    detail::close_fd(fd);
    return ntohs(address.sin_port);
}

} // namespace wsload::test
