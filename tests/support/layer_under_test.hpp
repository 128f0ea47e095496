#pragma once
// Which WebSocket client layer the in-process suites run against. The conformance, taxonomy,
// user API and interop suites prove whichever layer is used, so ctest runs them once per layer:
// `wsload_integration --run_test=... -- --ws-layer beast|lean` (Boost.Test hands what follows
// "--" to the test module). Without it a suite runs against the library's default.

#include <wsload/runtime/run_config.hpp>

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string_view>

namespace wsload::test {

inline websocket_layer layer_under_test()
{
    const auto& suite = boost::unit_test::framework::master_test_suite();
    for (int i = 1; i < suite.argc; ++i) {
        std::string_view arg = suite.argv[i];
        std::string_view value;
        if (arg == "--ws-layer" && i + 1 < suite.argc) value = suite.argv[i + 1];
        else if (arg.starts_with("--ws-layer=")) value = arg.substr(11);
        else continue;
        if (value == "beast") return websocket_layer::beast;
        if (value == "lean") return websocket_layer::lean;
        throw std::invalid_argument("--ws-layer: use beast or lean");
    }
    return run_config{}.ws_layer;
}

}  // namespace wsload::test
