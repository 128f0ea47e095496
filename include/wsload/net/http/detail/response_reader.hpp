#pragma once
// The reading of one HTTP/1.1 response, apart from any socket: bytes in, a response out (or the
// error that ends it). Beast's parser does the parsing; this adds what a client needs around it:
// the limits, HEAD's bodiless replies, and the informational 1xx replies that come before the
// response itself. Pure, so that the fuzz target drives exactly what a connection runs.

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wsload::net::detail {

using http_response_message = boost::beast::http::response<boost::beast::http::string_body>;

class response_reader {
public:
    /// The largest response header (status line and fields) accepted: cookies can be long.
    static constexpr std::uint32_t header_limit = 64 * 1024;

    response_reader(std::size_t body_limit, bool head_request) : body_limit_(body_limit), head_request_(head_request)
    {
        restart();
    }

    /// Takes what it can of `data`: the bytes used. The rest (a header cut short) must come
    /// again with more after it. `ec` is set when the response is broken (not HTTP, over a
    /// limit); done() when the final response is complete.
    std::size_t feed(std::string_view data, boost::system::error_code& ec)
    {
        namespace http = boost::beast::http;
        if (!data.empty()) started_ = true;
        std::size_t used = 0;
        while (used < data.size() && !done_) {
            const auto n = parser_->put(boost::asio::buffer(data.data() + used, data.size() - used), ec);
            used += n;
            if (ec == http::error::need_more) {
                ec = {};
                break;
            }
            if (ec) break;
            if (parser_->is_done()) settle();
            else if (n == 0) break;
        }
        return used;
    }

    /// The server ended the connection: a response delimited by the end is complete now;
    /// anything else cut short is partial_message (or the parser's own error).
    boost::system::error_code end_of_stream()
    {
        boost::system::error_code ec;
        if (done_) return ec;
        parser_->put_eof(ec);
        if (!ec && parser_->is_done()) settle();
        if (!ec && !done_) ec = boost::beast::http::error::partial_message;
        return ec;
    }

    bool done() const noexcept { return done_; }
    /// Some byte of a response came (a failure now is not "nothing came back").
    bool started() const noexcept { return started_; }
    /// The response ended with the connection (no length): it cannot carry another.
    bool ended_by_close() const noexcept { return done_ && parser_->need_eof(); }
    http_response_message release() { return parser_->release(); }

private:
    void restart()
    {
        parser_.emplace();
        parser_->eager(true);
        parser_->body_limit(body_limit_);
        parser_->header_limit(header_limit);
        if (head_request_) parser_->skip(true);
    }
    /// A message is complete: the response, or an informational 1xx (100 Continue, 103 Early
    /// Hints) after which the response itself comes.
    void settle()
    {
        const auto status = parser_->get().result_int();
        if (status >= 100 && status < 200 && status != 101) return restart();
        done_ = true;
    }

    std::size_t body_limit_;
    bool head_request_;
    bool done_ = false;
    bool started_ = false;
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
};

}  // namespace wsload::net::detail
