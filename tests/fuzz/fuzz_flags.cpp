// libFuzzer target: the command line every scenario understands (dsl/command_line.hpp), with
// scenario flags of each kind, set up as tests/unit/dsl_test.cpp does. The input is split at
// NUL bytes into argv words (a word may hold any other byte, newlines included). Checked: only
// usage_error escapes; its message is one non-empty line; a successful parse leaves a
// configuration that validate() promises.
//
// The only side effect of parsing is --json's probe (create, then remove, the file): its value
// is rewritten into a private temporary directory, '/' replaced, so that no run writes
// elsewhere. --ca-file is only stat'ed and is passed as is.

#include "fuzz_check.hpp"

#include <wsload/dsl/command_line.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::string sandbox;  // where --json values point

std::string sandboxed(std::string_view value)
{
    if (value.empty()) return {};  // an empty --json means "no file": keep that case
    std::string name(value);
    for (char& c : name)
        if (c == '/') c = '_';
    return sandbox + "/" + name;
}

struct scenario_flags {
    wsload::run_config config;
    std::string target = "ws://127.0.0.1:9000/ws";
    std::string mode = "messaging";
    std::chrono::nanoseconds interval = std::chrono::seconds(1);
    bool verbose = false;
    unsigned message_bytes = 64;
    double rate = 1.5;
    std::vector<wsload::dsl::custom_flag> flags;

    scenario_flags()
    {
        using wsload::dsl::make_flag;
        flags.push_back(make_flag<std::string>("mode", mode, "what users do", {"connect-only", "messaging"}));
        flags.push_back(make_flag("message-interval", interval, "per user"));
        flags.push_back(make_flag("verbose", verbose, "say more"));
        flags.push_back(make_flag("message-bytes", message_bytes, "payload size"));
        flags.push_back(make_flag("rate", rate, "messages per second"));
    }
    scenario_flags(const scenario_flags&) = delete;  // the flags point at these members
    scenario_flags& operator=(const scenario_flags&) = delete;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    std::string pattern = (std::filesystem::temp_directory_path() / "wsload-fuzz-flags-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::perror("mkdtemp");
        std::abort();
    }
    sandbox = pattern;
    std::atexit([] {
        std::error_code ignored;
        std::filesystem::remove_all(sandbox, ignored);
    });
    std::cout.rdbuf(nullptr);                                  // --help text
    wsload::current_log_level() = wsload::log_level::error;  // "--ramp is longer than --duration"
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<std::string> words{"scenario"};
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (std::size_t start = 0; start <= input.size();) {
        const auto end = std::min(input.find('\0', start), input.size());
        words.emplace_back(input.substr(start, end - start));
        start = end + 1;
    }
    if (size == 0) words.pop_back();  // no input: no arguments at all
    for (std::size_t i = 1; i < words.size(); ++i) {
        if (words[i] == "--json" && i + 1 < words.size())
            words[i + 1] = sandboxed(words[i + 1]);
        else if (words[i].starts_with("--json="))
            words[i] = "--json=" + sandboxed(std::string_view(words[i]).substr(7));
    }

    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    scenario_flags s;
    bool ran = false;
    try {
        wsload::dsl::command_line cli(s.config, s.target, s.flags);
        ran = cli.parse(static_cast<int>(words.size()), argv.data());
    } catch (const wsload::usage_error& e) {
        const std::string_view message = e.what();
        WSLOAD_FUZZ_CHECK(!message.empty());
        WSLOAD_FUZZ_CHECK(wsload::fuzz::one_line(message), message);
        return 0;
    } catch (const std::exception& e) {
        // A scenario's run() turns only usage_error into "status 2": anything else ends it.
        wsload::fuzz::fail("an exception other than usage_error escaped", __FILE__, __LINE__, e.what());
    }
    if (ran) {
        WSLOAD_FUZZ_CHECK(s.config.users >= 1);
        WSLOAD_FUZZ_CHECK(s.config.threads >= 1 && s.config.threads <= 1024);
        WSLOAD_FUZZ_CHECK(s.config.duration.count() > 0);
        WSLOAD_FUZZ_CHECK(s.config.connect_timeout.count() > 0);
        WSLOAD_FUZZ_CHECK(s.target.empty() || s.config.target.has_value(), s.target);
        WSLOAD_FUZZ_CHECK(s.mode == "connect-only" || s.mode == "messaging", s.mode);
    }
    return 0;
}
