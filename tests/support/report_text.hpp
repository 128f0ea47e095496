#pragma once
// What a user reads of a run, as strings for tests: what a printer writes to a FILE* (the live
// line, the final report), and a result document written and read back through its text.

#include <wsload/report/console.hpp>
#include <wsload/report/json.hpp>
#include <wsload/report/result_file.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace wsload::test {

/// What `print(out)` writes to its FILE*, as a string.
template <class Print>
std::string printed_text(Print print)
{
    char* buffer = nullptr;
    std::size_t size = 0;
    std::FILE* out = ::open_memstream(&buffer, &size);
    BOOST_REQUIRE(out);
    print(out);
    std::fclose(out);
    std::string text(buffer, size);
    std::free(buffer);
    return text;
}

/// The end-of-run report of `r` (judged without thresholds), as print_report writes it.
inline std::string report_text(const stats::run_info& info, const stats::run_result& r)
{
    return printed_text([&](std::FILE* out) { report::print_report(out, info, r, report::judge(r, {})); });
}

/// `r` as a result document (judged without thresholds), serialized and read back as `name`.
inline report::loaded_result through_result_text(const stats::run_info& info, const stats::run_result& r,
                                                 const std::string& name)
{
    const auto doc = report::result_document(info, r, report::judge(r, {}));
    return report::load_result(boost::json::parse(boost::json::serialize(doc)).as_object(), name);
}

}  // namespace wsload::test
