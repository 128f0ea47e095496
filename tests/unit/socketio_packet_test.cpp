// The Engine.IO / Socket.IO packet codec (net/socketio/packet.hpp) and the open packet's reader:
// every packet form of the v5 protocol, and the broken ones a server may send, parsed or refused
// without reading past the text.

#include <wsload/net/socketio/arguments.hpp>
#include <wsload/net/socketio/packet.hpp>

#include <boost/json/parse.hpp>

#include <boost/test/unit_test.hpp>

namespace sio = wsload::socketio;

BOOST_AUTO_TEST_SUITE(socketio_packets)

BOOST_AUTO_TEST_CASE(every_packet_form_parses)
{
    auto p = sio::parse_packet(R"(2["chat",{"text":"hi"}])");
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::event));
    BOOST_TEST(p->nsp == "/");
    BOOST_TEST(!p->id.has_value());
    BOOST_TEST(p->data == R"(["chat",{"text":"hi"}])");

    p = sio::parse_packet(R"(3/admin,12["ok"])");
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::ack));
    BOOST_TEST(p->nsp == "/admin");
    BOOST_TEST(*p->id == 12u);
    BOOST_TEST(p->data == R"(["ok"])");

    p = sio::parse_packet(R"(51-["file",{"_placeholder":true,"num":0}])");
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::binary_event));
    BOOST_TEST(p->attachments == 1u);

    p = sio::parse_packet(R"(62-/x,7[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::binary_ack));
    BOOST_TEST(p->attachments == 2u);
    BOOST_TEST(p->nsp == "/x");
    BOOST_TEST(*p->id == 7u);

    p = sio::parse_packet("1/admin");  // a disconnect naming its namespace, nothing after it
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::disconnect));
    BOOST_TEST(p->nsp == "/admin");
    BOOST_TEST(p->data.empty());

    p = sio::parse_packet(R"(0{"sid":"abc"})");
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::connect));
    BOOST_TEST(p->data == R"({"sid":"abc"})");

    p = sio::parse_packet(R"(4{"message":"unauthorized"})");
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::connect_error));
}

BOOST_AUTO_TEST_CASE(broken_packets_are_refused)
{
    for (const char* text : {"", "7", "x", "2", "2{}", "3[\"x\"]", "5[\"x\"]", "5-[\"x\"]", "51[\"x\"]", "51-",
                             "51001-[\"x\"]", "512345-[\"x\"]", "2abc", "2/ns,x", "31234567890123456789012[1]",
                             "2/n\"s,[\"x\"]", "6-1[]"})
        BOOST_TEST(!sio::parse_packet(text).has_value(), "accepted: " << text);
}

BOOST_AUTO_TEST_CASE(event_names_are_read_without_parsing_the_rest)
{
    BOOST_TEST(*sio::event_name(R"(["chat",{"deep":[1,2,3]}])") == "chat");
    BOOST_TEST(*sio::event_name(R"( [ "a\"b\\c\u0041" ])") == "a\"b\\cA");
    BOOST_TEST(*sio::event_name(R"(["\u00e9"])") == "\xc3\xa9");
    for (const char* text : {"", "[", "[1]", "[\"open", R"(["\x"])", R"(["\u12"])", "{\"a\":1}", "[\"a\nb\"]"})
        BOOST_TEST(!sio::event_name(text).has_value(), "accepted: " << text);
}

BOOST_AUTO_TEST_CASE(packets_encode_as_socketio_clients_send_them)
{
    using sio::packet_type;
    BOOST_TEST(sio::encode_packet(packet_type::connect, "/", std::nullopt, "") == "40");
    BOOST_TEST(sio::encode_packet(packet_type::connect, "/admin", std::nullopt, R"({"token":"t"})") ==
               R"(40/admin,{"token":"t"})");
    BOOST_TEST(sio::encode_packet(packet_type::event, "/", 5, sio::event_data("chat", R"({"a":1})")) ==
               R"(425["chat",{"a":1}])");
    BOOST_TEST(sio::encode_packet(packet_type::binary_event, "/", std::nullopt, "[\"f\"]", 2) == R"(452-["f"])");
    BOOST_TEST(sio::event_data("say \"hi\"\n", "") == R"(["say \"hi\"\u000a"])");
    // What is encoded parses back to itself.
    const auto text = sio::encode_packet(packet_type::ack, "/chat", 42, "[1]");
    const auto p = sio::parse_packet(std::string_view(text).substr(1));
    BOOST_REQUIRE(p);
    BOOST_TEST(p->nsp == "/chat");
    BOOST_TEST(*p->id == 42u);
    BOOST_TEST(p->data == "[1]");
}

