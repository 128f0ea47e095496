// permessage-deflate (RFC 7692): the server's answer checked as section 7 says a client must
// (net/websocket/detail/permessage_deflate.hpp), the codec's round trips, its bound on inflated
// bytes, and --compression's values.

#include <wsload/core/error.hpp>
#include <wsload/net/websocket/deflate_options.hpp>
#include <wsload/net/websocket/detail/permessage_deflate.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace {

namespace wd = wsload::net::detail;

struct deflate_answer {
    std::string header;
    wd::extension_verdict verdict;
    unsigned client_bits = 15, server_bits = 15;
    bool client_nct = false, server_nct = false;
};
std::ostream& operator<<(std::ostream& o, const deflate_answer& a) { return o << '"' << a.header << '"'; }

// Against the offer client_max_window_bits=12 (nothing asked of the server's side).
const std::vector<deflate_answer> deflate_answers{
    {"", wd::extension_verdict::none},
    {"permessage-deflate", wd::extension_verdict::deflate, 12, 15},
    {"Permessage-Deflate ; Server_No_Context_Takeover", wd::extension_verdict::deflate, 12, 15, false, true},
    {"permessage-deflate; client_no_context_takeover; server_max_window_bits=9", wd::extension_verdict::deflate, 12, 9, true, false},
    {"permessage-deflate; client_max_window_bits=\"10\"", wd::extension_verdict::deflate, 10, 15},
    {"permessage-deflate;client_max_window_bits=8;server_max_window_bits=8", wd::extension_verdict::deflate, 8, 8},
    {", permessage-deflate ,", wd::extension_verdict::deflate, 12, 15},
    {"permessage-deflate; server_max_window_bits=13", wd::extension_verdict::deflate, 12, 13},  // unasked: allowed
    {"permessage-deflate; server_max_window_bits=16", wd::extension_verdict::invalid},
    {"permessage-deflate; client_max_window_bits=13", wd::extension_verdict::invalid},
    {"permessage-deflate; client_max_window_bits", wd::extension_verdict::invalid},
    {"permessage-deflate; server_max_window_bits=08", wd::extension_verdict::invalid},
    {"permessage-deflate; server_max_window_bits=\"1", wd::extension_verdict::invalid},
    {"permessage-deflate; client_no_context_takeover; client_no_context_takeover", wd::extension_verdict::invalid},
    {"permessage-deflate; server_no_context_takeover=\"\"", wd::extension_verdict::invalid},
    {"permessage-deflate; x=1", wd::extension_verdict::invalid},
    {"permessage-deflate, permessage-deflate", wd::extension_verdict::invalid},
    {"permessage-deflate; ;", wd::extension_verdict::invalid},
    {"permessage-deflate x", wd::extension_verdict::invalid},
    {"deflate-frame", wd::extension_verdict::invalid},
    {"=", wd::extension_verdict::invalid},
};

std::string deflate_sample(std::size_t n)
{
    std::string s;
    for (int i = 0; s.size() < n; ++i) s += "{\"seq\":" + std::to_string(i % 50) + ",\"text\":\"hello\"}";
    s.resize(n);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(permessage_deflate_negotiation)

BOOST_DATA_TEST_CASE(the_servers_answer_is_checked_as_rfc_7692_section_7_says, boost::unit_test::data::make(deflate_answers), a)
{
    const auto offer = wsload::deflate_options().client_max_window_bits(12);
    wd::deflate_agreement terms;
    const auto verdict = wd::negotiate_deflate(a.header, &offer, terms);
    BOOST_TEST((verdict == a.verdict));
    if (verdict != wd::extension_verdict::deflate) return;
    BOOST_TEST(terms.client_bits == a.client_bits);
    BOOST_TEST(terms.server_bits == a.server_bits);
    BOOST_TEST(terms.client_no_context == a.client_nct);
    BOOST_TEST(terms.server_no_context == a.server_nct);
}

BOOST_AUTO_TEST_CASE(an_answer_to_no_offer_is_invalid_and_what_the_client_asked_holds)
{
    wd::deflate_agreement terms;
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate", nullptr, terms) == wd::extension_verdict::invalid));
    BOOST_TEST((wd::negotiate_deflate("", nullptr, terms) == wd::extension_verdict::none));
    // client_max_window_bits offered without a value: a server may name any window for us.
    const auto plain = wsload::deflate_options();
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate; client_max_window_bits=9", &plain, terms) ==
                wd::extension_verdict::deflate));
    BOOST_TEST(terms.client_bits == 9u);
    // The client's own no_context_takeover holds whatever the server answered.
    const auto nct = wsload::deflate_options().client_no_context_takeover();
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate", &nct, terms) == wd::extension_verdict::deflate));
    BOOST_TEST(terms.client_no_context);
    // What was asked of the server is in an acceptance, the window no larger than asked.
    const auto asked = wsload::deflate_options().server_no_context_takeover().server_max_window_bits(10);
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate", &asked, terms) == wd::extension_verdict::invalid));
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate; server_max_window_bits=10", &asked, terms) ==
                wd::extension_verdict::invalid));
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate; server_no_context_takeover", &asked, terms) ==
                wd::extension_verdict::invalid));
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate; server_no_context_takeover; server_max_window_bits=11", &asked,
                                      terms) == wd::extension_verdict::invalid));
    BOOST_TEST((wd::negotiate_deflate("permessage-deflate; server_no_context_takeover; server_max_window_bits=9", &asked,
                                      terms) == wd::extension_verdict::deflate));
    BOOST_TEST(terms.server_bits == 9u);
    BOOST_TEST(terms.server_no_context);
}

