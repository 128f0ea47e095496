#pragma once
// The names seed 004's upload service expects (upload_server checks them): student ids
// test_00001..., and videos <id>_<yyyymmdd_hhmmss>_seq_<NNNN>.mp4. Shared by upload_bench and
// bench/wsload_client's http-upload workload.

#include <cstdint>
#include <cstdio>
#include <ctime>
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

}  // namespace upload_names
