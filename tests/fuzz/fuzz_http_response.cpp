// libFuzzer target: the reading of an HTTP response (net/http/detail/response_reader.hpp), as an
// HTTP connection drives it.
// Input: two option bytes, then the bytes a server sends.
//   byte 0: bits 0-2 the body limit: 0, 1, 5, 64, 1000, 65536, 1 MiB or 16 MiB; bit 3 the
//           request was a HEAD; bit 4 the server ends the connection after the bytes.
//   byte 1: the split pattern: reads of 1 to (byte 1 & 63) + 1 bytes, sizes drawn from byte 1.
// Checked:
//   - cuts change nothing: the stream fed in reads (each a heap block of its own, as the
//     connection's reads land in its buffer and the reader keeps what it cannot use yet) ends as
//     the whole stream fed at once: the same error, or the same status, fields and body, and the
//     same bytes after the response;
//   - a finished response keeps its limits: a body within the limit, none after a HEAD, and
//     its status is final (1xx replies before it are skipped), a 3-digit code;
//   - the end of the stream settles every unfinished response: complete or an error, never
//     "done" without a response.

#include "fuzz_check.hpp"

#include <wsload/net/http/detail/response_reader.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace {

using wsload::net::detail::response_reader;

struct outcome {
    boost::system::error_code error;
    bool done = false;
    unsigned status = 0;
    std::string fields;
    std::string body;
    bool ended_by_close = false;
    std::string extra_to_end;  ///< what follows the response: extra() and the bytes never fed
};

std::string fields_of(const wsload::net::detail::http_response_message& m)
{
    std::string s;
    for (const auto& f : m) {
        s += f.name_string();
        s += ':';
        s += f.value();
        s += '\n';
    }
    return s;
}

outcome read(std::string_view stream, std::size_t limit, bool head, bool eof, std::uint8_t split)
{
    response_reader reader(limit, head);
    outcome o;
    std::size_t at = 0, draw = split;
    while (at < stream.size() && !reader.done() && !o.error) {
        std::size_t n = stream.size() - at;
        if (split != 0) {
            draw = draw * 1103515245u + 12345u;
            n = std::min<std::size_t>(n, 1 + (draw >> 8) % ((split & 63u) + 1));
        }
        // Each read from its own heap block of its exact size: ASan sees a read past it.
        const std::unique_ptr<char[]> read(new char[n]);
        std::memcpy(read.get(), stream.data() + at, n);
        reader.feed({read.get(), n}, o.error);
        at += n;
        if (reader.done()) {
            o.extra_to_end = std::string(reader.extra()) + std::string(stream.substr(at));
        }
    }
    if (!reader.done() && !o.error && eof && at == stream.size()) o.error = reader.end_of_stream();
    o.done = reader.done() && !o.error;
    if (o.done) {
        o.ended_by_close = reader.ended_by_close();
        auto m = reader.release();
        o.status = m.result_int();
        o.fields = fields_of(m);
        o.body = std::move(m.body().text);
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) return 0;
    static constexpr std::size_t limits[] = {0, 1, 5, 64, 1000, 65536, 1 << 20, 16 << 20};
    const std::size_t limit = limits[data[0] & 7];
    const bool head = data[0] & 8;
    const bool eof = data[0] & 16;
    const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

    const auto whole = read(stream, limit, head, eof, 0);
    const auto cut = read(stream, limit, head, eof, data[1]);

    WSLOAD_FUZZ_CHECK(whole.done == cut.done);
    WSLOAD_FUZZ_CHECK(whole.error == cut.error, whole.error.message() + " / " + cut.error.message());
    if (whole.done) {
        WSLOAD_FUZZ_CHECK(whole.status == cut.status);
        WSLOAD_FUZZ_CHECK(whole.fields == cut.fields, whole.fields);
        WSLOAD_FUZZ_CHECK(whole.body == cut.body);
        WSLOAD_FUZZ_CHECK(whole.ended_by_close == cut.ended_by_close);
        WSLOAD_FUZZ_CHECK(whole.extra_to_end == cut.extra_to_end);
        WSLOAD_FUZZ_CHECK(whole.status >= 100 && whole.status <= 999);
        WSLOAD_FUZZ_CHECK(whole.status >= 200 || whole.status == 101);
        WSLOAD_FUZZ_CHECK(whole.body.size() <= limit);
        if (head) WSLOAD_FUZZ_CHECK(whole.body.empty());
    }
    if (wsload::fuzz::verbose())
        std::fprintf(stderr, "done=%d status=%u body=%zu error=%s\n", whole.done, whole.status, whole.body.size(),
                     whole.error.message().c_str());
    return 0;
}
