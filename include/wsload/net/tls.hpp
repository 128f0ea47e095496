#pragma once
// TLS client settings shared by every secure transport: verification on by default.

#include <wsload/core/error.hpp>
#include <wsload/net/detail/tls_session_pool.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace wsload::net {

/// A client context: peers verified against the system store, or `ca_file` when given;
/// `insecure` turns verification off (self-signed test servers); `resume` keeps the sessions
/// servers offer for later connects (detail/tls_session_pool.hpp).
inline std::unique_ptr<boost::asio::ssl::context> make_client_tls_context(bool insecure, const std::string& ca_file,
                                                                          bool resume = false)
{
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    // Idle connections should not keep OpenSSL's read/write buffers (~34 KB each otherwise).
    SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    if (resume) detail::tls_session_pool::enable(ctx->native_handle());
    if (insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty()) ctx->set_default_verify_paths(ec);
    else ctx->load_verify_file(ca_file, ec);
    if (ec)
        throw usage_error("--ca-file: cannot load \"" + ca_file + "\" (" + ec.message() +
                          "; give a PEM file of CA certificates)");
    return ctx;
}

/// The client context of a run, shared by every thread: built at the first secure connect, since
/// loading the system CA store costs milliseconds of start-up that a ws:// run should not pay.
/// A `ca_file` is loaded at once instead (prepare), so a bad one fails at start, not mid-run.
/// OpenSSL's SSL_CTX is thread-safe once built.
class tls_client_context {
public:
    tls_client_context(bool insecure, std::string ca_file, bool resume = false)
        : insecure_(insecure), resume_(resume), ca_file_(std::move(ca_file))
    {}

    boost::asio::ssl::context& get()
    {
        std::call_once(once_, [this] {
            if (!context_) context_ = make_client_tls_context(insecure_, ca_file_, resume_);
        });
        return *context_;
    }
    /// At start, on the main thread: checks what the user gave now rather than mid-run.
    void prepare()
    {
        if (!ca_file_.empty() && !insecure_) context_ = make_client_tls_context(insecure_, ca_file_, resume_);
    }
    bool verifies() const noexcept { return !insecure_; }
    /// Connects resume the sessions servers offered earlier ones (--tls-resume).
    bool resumes() const noexcept { return resume_; }

private:
    bool insecure_;
    bool resume_;
    std::string ca_file_;
    std::once_flag once_;
    std::unique_ptr<boost::asio::ssl::context> context_;
};

/// Per connection: SNI for host names (never for IP literals, RFC 6066) and host checking.
template <class Stream>
void prepare_tls_client(boost::asio::ssl::stream<Stream>& stream, const std::string& host, bool verify)
{
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    const bool is_ip = !ec;
    if (!is_ip) SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    if (verify) stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

}  // namespace wsload::net