BOOST_AUTO_TEST_CASE(the_offer_says_what_was_set)
{
    BOOST_TEST(wsload::deflate_options().offer() == "permessage-deflate; client_max_window_bits");
    BOOST_TEST(wsload::deflate_options().client_no_context_takeover().server_no_context_takeover().client_max_window_bits(9)
                   .server_max_window_bits(10).offer() ==
               "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=9; "
               "server_max_window_bits=10");
    BOOST_CHECK_THROW(wsload::deflate_options().client_max_window_bits(7), std::invalid_argument);
    BOOST_CHECK_THROW(wsload::deflate_options().level(10), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(compression_flag_values_read_back)
{
    const auto o = wsload::deflate_options::parse("on,no-context-takeover,client-max-window-bits=10,level=1,mem-level=4");
    BOOST_TEST(o.offers_client_no_context_takeover());
    BOOST_TEST(o.offers_server_no_context_takeover());
    BOOST_TEST(o.client_max_window_bits() == 10u);
    BOOST_TEST(o.level() == 1);
    BOOST_TEST(o.mem_level() == 4);
    BOOST_TEST(wsload::deflate_options::parse(o.to_flag()).to_flag() == o.to_flag());
    BOOST_TEST(wsload::deflate_options::parse("on").to_flag() == "on");
    BOOST_CHECK_THROW(wsload::deflate_options::parse("on,level=x"), wsload::usage_error);
    BOOST_CHECK_THROW(wsload::deflate_options::parse(""), wsload::usage_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(permessage_deflate_codec)

BOOST_DATA_TEST_CASE(messages_round_trip_with_and_without_context_takeover, boost::unit_test::data::make({true, false}), nct)
{
    wd::deflate_agreement terms;
    terms.client_no_context = terms.server_no_context = nct;
    const auto opts = wsload::deflate_options().mem_level(4);
    // One side's compressor is the other's decompressor: the client's compress() is read back
    // by a codec whose server side has the same terms.
    wd::deflate_codec client(terms, opts), reader(terms, opts);
    wd::deflate_thread_state t;
    std::vector<std::string> sizes;
    for (const std::size_t n : {1u, 100u, 5000u, 300000u, 5000u}) {
        const auto m = deflate_sample(n);
        std::string wire, back;
        client.compress(m, wire, t);
        BOOST_TEST(!wire.ends_with(std::string("\0\0\xff\xff", 4)));
        BOOST_TEST((reader.inflate(wire, 1 << 20, back, t) == wd::inflate_status::ok));
        BOOST_TEST(back == m);
        sizes.push_back(wire);
    }
    // The second 5000-byte message: the same bytes without takeover, a back-reference with it.
    if (nct) BOOST_TEST(sizes[4] == sizes[2]);
    else BOOST_TEST(sizes[4].size() < sizes[2].size() / 2);
}

BOOST_AUTO_TEST_CASE(a_bomb_is_refused_at_the_limit_without_growing_past_it)
{
    wd::deflate_agreement terms;
    wd::deflate_codec sender(terms, wsload::deflate_options().level(9)), reader(terms, wsload::deflate_options());
    wd::deflate_thread_state t;
    std::string wire, out;
    sender.compress(std::string(20'000'000, 'z'), wire, t);
    BOOST_TEST(wire.size() < 30'000u);
    BOOST_TEST((reader.inflate(wire, 100'000, out, t) == wd::inflate_status::too_big));
    BOOST_TEST(out.capacity() < 2 * 100'000u);  // grown by doubling up to limit + 1, never past
    // Exactly at the limit is fine; one byte over is not.
    wd::deflate_codec s2(terms, wsload::deflate_options()), r2(terms, wsload::deflate_options()), r3(terms, wsload::deflate_options());
    s2.compress(std::string(1000, 'q'), wire, t);
    BOOST_TEST((r2.inflate(wire, 1000, out, t) == wd::inflate_status::ok));
    BOOST_TEST(out.size() == 1000u);
    BOOST_TEST((r3.inflate(wire, 999, out, t) == wd::inflate_status::too_big));
    // Bytes that are not DEFLATE.
    wd::deflate_codec r4(terms, wsload::deflate_options());
    BOOST_TEST((r4.inflate(std::string("\xff\xff\xff\xff\xff", 5), 1000, out, t) == wd::inflate_status::bad_data));
}

BOOST_AUTO_TEST_SUITE_END()
