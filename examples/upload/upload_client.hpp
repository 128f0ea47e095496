#pragma once
// What a client of seed 004's upload service says (upload_server checks it): student ids
// test_00001..., videos <id>_<yyyymmdd_hhmmss>_seq_<NNNN>.mp4, and the login whose token goes
// with every upload. Shared by upload_bench and bench/wsload_client's http-upload workload.

#include <wsload/wsload.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

namespace upload_names {

/// test_<n>, five digits at least: test_00001.
inline std::string student_id(std::uint64_t n)
{
    char id[32];
    std::snprintf(id, sizeof id, "test_%05llu", static_cast<unsigned long long>(n));
    return id;
}

/// <id>_<yyyymmdd_hhmmss>_seq_<NNNN>.mp4, at the local time of the call.
inline std::string video_name(const std::string& id, std::uint64_t seq)
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &local);
    char number[24];
    std::snprintf(number, sizeof number, "%04llu", static_cast<unsigned long long>(seq));
    return id + "_" + stamp + "_seq_" + number + ".mp4";
}

/// POST /api/login as `id`; on success the token becomes `api`'s bearer for what follows.
/// False when the login was refused or failed (counted as such); a reply without a token is
/// the server's error, thrown (the behaviour ends, counted).
inline wsload::task<bool> log_in(wsload::http::client& api, const std::string& id, const std::string& password)
{
    const boost::json::value credentials = {{"student_id", id}, {"password", password}};
    const auto login = co_await api.post_json("/api/login", credentials, {.name = "login"});
    if (!login.ok) co_return false;
    const auto reply = login.json();  // held: `token` points into it; throws when it is not JSON
    const auto* token = reply.is_object() ? reply.as_object().if_contains("token") : nullptr;
    if (!token || !token->is_string()) throw std::runtime_error("the login reply has no token: " + login.body);
    api.bearer(std::string(token->as_string()));
    co_return true;
}

}  // namespace upload_names
