#pragma once
// The reading of one HTTP/1.1 response, apart from any socket: bytes in, a response out (or the
// error that ends it). Beast's parser does the parsing; this adds what a client needs around it:
// the limits, HEAD's bodiless replies, and the informational 1xx replies that come before the
// response itself. Pure, so that the fuzz target drives exactly what a connection runs.

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/optional/optional.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace wsload::net::detail {

/// A response body in a string, up to a limit it carries itself. Beast's own body limit is not
/// used: on a chunk header it must parse again (an extension cut short) Beast subtracts the
/// chunk's size from it again, so a body within the limit could fail by how the network cut it.
/// A Content-Length over the limit still fails at once, before any body byte is read.
struct limited_body {
    struct value_type {
        std::string text;
        std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
    };

    static std::uint64_t size(const value_type& v) noexcept { return v.text.size(); }

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body)
        {}
        void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec)
        {
            ec = {};
            if (!length) return;
            if (*length > body_.limit) ec = boost::beast::http::error::body_limit;
            else body_.text.reserve(static_cast<std::size_t>(*length));
        }
        template <class ConstBuffers>
        std::size_t put(const ConstBuffers& buffers, boost::system::error_code& ec)
        {
            const auto n = boost::asio::buffer_size(buffers);
            if (n > body_.limit - body_.text.size()) {
                ec = boost::beast::http::error::body_limit;
                return 0;
            }
            ec = {};
            for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
                body_.text.append(static_cast<const char*>((*it).data()), (*it).size());
            return n;
        }
        void finish(boost::system::error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

using http_response_message = boost::beast::http::response<limited_body>;

class response_reader {
public:
    /// The largest response header (status line and fields) accepted: cookies can be long.
    static constexpr std::uint32_t header_limit = 64 * 1024;

    response_reader(std::size_t body_limit, bool head_request) : body_limit_(body_limit), head_request_(head_request)
    {
        restart();
    }

    /// Takes `data`, the next bytes from the server. Bytes it cannot use yet (a header cut
    /// across reads, a chunk size line cut in two) it keeps itself; once done(), the bytes past
    /// the response are extra(). `ec` is set when the response is broken (not HTTP, over a
    /// limit); done() when the final response is complete.
    ///
    /// The header goes to Beast's parser whole, never in pieces: Beast checks a status line it
    /// sees complete at once, but not one that arrived in pieces until the header ends, so what
    /// a broken header is reported as would depend on how the network cut it. Before the header
    /// ends, its first bytes are checked to start as a status line does ("HTTP/1."), so that a
    /// server speaking something else is told at its first bytes, not at a timeout.
    void feed(std::string_view data, boost::system::error_code& ec)
    {
        if (done_ || data.empty()) return;
        started_ = true;
        const bool from_kept = !kept_.empty();
        if (from_kept) {
            kept_.append(data);
            data = kept_;
        }
        std::size_t used = 0;
        while (!done_ && !ec && used < data.size()) {
            const auto rest = data.substr(used);
            if (!header_done_) {
                if (!looks_like_status_line(rest)) {
                    ec = boost::beast::http::error::bad_version;
                    break;
                }
                const auto end = rest.find("\r\n\r\n");
                if (end == std::string_view::npos || end + 4 > header_limit) {
                    if (end != std::string_view::npos || rest.size() >= header_limit)
                        ec = boost::beast::http::error::header_limit;
                    break;  // kept until the header ends
                }
            }
            // Beast (1.81, with assertions on) asserts that the last chunk, once it asked for
            // more after its line, comes back with at least 5 bytes ("0\r\n" then "\r\n"), 7
            // with the CRLF that ends the chunk before it. Keeping it until then changes
            // nothing: Beast would ask for more anyway.
            if (rest.size() < final_chunk_hold_) break;
            const auto n = put(rest, ec);
            used += n;
            if (n == 0) break;
        }
        if (from_kept) {
            kept_.erase(0, used);
            if (done_) extra_ = kept_;
        } else if (done_) {
            extra_ = data.substr(used);
        } else if (!ec && used < data.size()) {
            kept_.assign(data.substr(used));
        }
    }

    /// The server ended the connection: a response delimited by the end is complete now;
    /// anything else cut short is partial_message (or the parser's own error).
    boost::system::error_code end_of_stream()
    {
        boost::system::error_code ec;
        if (done_) return ec;
        if (!header_done_) return boost::beast::http::error::partial_message;
        parser_->put_eof(ec);
        if (!ec && parser_->is_done()) settle(ec);
        if (!ec && !done_) ec = boost::beast::http::error::partial_message;
        return ec;
    }

    /// Bytes after the response (nothing asked for them: wsload does not pipeline). Valid
    /// until the next feed().
    std::string_view extra() const noexcept { return extra_; }
    bool done() const noexcept { return done_; }
    /// Some byte of a response came (a failure now is not "nothing came back").
    bool started() const noexcept { return started_; }
    /// The response ended with the connection (no length): it cannot carry another.
    bool ended_by_close() const noexcept { return done_ && parser_->need_eof(); }
    http_response_message release() { return parser_->release(); }

private:
    /// The bytes so far could begin "HTTP/1.x" (compared as far as they go).
    static bool looks_like_status_line(std::string_view data) noexcept
    {
        constexpr std::string_view prefix = "HTTP/1.";
        const auto n = std::min(data.size(), prefix.size());
        return data.substr(0, n) == prefix.substr(0, n);
    }

    /// How many bytes Beast needs to be given again after it asked for more on `data`, in the
    /// chunked body: 0 if `data` is not the whole line of the last chunk (Beast then asserts
    /// nothing), else that line's minimum. The line as Beast accepts it before asking for more:
    /// the CRLF that ends the chunk before it (if there was one), a size of zeros, anything but
    /// a hex digit (an extension, checked later), then the line's end, found as Beast finds it:
    /// the first CR, followed by LF.
    static std::size_t final_chunk_minimum(std::string_view data) noexcept
    {
        const bool after_chunk = data.starts_with("\r\n");
        if (after_chunk) data.remove_prefix(2);
        const auto zeros = data.find_first_not_of('0');
        if (zeros == 0 || zeros == std::string_view::npos) return 0;
        const char next = data[zeros];
        const bool hex = (next >= '0' && next <= '9') || (next >= 'a' && next <= 'f') || (next >= 'A' && next <= 'F');
        const auto cr = data.find('\r', zeros);
        if (hex || cr == std::string_view::npos || cr + 1 >= data.size() || data[cr + 1] != '\n') return 0;
        return after_chunk ? 7 : 5;
    }

    /// Feeds the parser until it wants more, fails or completes a message (the response, or a
    /// 1xx: then feed() checks the next header before the parser sees it); the bytes it took.
    std::size_t put(std::string_view data, boost::system::error_code& ec)
    {
        namespace http = boost::beast::http;
        std::size_t used = 0;
        while (used < data.size()) {
            const auto n = parser_->put(boost::asio::buffer(data.data() + used, data.size() - used), ec);
            used += n;
            if (parser_->is_header_done()) header_done_ = true;
            final_chunk_hold_ = 0;
            if (ec == http::error::need_more) {
                ec = {};
                if (header_done_) final_chunk_hold_ = final_chunk_minimum(data.substr(used));
                break;
            }
            if (ec) break;
            if (parser_->is_done()) {
                settle(ec);
                break;
            }
            if (n == 0) break;
        }
        return used;
    }

    void restart()
    {
        header_done_ = false;
        parser_.emplace();
        parser_->eager(true);
        parser_->body_limit(boost::none);  // limited_body keeps the limit
        parser_->get().body().limit = body_limit_;
        parser_->header_limit(header_limit);
        if (head_request_) parser_->skip(true);
    }
    /// A message is complete: the response, or an informational 1xx (100 Continue, 103 Early
    /// Hints) after which the response itself comes.
    void settle(boost::system::error_code& ec)
    {
        const auto status = parser_->get().result_int();
        // Beast reads any three digits; a status below 100 has no class (RFC 9110 section 15).
        if (status < 100) {
            ec = boost::beast::http::error::bad_status;
            return;
        }
        if (status >= 100 && status < 200 && status != 101) return restart();
        done_ = true;
    }

    std::size_t body_limit_;
    bool head_request_;
    bool done_ = false;
    bool started_ = false;
    bool header_done_ = false;
    /// After Beast asked for more on the last chunk's line: feed it again only with this many
    /// bytes or more (see final_chunk_minimum).
    std::size_t final_chunk_hold_ = 0;
    std::string kept_;        ///< bytes given but not parsed yet
    std::string_view extra_;  ///< past the response
    std::optional<boost::beast::http::response_parser<limited_body>> parser_;
};

}  // namespace wsload::net::detail
