// The test runner's main(); every other file in tests/unit adds suites to it.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#define BOOST_TEST_MODULE wsload_unit
#include <boost/test/unit_test.hpp>
