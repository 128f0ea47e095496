#pragma once
// Who opens connections: what a transport needs of a simulated user, owned by net/ so that a
// transport constructs itself from the user (`co_await wsload::tcp::connect(u, url)`) and adding
// a transport does not touch the user. runtime's user implements it.

#include <wsload/core/random.hpp>
#include <wsload/net/closable.hpp>
#include <wsload/net/url.hpp>

#include <string>
#include <string_view>

namespace wsload::net {

class io_thread;

class connection_owner {
public:
    /// The thread the owner and its connections live on.
    virtual io_thread& thread() noexcept = 0;
    /// The run's --target; throws usage_error when the run has none.
    virtual const url& target() const = 0;
    /// The owner's generator (seeded from --seed): phases, jitter, choices.
    virtual random_generator& random() noexcept = 0;
    /// The owner's open connections: a transport links each connection it makes here, so that
    /// stopping the owner alone (a ramp-down) closes them. One leaves the list when it ends.
    virtual closable_list& connections() noexcept = 0;
    /// Whether the owner's connections log their traffic (--log-users chose it): asked once per
    /// connect; an owner not traced costs its connections one bool test per event.
    virtual bool traced() const noexcept { return false; }
    /// How a traced owner's lines name it, e.g. `user_3` (asked only when traced()).
    virtual std::string trace_tag() const { return {}; }

protected:
    ~connection_owner() = default;
};

/// A URL a transport cannot use: one line naming it and the schemes the transport takes. The
/// engine ends the run on it with exit status 2 (a usage error, not a failure of each user).
[[noreturn]] inline void throw_wrong_scheme(const url& u, std::string_view transport, std::string_view schemes)
{
    throw usage_error(wsload::detail::quoted(u.to_string()) + " is not a " + std::string(transport) + " URL (" +
                      std::string(transport) + " takes " + std::string(schemes) + ")");
}

}  // namespace wsload::net
