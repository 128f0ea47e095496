#pragma once
// A request waiting for its reply, and a connection's requests by key: the structures of
// request/reply correlation (connection_base::request, deliver and claim use them).

#include <wsload/net/detail/parked.hpp>
#include <wsload/net/detail/request_accounting.hpp>
#include <wsload/net/reply_key.hpp>
#include <wsload/net/request_options.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace wsload::net::detail {

/// A request waiting for its reply.
struct pending_request : parked_wait {
    pending_request(expire_fn expired, connection_base* s, const reply_matcher* m, clock::time_point sent,
                    request_accounting a, pending_request* after) noexcept
        : parked_wait(expired), session(s), match(m), sent_at(sent), figures(a), next(after)
    {}
    connection_base* session;
    const reply_matcher* match;
    clock::time_point sent_at;
    request_accounting figures;  ///< its counters and its name's row
    std::optional<message> reply;
    pending_request* next = nullptr;
    pending_request** link = nullptr;  ///< the pointer to it in its connection's list; null: not in it
    const std::string* key = nullptr;  ///< a keyed request's key (in the lookup's node); null: matched by scan
    bool rejected = false;  ///< its reply said it failed (reply::reject)
    bool streamed = false;  ///< a part of its reply came (reply::more): its first part is timed
};

/// A connection's requests by key (reply_key): allocated when the connection is given a key.
struct keyed_requests {
    explicit keyed_requests(std::shared_ptr<const reply_key> k) : key_of(std::move(k)) {}
    std::shared_ptr<const reply_key> key_of;
    std::unordered_map<std::string, pending_request*> waiting;
};

}  // namespace wsload::net::detail
