#include "api_client.h"

// GCC 12 with -fsanitize flags a false "maybe-uninitialized" inside Beast's response
// parser (boost::optional in content_length); the header is not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#pragma GCC diagnostic pop

namespace weir::pktgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string ApiResponse::describe(std::string_view what) const {
  std::string out(what);
  if (status == 0) return out + ": " + transport_error;
  out += " -> " + std::to_string(status) + ": ";
  if (json.is_object() && json.contains("errorReason") && json["errorReason"].is_string()) {
    return out + json["errorReason"].get<std::string>();
  }
  return out + body;
}

bool parse_http_url(std::string_view url, std::string& host, std::string& port, bool& tls) {
  constexpr std::string_view kHttps = "https://";
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, kHttps.size()) == kHttps) {
    tls = true;
    url.remove_prefix(kHttps.size());
  } else if (url.substr(0, kHttp.size()) == kHttp) {
    tls = false;
    url.remove_prefix(kHttp.size());
  } else {
    return false;
  }
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    if (url.substr(slash) != "/") return false;
    url = url.substr(0, slash);
  }
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos) {
    host = url;
    port = tls ? "443" : "80";
  } else {
    host = url.substr(0, colon);
    port = url.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) return false;
  }
  return !host.empty();
}

struct ApiClient::Connection {
  asio::io_context io;
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  tcp::socket socket{io};
  // A TLS stream cannot be reused after its connection closed: one per connection.
  std::unique_ptr<beast::ssl_stream<tcp::socket&>> tls;
  beast::flat_buffer buffer;
  bool open = false;

  void close() {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    tls.reset();
    open = false;
  }
  template <class Op>
  void with_stream(Op op) {
    if (tls) {
      op(*tls);
    } else {
      op(socket);
    }
  }
};

ApiClient::ApiClient(std::string host, std::string port, bool tls)
    : host_(std::move(host)), port_(std::move(port)), tls_(tls),
      conn_(std::make_unique<Connection>()) {
  conn_->tls_ctx.set_verify_mode(asio::ssl::verify_none);
}

ApiClient::~ApiClient() {
  if (conn_->open) conn_->close();
}

ApiResponse ApiClient::request(Method method, const std::string& target,
                               const nlohmann::json* body) {
  ApiResponse out;
  http::request<http::string_body> req;
  req.method(method == Method::get    ? http::verb::get
             : method == Method::post ? http::verb::post
                                      : http::verb::delete_);
  req.target(target);
  req.version(11);
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::user_agent, "weir-pktgen");
  req.keep_alive(true);
  if (body != nullptr) {
    req.set(http::field::content_type, "application/json");
    req.body() = body->dump();
  }
  req.prepare_payload();

  // A kept-alive connection may have been closed by the server since the last request:
  // one retry on a fresh connection covers that without hiding a real failure.
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    Connection& c = *conn_;
    if (!c.open) {
      tcp::resolver resolver(c.io);
      const auto endpoints = resolver.resolve(host_, port_, ec);
      if (!ec) asio::connect(c.socket, endpoints, ec);
      if (!ec && tls_) {
        c.tls = std::make_unique<beast::ssl_stream<tcp::socket&>>(c.socket, c.tls_ctx);
        if (!SSL_set_tlsext_host_name(c.tls->native_handle(), host_.c_str())) {
          ec = beast::error_code(static_cast<int>(::ERR_get_error()),
                                 asio::error::get_ssl_category());
        }
        if (!ec) c.tls->handshake(asio::ssl::stream_base::client, ec);
      }
      if (ec) {
        c.close();
        out.transport_error = "cannot connect to " + host_ + ":" + port_ + ": " + ec.message();
        return out;
      }
      c.open = true;
      c.buffer.clear();
    }
    http::response<http::string_body> res;
    c.with_stream([&](auto& stream) {
      http::write(stream, req, ec);
      if (!ec) http::read(stream, c.buffer, res, ec);
    });
    if (ec) {
      c.close();
      out.transport_error = "HTTP exchange failed: " + ec.message();
      continue;
    }
    if (!res.keep_alive()) c.close();
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    out.json = nlohmann::json::parse(out.body, nullptr, /*allow_exceptions=*/false);
    if (out.json.is_discarded()) out.json = nullptr;
    out.transport_error.clear();
    return out;
  }
  return out;
}

}  // namespace weir::pktgen
