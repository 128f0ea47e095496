#pragma once
// A user's cookies (RFC 6265, the parts a load test meets): kept from Set-Cookie, sent back to
// the host and path they belong to, dropped when they expire (Max-Age) or are deleted.

#include <wsload/core/task.hpp>

#include <boost/beast/http/fields.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::http {

class cookie_jar {
public:
    struct cookie {
        std::string name, value;
        std::string domain;  ///< lower-case, no leading dot
        bool host_only = true;  ///< no Domain attribute: this host only
        std::string path = "/";
        bool secure = false;
        std::optional<clock::time_point> expires;
    };

    /// Takes the cookie of one Set-Cookie header of a response from `host` for `path`.
    void set(std::string_view header, std::string_view host, std::string_view request_path)
    {
        cookie c;
        auto attrs = split(header, ';');
        if (attrs.empty()) return;
        const auto eq = attrs[0].find('=');
        if (eq == std::string_view::npos) return;  // RFC 6265 5.2: ignored
        c.name = trim(attrs[0].substr(0, eq));
        c.value = trim(attrs[0].substr(eq + 1));
        if (c.name.empty()) return;
        c.domain = lower(host);
        c.path = default_path(request_path);
        bool remove = false;
        for (std::size_t i = 1; i < attrs.size(); ++i) {
            const auto a = attrs[i];
            const auto aeq = a.find('=');
            const auto key = lower(trim(a.substr(0, aeq)));
            const auto val = aeq == std::string_view::npos ? std::string() : trim(a.substr(aeq + 1));
            if (key == "path" && !val.empty() && val[0] == '/') c.path = val;
            else if (key == "secure") c.secure = true;
            else if (key == "domain" && !val.empty()) {
                auto d = lower(val);
                if (d[0] == '.') d.erase(0, 1);
                if (!domain_match(c.domain, d)) return;  // a cookie for another site: refused
                c.domain = d;
                c.host_only = false;
            } else if (key == "max-age") {
                long long seconds = 0;
                const auto r = std::from_chars(val.data(), val.data() + val.size(), seconds);
                if (r.ec != std::errc() || r.ptr != val.data() + val.size()) continue;
                if (seconds <= 0) remove = true;
                else c.expires = clock::now() + std::chrono::seconds(seconds);
            }
            // Expires (a date) is not read: servers that mean to delete send Max-Age=0 or an
            // empty value as well, and a load test's sessions end before any date matters.
        }
        std::erase_if(cookies_, [&](const cookie& o) { return o.name == c.name && o.domain == c.domain && o.path == c.path; });
        if (!remove) cookies_.push_back(std::move(c));
    }

    /// The Cookie header for a request to `host` and `path` (empty: none), most specific path first.
    std::string header_for(std::string_view host, std::string_view path, bool secure_channel)
    {
        const auto now = clock::now();
        std::erase_if(cookies_, [&](const cookie& c) { return c.expires && *c.expires <= now; });
        const auto h = lower(host);
        std::vector<const cookie*> chosen;
        for (const auto& c : cookies_) {
            if (c.secure && !secure_channel) continue;
            if (c.host_only ? c.domain != h : !domain_match(h, c.domain)) continue;
            if (!path_match(path, c.path)) continue;
            chosen.push_back(&c);
        }
        std::stable_sort(chosen.begin(), chosen.end(),
                         [](const cookie* a, const cookie* b) { return a->path.size() > b->path.size(); });
        std::string out;
        for (const auto* c : chosen) {
            if (!out.empty()) out += "; ";
            out += c->name;
            out += '=';
            out += c->value;
        }
        return out;
    }

    /// A cookie's value for `host` (the first of that name), for behaviours that read a token.
    std::optional<std::string> get(std::string_view name) const
    {
        for (const auto& c : cookies_)
            if (c.name == name) return c.value;
        return std::nullopt;
    }
    const std::vector<cookie>& all() const noexcept { return cookies_; }
    void clear() noexcept { cookies_.clear(); }

private:
    static std::vector<std::string_view> split(std::string_view s, char sep)
    {
        std::vector<std::string_view> out;
        while (true) {
            const auto at = s.find(sep);
            out.push_back(s.substr(0, at));
            if (at == std::string_view::npos) break;
            s.remove_prefix(at + 1);
        }
        return out;
    }
    static std::string trim(std::string_view s)
    {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
        return std::string(s);
    }
    static std::string lower(std::string_view s)
    {
        std::string out(s);
        for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return out;
    }
    /// RFC 6265 5.1.3: the host is the domain or ends with "." + domain.
    static bool domain_match(std::string_view host, std::string_view domain)
    {
        if (host == domain) return true;
        return host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.';
    }
    /// RFC 6265 5.1.4.
    static std::string default_path(std::string_view request_path)
    {
        request_path = request_path.substr(0, request_path.find('?'));
        if (request_path.empty() || request_path[0] != '/') return "/";
        const auto last = request_path.rfind('/');
        return last == 0 ? "/" : std::string(request_path.substr(0, last));
    }
    static bool path_match(std::string_view request_path, std::string_view cookie_path)
    {
        request_path = request_path.substr(0, request_path.find('?'));
        if (request_path == cookie_path) return true;
        if (!request_path.starts_with(cookie_path)) return false;
        return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
    }

    std::vector<cookie> cookies_;
};

}  // namespace wsload::http
