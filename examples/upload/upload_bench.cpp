// upload_bench: seed 004's student video uploads (a distributed Locust test) as a wsload
// scenario; upload_server.cpp in this folder is the server, its header comment has the protocol.
//
//   upload_bench --target http://127.0.0.1:8080 --users 500 --duration 10m
//                [--student-offset 0] [--period 120s] [--min-mb 15] [--max-mb 20] [--uploads 0]
//                [--password secret] [--raw] [--skip-seq 0] [--upload-timeout 10m]
//
// Each user is one student, test_<offset + index + 1> in five digits (test_00001 ...). It logs
// in (POST /api/login, the token then goes as a bearer header), then uploads a video every
// --period, the first at a random point of the first period so that 500 students do not all
// start at once. Videos are named <id>_<yyyymmdd_hhmmss>_seq_<NNNN>.mp4 with seq 1, 2, 3, ...
// and sized uniformly between --min-mb and --max-mb; their bytes are generated while they are
// sent (multipart/form-data, or a raw body with --raw), never held in memory. Each upload is
// scheduled: its round trip counts from when it was due, so a slow server cannot hide behind
// late uploads.
//
// --student-offset is the seed's WORKER_OFFSET (the environment variable is read too, the flag
// wins): workers that each run a share of the students give each a distinct range.
// --uploads N stops each student after N uploads (0: until the run ends). --skip-seq N makes
// every student skip sequence number N, to check that the server reports the gap.
//
// After wsload's report (rows "POST login" and "POST upload", the upload histogram and
// throughput), it prints the seed's figures: students, uploads done and failed, data sent, the
// bandwidth the run needed and the one the seed plans for (500 x 150 KB/s).

#include "upload_client.hpp"

#include <wsload/wsload.hpp>

#include <boost/json/value.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

namespace {

std::uint64_t student_offset = 0;
std::chrono::nanoseconds period = 120s;
double min_mb = 15, max_mb = 20;
std::uint64_t uploads_per_student = 0;
std::uint64_t skip_seq = 0;
std::string password = "secret";
bool raw = false;
std::chrono::nanoseconds upload_timeout = 10min;

using upload_names::student_id;
using upload_names::video_name;

wsload::task<> student(wsload::user& u)
{
    namespace http = wsload::http;
    if (min_mb < 0 || max_mb < min_mb) {
        char got[64];
        std::snprintf(got, sizeof got, "%g and %g", min_mb, max_mb);
        throw wsload::usage_error(std::string("--min-mb and --max-mb: give 0 <= min <= max (got ") + got + ")");
    }
    const auto id = student_id(student_offset + u.index() + 1);
    http::client api(u, http::options().timeout(upload_timeout));

    if (!co_await upload_names::log_in(api, id, password)) co_return;  // counted: failed, timed out or rejected

    const auto min_bytes = static_cast<std::uint64_t>(min_mb * 1e6);
    const auto max_bytes = static_cast<std::uint64_t>(max_mb * 1e6);
    wsload::send_pacer uploads(u, wsload::pacing::every(period));
    std::uint64_t done = 0;
    for (std::uint64_t seq = 1; u.running() && (uploads_per_student == 0 || done < uploads_per_student); ++seq) {
        if (seq == skip_seq) continue;
        if (!co_await uploads.next()) break;  // the user is stopping
        const auto size = min_bytes + u.random().below(max_bytes - min_bytes + 1);
        const auto name = video_name(id, seq);
        // The same bytes for the same student and seq, whatever the run: a server that
        // deduplicates by content sees what it would see in production, distinct videos.
        auto video = http::body::generated(size, u.index() * 1'000'003 + seq, "video/mp4");
        const auto seq_text = std::to_string(seq);
        if (raw) {
            const auto target = "/api/upload?student_id=" + id + "&seq=" + seq_text + "&filename=" + name;
            co_await api.post(target, std::move(video), {.name = "upload", .intended_at = uploads.due()});
        } else {
            auto form = http::multipart().field("student_id", id).field("seq", seq_text).file("file", name, std::move(video));
            co_await api.post("/api/upload", form, {.name = "upload", .intended_at = uploads.due()});
        }
        ++done;
    }
}

void seed_report(std::FILE* out, const wsload::stats::run_info& info, const wsload::stats::run_result& r)
{
    const auto& t = *r.totals;
    std::uint64_t ok = 0, failed = 0;
    for (const auto& [key, named] : t.requests)
        if (key.name == "upload") {
            ok += named.answered;
            failed += named.failures();
        }
    const double seconds = std::max(std::chrono::duration<double>(r.elapsed).count(), 1e-9);
    const double mb = static_cast<double>(t[wsload::stats::counter_id::upload_bytes]) / 1e6;
    const double per_student_kbs = (min_mb + max_mb) / 2 * 1e3 / std::chrono::duration<double>(period).count();
    std::fprintf(out, "\n===== Upload test (seed 004) =====\n");
    std::fprintf(out, "students:              %llu (test_%05llu .. test_%05llu)\n",
                 static_cast<unsigned long long>(info.users), static_cast<unsigned long long>(student_offset + 1),
                 static_cast<unsigned long long>(student_offset + info.users));
    std::fprintf(out, "uploads:               %llu done, %llu failed\n", static_cast<unsigned long long>(ok),
                 static_cast<unsigned long long>(failed));
    std::fprintf(out, "data sent:             %.1f MB in %.1f s (%.2f MB/s)\n", mb, seconds, mb / seconds);
    std::fprintf(out, "planned bandwidth:     %.0f KB/s per student, %.2f MB/s for %llu students\n", per_student_kbs,
                 per_student_kbs * static_cast<double>(info.users) / 1e3, static_cast<unsigned long long>(info.users));
}

}  // namespace

int main(int argc, char** argv)
{
    if (const char* offset = std::getenv("WORKER_OFFSET"); offset && *offset) {
        char* end = nullptr;
        student_offset = std::strtoull(offset, &end, 10);
        if (*end != '\0') {
            std::fprintf(stderr, "wsload: WORKER_OFFSET=\"%s\" is not a whole number\n", offset);
            return 2;
        }
    }
    auto s = wsload::scenario("upload_bench");
    s.target("http://127.0.0.1:8080")
        .users(500)
        .duration(10min)
        .flag("student-offset", student_offset, "students are test_<offset+1> ... (the seed's WORKER_OFFSET)")
        .flag("period", period, "each student uploads one video per period")
        .flag("min-mb", min_mb, "smallest video, in MB (10^6 bytes)")
        .flag("max-mb", max_mb, "largest video, in MB")
        .flag("uploads", uploads_per_student, "uploads per student (0: until the run ends)")
        .flag("skip-seq", skip_seq, "every student skips this sequence number (0: none), to test gap reports")
        .flag("password", password, "the password students log in with")
        .flag("raw", raw, "send raw bodies (application/octet-stream) instead of multipart/form-data")
        .flag("upload-timeout", upload_timeout, "how long one request may take")
        .behavior(student)
        .summary(seed_report);
    return s.run(argc, argv);
}