// What emit_binary sends: the arguments' JSON with numbered placeholders where the bytes were,
// the count in the header, the bytes apart and in the placeholders' order.
BOOST_AUTO_TEST_CASE(binary_arguments_encode_placeholders_in_order)
{
    sio::arguments a;
    a.json(R"({"name":"a.png"})").binary(std::string("\x00\xff", 2));
    a.json(R"({"inner":)" + a.attach("") + "}").binary("x");
    BOOST_TEST(a.text() == R"({"name":"a.png"},{"_placeholder":true,"num":0},{"inner":{"_placeholder":true,"num":1}},)"
                           R"({"_placeholder":true,"num":2})");
    BOOST_REQUIRE(a.attachments().size() == 3u);
    BOOST_TEST(a.attachments()[0] == std::string("\x00\xff", 2));
    BOOST_TEST(a.attachments()[1].empty());
    BOOST_TEST(a.attachments()[2] == "x");

    const auto text = sio::encode_emit("/chat", 7, "up\"load", a);
    BOOST_TEST(text == "453-/chat,7[\"up\\\"load\"," + a.text() + "]");
    const auto p = sio::parse_packet(std::string_view(text).substr(1));
    BOOST_REQUIRE(p);
    BOOST_TEST((p->type == sio::packet_type::binary_event));
    BOOST_TEST(p->attachments == 3u);
    BOOST_TEST(*p->id == 7u);
    BOOST_TEST(*sio::event_name(p->data) == "up\"load");
    const auto v = boost::json::parse(p->data);
    BOOST_TEST(v.at(3).at("inner").at("num").as_int64() == 1);

    // Without attachments: a plain EVENT, as socket.io-client sends it.
    sio::arguments plain;
    plain.json("1").json(R"("two")");
    BOOST_TEST(sio::encode_emit("/", std::nullopt, "e", plain) == R"(42["e",1,"two"])");
    BOOST_TEST(sio::encode_emit("/", std::nullopt, "e", sio::arguments()) == R"(42["e"])");
}

BOOST_AUTO_TEST_CASE(binary_arguments_refuse_what_no_server_takes)
{
    sio::arguments a;
    BOOST_CHECK_THROW(a.json(""), std::invalid_argument);
    BOOST_TEST(a.text().empty());  // nothing half added
    for (std::uint32_t i = 0; i < sio::max_attachments; ++i) a.binary("");
    BOOST_CHECK_THROW(a.binary("one too many"), std::length_error);
    BOOST_CHECK_THROW(a.attach("one too many"), std::length_error);
    BOOST_TEST(a.attachments().size() == sio::max_attachments);
    // Still what a parser accepts: the count is within its bound.
    const auto text = sio::encode_emit("/", 1, "many", a);
    const auto p = sio::parse_packet(std::string_view(text).substr(1));
    BOOST_REQUIRE(p);
    BOOST_TEST(p->attachments == sio::max_attachments);
}

BOOST_AUTO_TEST_CASE(open_packets_are_read_or_refused)
{
    const auto p = sio::parse_open_packet(R"({"sid":"x","upgrades":[],"pingInterval":300,"pingTimeout":200})");
    BOOST_REQUIRE(p);
    BOOST_TEST(p->sid == "x");
    BOOST_TEST(p->ping_interval.count() == 300);
    BOOST_TEST(p->ping_timeout.count() == 200);
    for (const char* json : {"", "[]", "{}", R"({"sid":1})", R"({"sid":"x","pingInterval":-1})",
                             R"({"sid":"x","pingInterval":"25000"})", R"({"sid":"x","pingTimeout":0})",
                             R"({"sid":"x","pingTimeout":1e3})", R"({"sid":"x")"})
        BOOST_TEST(!sio::parse_open_packet(json).has_value(), "accepted: " << json);
}

BOOST_AUTO_TEST_SUITE_END()
