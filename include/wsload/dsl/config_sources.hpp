#pragma once
// Where a flag's value comes from besides the builder and the command line: a config file
// (--config FILE, the INI form Boost.Program_options reads) and WSLOAD_* environment
// variables. Every value keeps its origin, so that an error names the file and line or the
// variable, and --print-config can say where each value came from.

#include <wsload/core/error.hpp>

#include <boost/program_options.hpp>
#include <boost/program_options/environment_iterator.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace wsload::dsl {

/// Where a value came from, lowest precedence first.
enum class origin { wsload_default, builder, file, environment, command_line };

/// One value of one flag and where it was written.
struct setting {
    std::string key{};                ///< the flag as written: `conns` for the alias of users
    std::string value{};
    origin from = origin::wsload_default;
    std::string where{};              ///< file: its name as given; environment: the variable
    std::size_t line = 0;             ///< file: the line, from 1
};

/// The variable a flag is read from: `ping-interval` -> `WSLOAD_PING_INTERVAL`.
inline std::string environment_name(std::string_view flag)
{
    std::string name = "WSLOAD_";
    for (char c : flag) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

/// How an error names a value: `--users`, `load.conf:3: users`, `WSLOAD_USERS`.
inline std::string label(const setting& s)
{
    switch (s.from) {
    case origin::file: return s.where + ":" + std::to_string(s.line) + ": " + s.key;
    case origin::environment: return s.where;
    default: return "--" + s.key;
    }
}

/// How --print-config names an origin: default, builder, file load.conf:3, env WSLOAD_USERS,
/// command line.
inline std::string describe_origin(const setting& s)
{
    switch (s.from) {
    case origin::wsload_default: return "default";
    case origin::builder: return "builder";
    case origin::file: return "file " + s.where + ":" + std::to_string(s.line);
    case origin::environment: return "env " + s.where;
    case origin::command_line: return "command line";
    }
    return {};
}

/// Whether a config file line `key = value` gives back exactly `value`: Program_options cuts a
/// line at its first '#' and trims spaces, tabs and line ends around the value.
inline bool writable_in_config_file(std::string_view value)
{
    constexpr std::string_view edges = " \t\r\n";
    if (value.find_first_of("#\r\n") != std::string_view::npos) return false;
    return value.empty() || (edges.find(value.front()) == std::string_view::npos &&
                             edges.find(value.back()) == std::string_view::npos);
}

/// A config file as --print-config writes it: `name = value` lines, each with a comment after
/// it (aligned), and comment lines.
class config_writer {
public:
    /// `name = value` and where the value came from; a value no line can hold is written as a
    /// comment that says so.
    void value(const std::string& name, const std::string& value, const setting& from)
    {
        if (writable_in_config_file(value))
            commented(value.empty() ? name + " =" : name + " = " + value, describe_origin(from));
        else
            commented("# " + name + " = " + wsload::detail::quoted(value),
                      describe_origin(from) + "; not written: a config file value holds no #, line break or edge space");
    }
    void commented(std::string text, std::string comment) { lines_.emplace_back(std::move(text), std::move(comment)); }
    void comment(const std::string& text) { lines_.emplace_back("# " + text, ""); }
    void blank() { lines_.emplace_back("", ""); }

    void write(std::ostream& out) const
    {
        std::size_t width = 0;  // the comments line up, unless a value is long
        for (const auto& [text, comment] : lines_)
            if (!comment.empty()) width = std::max(width, std::min<std::size_t>(text.size(), 40));
        for (const auto& [text, comment] : lines_) {
            out << text;
            if (!comment.empty()) out << std::string(width > text.size() ? width - text.size() : 0, ' ') << "  # " << comment;
            out << '\n';
        }
    }

private:
    std::vector<std::pair<std::string, std::string>> lines_;  ///< (text, comment after it or "")
};

/// Reads the config file `path` (named by `named_by`, e.g. `--config`, in the message when it
/// cannot be read) with Program_options' parser: `name = value` lines, `#` comments (anywhere
/// on a line), blank lines; a `[section]` line prefixes the names after it.
/// Every name must be a flag of `options`. Throws usage_error: `FILE:LINE: what is wrong`.
inline std::vector<setting> read_config_file(const std::string& path, const std::string& named_by,
                                             const boost::program_options::options_description& options)
{
    namespace po = boost::program_options;
    const auto cannot_read = [&](std::error_code ec) {
        return usage_error(named_by + ": cannot read " + wsload::detail::quoted(path) + ": " + ec.message());
    };
    std::error_code ec;
    // Opening a directory succeeds on Linux and reads as an empty file: refuse it by name.
    if (std::filesystem::is_directory(path, ec)) throw cannot_read(std::make_error_code(std::errc::is_a_directory));
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw cannot_read(std::error_code(errno ? errno : EIO, std::generic_category()));
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) throw cannot_read(std::error_code(errno ? errno : EIO, std::generic_category()));

    // Program_options reports neither lines nor positions. It reads a file line by line and
    // carries nothing from one line to the next but the [section], so the line of the n-th
    // setting (or of the line it refuses) is where a parse of the file's first lines first
    // yields n settings (or first throws). Quadratic in the lines, which is nothing for a
    // file a person writes.
    std::vector<setting> settings;
    std::size_t line = 0;
    for (std::size_t start = 0; start < text.size(); ++line) {
        const auto newline = text.find('\n', start);
        const auto end = newline == std::string::npos ? text.size() : newline + 1;
        const auto where = path + ":" + std::to_string(line + 1) + ": ";
        std::istringstream head(text.substr(0, end));
        try {
            const auto parsed = po::parse_config_file(head, options, false);
            for (auto i = settings.size(); i < parsed.options.size(); ++i)
                settings.push_back({.key = parsed.options[i].string_key,
                                    .value = parsed.options[i].value.empty() ? "" : parsed.options[i].value.front(),
                                    .from = origin::file,
                                    .where = path,
                                    .line = line + 1});
        } catch (const po::unknown_option& e) {
            throw usage_error(where + "unknown key " + wsload::detail::quoted(e.get_option_name()) +
                              " (a key is a flag without its --; see --help)");
        } catch (const po::invalid_config_file_syntax&) {
            auto bad = text.substr(start, end - start);
            const auto first = bad.find_first_not_of(" \t\r\n");
            bad = first == std::string::npos ? "" : bad.substr(first, bad.find_last_not_of(" \t\r\n") - first + 1);
            throw usage_error(where + wsload::detail::quoted(bad) + " is not a \"name = value\" line");
        } catch (const po::error& e) {
            throw usage_error(where + e.what());
        }
        start = end;
    }
    return settings;
}

/// The settings of the variables of `environment` (an `environ`-style array) named after a flag
/// in `names` (see environment_name). The names of the other WSLOAD_* variables are added to
/// `ignored`, sorted. This is Program_options' parse_environment with a name mapper, over a
/// given array rather than the process's own environment (which is the caller's default).
inline std::vector<setting> read_environment(char** environment, const std::vector<std::string>& names,
                                             std::vector<std::string>& ignored)
{
    std::map<std::string, std::string, std::less<>> flag_of;
    for (const auto& n : names) flag_of.emplace(environment_name(n), n);
    const auto mapper = [&](const std::string& variable) -> std::string {
        if (const auto it = flag_of.find(variable); it != flag_of.end()) return it->second;
        if (variable.starts_with("WSLOAD_")) ignored.push_back(variable);
        return {};
    };
    std::vector<setting> settings;
    if (environment == nullptr) return settings;
    for (boost::environment_iterator i(environment), e; i != e; ++i)
        if (auto flag = mapper(i->first); !flag.empty())
            settings.push_back({.key = std::move(flag), .value = i->second, .from = origin::environment, .where = i->first});
    std::sort(ignored.begin(), ignored.end());
    return settings;
}

}  // namespace wsload::dsl
