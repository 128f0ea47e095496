#pragma once
// The run configuration most in-process integration cases use: a target, a few users on two
// threads, quiet, with a duration that only bounds the run (it ends when every user has).

#include <wsload/net/url.hpp>
#include <wsload/runtime/run_config.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsload::test {

inline wsload::run_config quiet_run(std::string_view name, const std::string& url, std::uint64_t users,
                                    std::chrono::nanoseconds bound = std::chrono::seconds(20))
{
    wsload::run_config c;
    c.name = std::string(name);
    c.target = wsload::net::parse_url(url);
    c.users = users;
    c.duration = bound;
    c.threads = 2;
    c.quiet = true;
    return c;
}

}  // namespace wsload::test
