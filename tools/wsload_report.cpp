// wsload-report: works on result files (--json output, schema wsload.result/1).
//
//   wsload-report merge a.json b.json ... -o all.json   combine runs exactly
//   wsload-report text FILE                             print the report
//   wsload-report csv FILE PREFIX                       write PREFIX_stats.csv and the rest
//   wsload-report html FILE OUT.html                    write the HTML report
//
// Exit status: 0 done, 2 usage error or unusable file, 3 an output could not be written.

#include <wsload/report/console.hpp>
#include <wsload/report/csv.hpp>
#include <wsload/report/html.hpp>
#include <wsload/report/json.hpp>
#include <wsload/report/result_file.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr const char* usage =
    "Usage:\n"
    "  wsload-report merge FILE... -o OUT.json   combine result files exactly\n"
    "  wsload-report text FILE                   print the text report\n"
    "  wsload-report csv FILE PREFIX             write PREFIX_stats.csv, _stats_history.csv, _failures.csv (and _phases.csv)\n"
    "  wsload-report html FILE OUT.html          write the self-contained HTML report\n";

wsload::report::outcome verdict_of(const wsload::report::loaded_result& r)
{
    std::vector<wsload::report::threshold> rules;
    for (const auto& t : r.config.thresholds) rules.push_back(wsload::report::parse_threshold(t));
    return wsload::report::judge(r.result, rules);
}

int run(const std::vector<std::string>& args)
{
    using namespace wsload::report;
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(usage, args.empty() ? stderr : stdout);
        return args.empty() ? exit_usage : exit_ok;
    }
    const auto& command = args[0];
    if (command == "merge") {
        std::vector<std::string> inputs;
        std::string output;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "-o" || args[i] == "--output") {
                if (++i == args.size()) throw wsload::usage_error("-o needs a file name");
                output = args[i];
            } else {
                inputs.push_back(args[i]);
            }
        }
        if (inputs.empty() || output.empty()) throw wsload::usage_error("merge needs result files and -o OUT.json");
        std::vector<loaded_result> parts;
        for (const auto& f : inputs) parts.push_back(load_result_file(f));
        const auto merged = merge_results(std::move(parts));
        return write_json(output, merged.config, merged.result, verdict_of(merged)) ? exit_ok : exit_run_failed;
    }
    if (command == "text" && args.size() == 2) {
        const auto r = load_result_file(args[1]);
        print_report(stdout, r.config, r.result, verdict_of(r));
        return exit_ok;
    }
    if (command == "csv" && args.size() == 3) {
        const auto r = load_result_file(args[1]);
        return write_csv(args[2], r.config, r.result, verdict_of(r)) ? exit_ok : exit_run_failed;
    }
    if (command == "html" && args.size() == 3) {
        const auto r = load_result_file(args[1]);
        return write_html(args[2], r.config, r.result, verdict_of(r)) ? exit_ok : exit_run_failed;
    }
    throw wsload::usage_error("unknown command or wrong arguments: " + command + " (see --help)");
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const wsload::usage_error& e) {
        std::fprintf(stderr, "wsload-report: %s\n", e.what());
        return wsload::report::exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "wsload-report: %s\n", e.what());
        return wsload::report::exit_run_failed;
    }
}
