#pragma once
// A set of whole numbers written as ranges, `0-9` or `3,7,100-199`: which users --log-users
// traces. Kept as sorted, merged intervals; contains() is a binary search.

#include <wsload/core/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsload {

class index_set {
public:
    index_set() = default;

    /// Reads `3,7,100-199` (spaces around the parts allowed; empty: the empty set). Throws
    /// usage_error naming what is wrong, without the flag's name (the caller prefixes it).
    static index_set parse(std::string_view text)
    {
        index_set s;
        const auto bad = [&](std::string_view why) {
            return usage_error(wsload::detail::quoted(text) + " is not a list of user numbers: " + std::string(why) +
                               " (use e.g. 0-9 or 3,7,100-199)");
        };
        const auto trim = [](std::string_view t) {
            while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
            while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
            return t;
        };
        const auto number = [&](std::string_view t) {
            t = trim(t);
            std::uint64_t v = 0;
            const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
            if (t.empty() || ec != std::errc{} || p != t.data() + t.size())
                throw bad(wsload::detail::quoted(t) + " is not a whole number");
            return v;
        };
        if (trim(text).empty()) return s;
        std::size_t at = 0;
        for (;;) {
            const auto comma = std::min(text.find(',', at), text.size());
            const auto part = text.substr(at, comma - at);
            if (trim(part).empty()) throw bad("an empty part");
            const auto dash = part.find('-');
            const auto lo = number(part.substr(0, dash));
            const auto hi = dash == std::string_view::npos ? lo : number(part.substr(dash + 1));
            if (hi < lo) throw bad(std::to_string(lo) + "-" + std::to_string(hi) + " runs backwards");
            s.ranges_.emplace_back(lo, hi);
            if (comma == text.size()) break;
            at = comma + 1;
        }
        std::sort(s.ranges_.begin(), s.ranges_.end());
        std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
        for (const auto& r : s.ranges_)
            if (!merged.empty() && (r.first <= merged.back().second || r.first - 1 == merged.back().second))
                merged.back().second = std::max(merged.back().second, r.second);
            else
                merged.push_back(r);
        s.ranges_ = std::move(merged);
        return s;
    }

    bool empty() const noexcept { return ranges_.empty(); }
    bool contains(std::uint64_t n) const noexcept
    {
        const auto it = std::upper_bound(ranges_.begin(), ranges_.end(), n,
                                         [](std::uint64_t v, const auto& r) { return v < r.first; });
        return it != ranges_.begin() && n <= std::prev(it)->second;
    }
    /// The inclusive ranges, sorted and merged.
    const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges() const noexcept { return ranges_; }

    /// The form parse() reads back: `3,7,100-199` (merged: `1-3,2-5` reads back as `1-5`).
    std::string to_string() const
    {
        std::string out;
        for (const auto& [lo, hi] : ranges_) {
            if (!out.empty()) out += ',';
            out += std::to_string(lo);
            if (hi != lo) out += "-" + std::to_string(hi);
        }
        return out;
    }

    friend bool operator==(const index_set&, const index_set&) = default;

private:
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_;
};

}  // namespace wsload
