#pragma once
// The live control on the --metrics-listen endpoint: HTTP routes (report/metrics_endpoint.hpp)
// wired to a running engine's load_control (runtime/load_control.hpp), usable with curl:
//
//   GET  /control                                  the load as it is now, as JSON
//   POST /control/users?target=500&rate=50         go to 500 users at 50 users/s (or over=30s)
//   POST /control/spawn-rate?rate=20               the ramp under way goes on at 20 users/s
//   POST /control/arrival-rate?rate=80&over=10s    open model: to 80 iterations/s over 10 s
//
// 200 with the new state once applied; 400 and one line for a parameter that is missing,
// unknown, repeated or not a number; 409 and one line for a change this run cannot take (an
// arrival rate on a closed model, users above the maximum, a run that is stopping).

#include <wsload/core/duration.hpp>
#include <wsload/core/error.hpp>
#include <wsload/report/metrics_endpoint.hpp>
#include <wsload/runtime/load_control.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsload::dsl {

namespace detail {

/// A bad request: its one line goes back with status 400.
struct bad_parameter {
    std::string why;
};

/// A query's parameters (name=value&...), each once, each one of `known`.
inline std::map<std::string, std::string> parameters(std::string_view query, std::initializer_list<std::string_view> known)
{
    const auto names = [&] {
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return list;
    };
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        const auto name = std::string(item.substr(0, eq));
        if (std::find(known.begin(), known.end(), name) == known.end())
            throw bad_parameter{"unknown parameter " + wsload::detail::quoted(name) + " (use " + names() + ")"};
        if (eq == std::string_view::npos || eq + 1 == item.size())
            throw bad_parameter{"parameter " + name + " has no value (write " + name + "=VALUE)"};
        if (!out.emplace(name, std::string(item.substr(eq + 1))).second)
            throw bad_parameter{"parameter " + name + " is given twice (give it once)"};
    }
    return out;
}

inline const std::string* find(const std::map<std::string, std::string>& p, const std::string& name)
{
    const auto it = p.find(name);
    return it == p.end() ? nullptr : &it->second;
}
inline const std::string& required(const std::map<std::string, std::string>& p, const std::string& name,
                                   std::string_view example)
{
    if (const auto* v = find(p, name)) return *v;
    throw bad_parameter{"parameter " + name + " is missing (e.g. " + std::string(example) + ")"};
}

inline std::uint64_t whole_number(const std::string& name, const std::string& text)
{
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
        throw bad_parameter{name + "=" + text + " is not a whole number of users (e.g. " + name + "=500)"};
    return v;
}
inline double rate(const std::string& name, const std::string& text, const char* unit)
{
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
        throw bad_parameter{name + "=" + text + " is not a number of " + unit + " per second (e.g. " + name + "=50)"};
    return v;
}
inline std::chrono::nanoseconds duration(const std::string& name, const std::string& text)
{
    try {
        return parse_duration(text);
    } catch (const usage_error& e) {
        throw bad_parameter{name + ": " + e.what()};
    }
}

/// The state as one line of JSON. Numbers as people write them (Boost.JSON would print 10.0 as
/// 1E1): a rate with %g, seconds to the millisecond.
inline std::string state_json(const runtime::load_state& s)
{
    const auto number = [](const char* format, double v) {
        char text[48];
        std::snprintf(text, sizeof text, format, v);
        return std::string(text);
    };
    const auto seconds = [&](std::chrono::nanoseconds d) {
        return number("%.3f", std::chrono::duration<double>(d).count());
    };
    const auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    std::string o = "{\"started\":" + flag(s.started) + ",\"stopping\":" + flag(s.stopping) + ",\"model\":\"" +
                    (s.open_model ? "open" : "closed") + "\",";
    if (!s.open_model) o += "\"target_users\":" + std::to_string(s.target_users) + ",";
    o += "\"running_users\":" + std::to_string(s.running_users) + ",\"max_users\":" + std::to_string(s.max_users) + ",";
    o += s.open_model ? "\"arrival_rate\":" + number("%g", s.arrival_rate) : "\"spawn_rate\":" + number("%g", s.spawn_rate);
    o += ",\"elapsed_s\":" + seconds(s.elapsed) + ",\"remaining_s\":" + seconds(s.remaining) +
         ",\"changes\":" + std::to_string(s.changes) + ",\"phase\":" + boost::json::serialize(boost::json::value(s.phase)) + "}";
    return o;
}

inline report::http_answer text_answer(unsigned status, std::string line)
{
    return {status, "text/plain; charset=utf-8", std::move(line) + "\n"};
}

/// Runs `apply` (a parse of the query and a change), answering as the header says.
template <class Apply>
report::http_answer answer(runtime::load_control& control, Apply apply)
{
    try {
        const auto r = apply();
        if (r.outcome == runtime::change_result::status::invalid) return text_answer(400, r.reason);
        if (r.outcome == runtime::change_result::status::refused) return text_answer(409, r.reason);
    } catch (const bad_parameter& e) {
        return text_answer(400, e.why);
    }
    return {200, "application/json", state_json(control.state()) + "\n"};
}

}  // namespace detail

/// The routes of the live control (see the top of this file). `control` must outlive them.
inline std::vector<report::http_route> control_routes(runtime::load_control& control)
{
    using report::http_answer;
    using report::http_call;
    std::vector<report::http_route> routes;
    routes.push_back({"GET", "/control", [&control](const http_call&) -> http_answer {
                          return {200, "application/json", detail::state_json(control.state()) + "\n"};
                      }});
    routes.push_back({"POST", "/control/users", [&control](const http_call& call) {
                          return detail::answer(control, [&] {
                              const auto p = detail::parameters(call.query, {"target", "rate", "over"});
                              runtime::users_change c;
                              c.target = detail::whole_number("target", detail::required(p, "target", "target=500"));
                              if (const auto* v = detail::find(p, "rate")) c.spawn_rate = detail::rate("rate", *v, "users");
                              if (const auto* v = detail::find(p, "over")) c.over = detail::duration("over", *v);
                              return control.set_users(c);
                          });
                      }});
    routes.push_back({"POST", "/control/spawn-rate", [&control](const http_call& call) {
                          return detail::answer(control, [&] {
                              const auto p = detail::parameters(call.query, {"rate"});
                              return control.set_spawn_rate(detail::rate("rate", detail::required(p, "rate", "rate=50"), "users"));
                          });
                      }});
    routes.push_back({"POST", "/control/arrival-rate", [&control](const http_call& call) {
                          return detail::answer(control, [&] {
                              const auto p = detail::parameters(call.query, {"rate", "over"});
                              runtime::rate_change c;
                              c.per_second = detail::rate("rate", detail::required(p, "rate", "rate=80"), "iterations");
                              if (const auto* v = detail::find(p, "over")) c.over = detail::duration("over", *v);
                              return control.set_arrival_rate(c);
                          });
                      }});
    return routes;
}

}  // namespace wsload::dsl
