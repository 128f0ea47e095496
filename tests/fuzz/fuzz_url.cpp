// libFuzzer target: wsload::net::parse_url. Any text either parses or throws usage_error with
// a one-line message; a parsed URL keeps the invariants url.hpp documents, and its canonical
// form (to_string) parses back to the same URL, field by field.

#include "fuzz_check.hpp"

#include <wsload/net/url.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using wsload::net::parse_url;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    wsload::net::url u;
    try {
        u = parse_url(text);
    } catch (const wsload::usage_error& e) {
        WSLOAD_FUZZ_CHECK(wsload::fuzz::one_line(e.what()), e.what());
        return 0;
    }

    const auto* scheme = wsload::net::detail::find_scheme(u.scheme);
    WSLOAD_FUZZ_CHECK(scheme != nullptr, u.scheme);
    WSLOAD_FUZZ_CHECK(u.tls == scheme->tls, u.scheme);
    WSLOAD_FUZZ_CHECK(u.port != 0);
    WSLOAD_FUZZ_CHECK(!u.host.empty());
    for (char c : u.host) {
        WSLOAD_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), u.host);  // lower-case
        WSLOAD_FUZZ_CHECK(c != '[' && c != ']', u.host);     // IPv6 is bare
    }
    WSLOAD_FUZZ_CHECK(!u.target.empty() && u.target.front() == '/', u.target);
    WSLOAD_FUZZ_CHECK(u.target.find('#') == std::string::npos, u.target);  // no fragment

    const std::string canonical = u.to_string();
    wsload::net::url back;
    try {
        back = parse_url(canonical);
    } catch (const wsload::usage_error& e) {
        wsload::fuzz::fail("to_string() is not accepted by parse_url", __FILE__, __LINE__, canonical);
    }
    WSLOAD_FUZZ_CHECK(back.scheme == u.scheme, canonical);
    WSLOAD_FUZZ_CHECK(back.host == u.host, canonical);
    WSLOAD_FUZZ_CHECK(back.port == u.port, canonical);
    WSLOAD_FUZZ_CHECK(back.target == u.target, canonical);
    WSLOAD_FUZZ_CHECK(back.tls == u.tls, canonical);
    WSLOAD_FUZZ_CHECK(back.to_string() == canonical, canonical);
    return 0;
}
