#pragma once
// TLS session resumption (--tls-resume): the sessions servers offer (TLS 1.3 tickets, TLS 1.2
// session ids) kept per thread and per host:port, each used by one later connect to the same
// place, as a returning client would. A TLS 1.3 ticket is single-use (OpenSSL does not offer
// one twice), so each is handed out once; a pool holds at most `limit` per place, the oldest
// dropped beyond it. Thread-local: the connection, its SSL object and OpenSSL's new-session
// callback all run on the connection's thread, so no lock is taken.

#include <openssl/ssl.h>

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace wsload::net::detail {

class tls_session_pool {
public:
    static constexpr std::size_t limit = 1024;

    /// Turns resumption on for connections made with `ctx` (once, while it is built).
    static void enable(SSL_CTX* ctx)
    {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, &on_new_session);
    }

    /// Before the handshake: `ssl` resumes a session pooled for `place` (host:port) if there is
    /// one, and the sessions its server offers go to that place's pool.
    static void attach(SSL* ssl, const std::string& place)
    {
        auto& pools = local();
        auto [at, added] = pools.try_emplace(place);
        // The key's node outlives every SSL object that points at it (the pools live as long
        // as the thread, and connections end before it).
        SSL_set_ex_data(ssl, index(), const_cast<std::string*>(&at->first));
        auto& sessions = at->second.sessions;
        if (sessions.empty()) return;
        SSL_SESSION* s = sessions.front();
        sessions.pop_front();
        SSL_set_session(ssl, s);  // takes its own reference
        SSL_SESSION_free(s);
    }

private:
    struct pool {
        std::deque<SSL_SESSION*> sessions;
        pool() = default;
        pool(const pool&) = delete;
        pool& operator=(const pool&) = delete;
        ~pool()
        {
            for (auto* s : sessions) SSL_SESSION_free(s);
        }
    };

    static std::unordered_map<std::string, pool>& local()
    {
        thread_local std::unordered_map<std::string, pool> pools;
        return pools;
    }

    static int index()
    {
        static const int i = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return i;
    }

    /// OpenSSL's new-session callback: 1 = the session is ours now.
    static int on_new_session(SSL* ssl, SSL_SESSION* s)
    {
        const auto* place = static_cast<const std::string*>(SSL_get_ex_data(ssl, index()));
        if (!place || !SSL_SESSION_is_resumable(s)) return 0;
        auto& sessions = local()[*place].sessions;
        if (sessions.size() == limit) {
            SSL_SESSION_free(sessions.front());
            sessions.pop_front();
        }
        sessions.push_back(s);
        return 1;
    }
};

}  // namespace wsload::net::detail
