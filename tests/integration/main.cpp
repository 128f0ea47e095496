#define BOOST_TEST_MODULE wsload_integration
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>
