#pragma once
// The opening handshake of the lean WebSocket layer (RFC 6455 section 4.1): the upgrade
// request, the nonce and the accept value it implies, and the checks of the server's reply.
// Pure functions, apart from the socket, so that what a connection keeps of the handshake is
// nothing: the request string and the parser of the reply (Beast's) live in the connecting
// coroutine and die with it.

#include <wsload/core/random.hpp>
#include <wsload/net/url.hpp>
#include <wsload/net/websocket/detail/connect_options.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// Padded base64 of `bytes`.
inline std::string base64_encode(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                    static_cast<int>(bytes.size()));
    return out;
}

/// A Sec-WebSocket-Key: 16 random bytes, base64 (a fresh nonce per connection).
inline std::string make_websocket_key(random_generator& random)
{
    char nonce[16];
    const std::uint64_t a = random(), b = random();
    std::memcpy(nonce, &a, 8);
    std::memcpy(nonce + 8, &b, 8);
    return base64_encode({nonce, sizeof nonce});
}

/// The Sec-WebSocket-Accept a server must answer `key` with: base64(SHA-1(key + GUID)).
inline std::string websocket_accept_for(std::string_view key)
{
    std::string input(key);
    input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    return base64_encode({reinterpret_cast<const char*>(digest), sizeof digest});
}

/// The upgrade request for `u` with `key`: the handshake's own lines, then those both layers
/// add (for_each_added_field: the subprotocol asked for, User-Agent, the user's extras).
inline std::string make_upgrade_request(const url& u, std::string_view key, const ws_connect_options& o)
{
    std::string r;
    r.reserve(160 + u.target.size() + u.host.size() + o.subprotocol.size());
    r += "GET ";
    r += u.target;
    r += " HTTP/1.1\r\nHost: ";
    r += u.host_header();
    r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    r += key;
    r += "\r\nSec-WebSocket-Version: 13\r\n";
    if (o.compression) {  // permessage-deflate asked for (RFC 7692): the offer
        r += "Sec-WebSocket-Extensions: ";
        r += o.compression->offer();
        r += "\r\n";
    }
    for_each_added_field(o, [&r](std::string_view name, std::string_view value) {
        r += name;
        r += ": ";
        r += value;
        r += "\r\n";
    });
    r += "\r\n";
    return r;
}

/// What a reply to the upgrade is: the 101 wanted, another status (http_status, counted with
/// its code), or a 101 that is not a valid WebSocket upgrade (handshake).
enum class upgrade_verdict { accepted, http_status, handshake };

/// Checks the reply's header as section 4.1 says a client must: 101 over HTTP/1.1, `Upgrade:
/// websocket`, `Connection: upgrade`, the accept value for our key, no extension we did not
/// offer (none unless `extensions_offered`: then the caller checks the answer with
/// negotiate_deflate). The subprotocol is checked by the caller (subprotocol_agreed).
inline upgrade_verdict check_upgrade_response(const boost::beast::http::response_header<>& res,
                                              std::string_view expected_accept, bool extensions_offered = false)
{
    namespace http = boost::beast::http;
    if (res.result() != http::status::switching_protocols) return upgrade_verdict::http_status;
    if (res.version() != 11) return upgrade_verdict::handshake;
    if (!http::token_list{res[http::field::upgrade]}.exists("websocket")) return upgrade_verdict::handshake;
    if (!http::token_list{res[http::field::connection]}.exists("upgrade")) return upgrade_verdict::handshake;
    if (res[http::field::sec_websocket_accept] != expected_accept) return upgrade_verdict::handshake;
    if (!extensions_offered && !res[http::field::sec_websocket_extensions].empty()) return upgrade_verdict::handshake;
    return upgrade_verdict::accepted;
}

/// Every Sec-WebSocket-Extensions field of `res`, joined with ", " (a list may span fields).
inline std::string extensions_answer(const boost::beast::http::response_header<>& res)
{
    std::string all;
    for (auto [it, end] = res.equal_range(boost::beast::http::field::sec_websocket_extensions); it != end; ++it) {
        if (!all.empty()) all += ", ";
        all.append(it->value().data(), it->value().size());
    }
    return all;
}

}  // namespace wsload::net::detail
