#include "signaling/http_server.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <array>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include "signaling/beast_http.h"

#include "base/log.h"
#include "control/control.h"
#include "signaling/broadcaster_routes.h"
#include "signaling/http_server_shared.h"
#include "signaling/static_files.h"
#include "signaling/websocket_session.h"

namespace weir::signaling {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using control::ApiResult;

namespace {

// How long a closing connection keeps reading (and discarding) what the client still
// sends, so that closing with unread data does not reset the connection before the client
// has read our error response.
constexpr std::chrono::milliseconds kLingerTime{5000};

std::string peer_name(const tcp::socket& socket) {
  beast::error_code ec;
  tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// Invalid UTF-8 in ids (percent-decoded bytes) must not make serialisation throw.
std::string json_text(const nlohmann::json& j) {
  if (j.is_null()) return "{}";
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_reason(const ApiResult& r) {
  if (r.body.is_object() && r.body.contains("errorReason") && r.body["errorReason"].is_string()) {
    return r.body["errorReason"].get<std::string>();
  }
  return r.text;
}

// The value of a comma-separated header (Sec-WebSocket-Protocol) contains token.
bool header_list_contains(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == token) return true;
  }
  return false;
}

// JavaScript's Number(text) for the demo's consumerReplicas, with NaN (and infinities) as 0.
double js_number_or_zero(const std::string& text) {
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.empty()) return 0;
  std::string copy(t);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return 0;
  return v;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket&& socket, HttpServer::Shared* shared, bool counted)
      : peer_(peer_name(socket)), stream_(std::move(socket), *shared->config.tls),
        shared_(shared), counted_(counted) {}
  ~Connection() {
    if (counted_) shared_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->handshake([self] { self->read_header(); });
    });
  }

  // Over the connection limit: answer 503 without reading and close.
  void reject_busy() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->handshake([self] {
        LOG_WARN("http", "connection from %s refused: %zu connections open (maxHttpConnections)",
                 self->peer_.c_str(), self->shared_->config.max_connections);
        self->write_error(503, "too many connections (limit " +
                                   std::to_string(self->shared_->config.max_connections) + ")");
      });
    });
  }

 private:
  // Nothing is answered without TLS: a plain-HTTP client only sees the connection close.
  template <class Then>
  void handshake(Then then) {
    lowest().expires_after(shared_->config.tls_handshake_timeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = shared_from_this(), then](beast::error_code ec) {
                              if (ec) {
                                LOG_DEBUG("http", "TLS handshake with %s failed: %s",
                                          self->peer_.c_str(), ec.message().c_str());
                                return self->close();
                              }
                              then();
                            });
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(shared_->config.max_body_bytes);
    lowest().expires_after(shared_->config.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      // curl waits for this before sending bodies over 1 KiB.
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->on_request();
                     });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return close();
    if (ec == beast::error::timeout) {
      LOG_DEBUG("http", "connection from %s idle too long, closing", peer_.c_str());
      return close();
    }
    if (ec == http::error::body_limit) {
      request_line_ = request_line();
      return write_error(413, "request body larger than " +
                                  std::to_string(shared_->config.max_body_bytes) +
                                  " bytes (maxHttpBodyBytes)");
    }
    if (ec == http::error::header_limit) {
      return write_error(431, "request header too large");
    }
    if (ec == http::error::partial_message || ec.category() != http::make_error_code(
                                                                    http::error::bad_method)
                                                                    .category()) {
      // The peer went away (or the socket failed) mid-request: nobody to answer.
      LOG_DEBUG("http", "connection from %s: %s", peer_.c_str(), ec.message().c_str());
      return close();
    }
    write_error(400, "bad HTTP request: " + ec.message());
  }

  std::string request_line() const {
    const auto& req = parser_->get();
    return std::string(req.method_string()) + " " + std::string(req.target());
  }

  void on_request() {
    lowest().expires_never();  // the control call may take a while; no read is pending
    request_line_ = request_line();
    request_ = parser_->release();
    LOG_DEBUG("http", "%s from %s", request_line_.c_str(), peer_.c_str());
    if (websocket::is_upgrade(request_)) return upgrade();
    RouteResult routed = route_request(request_.method_string(), request_.target(), request_.body());
    if (!routed.call) {
      // The API's routes come first; what is not one of them may be a file of the web app.
      std::string_view target = request_.target();
      bool api_path = target.substr(0, 7) == "/rooms/" || target.substr(0, 6) == "/rooms";
      if (routed.error.status == 404 && !api_path && !shared_->config.web_root.empty() &&
          (request_.method() == http::verb::get || request_.method() == http::verb::head)) {
        return serve_static(routed.error);
      }
      return respond(routed.error, routed.allow, !request_.keep_alive());
    }

    // Control lives on the control thread; the answer comes back on this connection's
    // strand. The lambda's reference keeps the connection alive meanwhile.
    net::post(shared_->control_ctx, [self = shared_from_this(), call = std::move(*routed.call)] {
      ApiResult result = dispatch(self->shared_->control, call);
      net::post(self->stream_.get_executor(), [self, result = std::move(result)] {
        self->respond(result, {}, !self->request_.keep_alive());
      });
    });
  }

  // protoo's WebSocket (contract 1.1): the checks protoo-server and the demo make, in
  // their order, then the session takes the TLS stream (and this connection's slot).
  void upgrade() {
    std::string_view target = request_.target();
    size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    if (path != "/") return write_error(404, "no WebSocket endpoint at " + std::string(path));
    if (!header_list_contains(request_[http::field::sec_websocket_protocol], "protoo")) {
      return write_error(403, "Invalid/missing Sec-WebSocket-Protocol (must include protoo)");
    }
    std::string decode_error;
    std::optional<std::string> room = query_parameter(query, "roomId", &decode_error);
    std::optional<std::string> peer = query_parameter(query, "peerId", &decode_error);
    if (!decode_error.empty()) return write_error(400, decode_error);
    if (!room || room->empty() || !peer || peer->empty()) {
      return write_error(400, "Connection request without roomId and/or peerId");
    }
    PeerAddress address;
    address.room_id = std::move(*room);
    address.peer_id = std::move(*peer);
    if (auto replicas = query_parameter(query, "consumerReplicas", &decode_error)) {
      address.consumer_replicas = js_number_or_zero(*replicas);
    }
    bool counted = counted_;
    counted_ = false;  // the session releases the slot
    auto session = std::make_shared<WebSocketSession>(std::move(stream_), shared_, counted, peer_,
                                                      std::move(address), std::move(request_));
    session->start();
  }

  // not_found: the API's own 404 ("no route for GET /x"), kept when there is no such
  // file either, so that a mistyped API path reads the same with or without a web root.
  void serve_static(const ApiResult& not_found) {
    const HttpServerConfig& c = shared_->config;
    StaticTarget t = resolve_static_target(request_.target());
    StaticFile f;
    if (t.status != 200) {
      f.status = t.status;
      f.reason = t.reason;
    } else {
      f = read_static_file(c.web_root, t.relative, c.max_static_file_bytes);
    }
    if (f.status == 404) {
      LOG_DEBUG("http", "%s: %s", request_line_.c_str(), f.reason.c_str());
      return respond(not_found, {}, !request_.keep_alive());
    }
    if (f.status != 200) {
      return respond(ApiResult::error(f.status, f.reason), {}, !request_.keep_alive());
    }
    LOG_DEBUG("http", "%s -> 200 (%zu bytes)", request_line_.c_str(), f.body.size());
    bool close_after = !request_.keep_alive();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(http::status::ok);
    res->set(http::field::server, c.server_name);
    res->set(http::field::content_type, static_content_type(t.relative));
    // The bundle changes with every web build and has no hash in its name.
    res->set(http::field::cache_control, "no-cache");
    res->set("X-Content-Type-Options", "nosniff");
    res->keep_alive(!close_after);
    if (request_.method() == http::verb::head) {
      res->content_length(f.body.size());
    } else {
      res->body() = std::move(f.body);
      res->prepare_payload();
    }
    write_response(std::move(res), close_after);
  }

  void log_outcome(int status, const std::string& reason) const {
    const std::string& what = request_line_.empty() ? "HTTP request from " + peer_ : request_line_;
    if (status >= 500) {
      LOG_WARN("http", "%s -> %d: %s", what.c_str(), status, reason.c_str());
    } else if (status >= 400) {
      LOG_INFO("http", "%s -> %d: %s", what.c_str(), status, reason.c_str());
    } else {
      LOG_DEBUG("http", "%s -> %d", what.c_str(), status);
    }
  }

  void write_error(int status, const std::string& reason) {
    respond(ApiResult::error(status, reason), {}, true);
  }

  void respond(const ApiResult& result, const std::string& allow, bool close_after) {
    log_outcome(result.status, result.is_ok() ? std::string() : error_reason(result));
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(result.status));
    res->set(http::field::server, shared_->config.server_name);
    if (!result.text.empty()) {
      res->set(http::field::content_type, "text/plain; charset=utf-8");
      res->body() = result.text;
    } else {
      res->set(http::field::content_type, "application/json");
      res->body() = json_text(result.body);
    }
    if (!allow.empty()) res->set(http::field::allow, allow);
    res->keep_alive(!close_after);
    res->prepare_payload();
    write_response(std::move(res), close_after);
  }

  void write_response(std::shared_ptr<http::response<http::string_body>> res, bool close_after) {
    lowest().expires_after(shared_->config.idle_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, close_after](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        if (close_after) return self->linger_close();
                        self->request_line_.clear();
                        self->read_header();
                      });
  }

  // Half-close the TCP connection, then read (and discard) what the client still sends
  // until it closes too, bounded: closing at once with data still unread would reset the
  // connection under the client's read of our answer (a client that is still sending a
  // refused body, say). No TLS close_notify: the answer's Content-Length delimits it, and
  // OpenSSL refuses to read application data after sending one.
  void linger_close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    lowest().expires_after(std::min<std::chrono::milliseconds>(kLingerTime,
                                                               shared_->config.idle_timeout));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ec;
    lowest().socket().close(ec);
  }

  std::string peer_;
  TlsStream stream_;
  HttpServer::Shared* shared_;
  bool counted_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  std::string request_line_;
  std::array<char, 4096> drain_buffer_{};
};

void accept_next(HttpServer::Shared* shared);

void on_accept(HttpServer::Shared* shared, beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted) return;
  if (ec) {
    // E.g. out of file descriptors: retry a little later instead of spinning.
    LOG_WARN("http", "accept failed: %s; retrying in 100 ms", ec.message().c_str());
    shared->accept_retry.expires_after(std::chrono::milliseconds(100));
    shared->accept_retry.async_wait([shared](beast::error_code wec) {
      if (!wec) accept_next(shared);
    });
    return;
  }
  size_t open = shared->connections.load(std::memory_order_relaxed);
  if (open >= shared->config.max_connections) {
    std::make_shared<Connection>(std::move(socket), shared, false)->reject_busy();
  } else {
    shared->connections.fetch_add(1, std::memory_order_relaxed);
    std::make_shared<Connection>(std::move(socket), shared, true)->start();
  }
  accept_next(shared);
}

void accept_next(HttpServer::Shared* shared) {
  shared->acceptor.async_accept(net::make_strand(shared->ioc),
                                [shared](beast::error_code ec, tcp::socket socket) {
                                  on_accept(shared, ec, std::move(socket));
                                });
}

}  // namespace

HttpServer::HttpServer(HttpServerConfig config, net::io_context& control_ctx,
                       control::Control& control)
    : config_(std::move(config)),
      shared_(std::make_unique<Shared>(config_, control_ctx, control)) {}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::start(std::string* error) {
  if (!config_.tls) {
    *error = "the HTTPS server has no TLS context";
    return false;
  }
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(config_.ip, ec);
  if (ec) {
    *error = "invalid HTTP listen address \"" + config_.ip + "\": " + ec.message();
    return false;
  }
  tcp::endpoint endpoint{address, config_.port};
  tcp::acceptor& acceptor = shared_->acceptor;
  auto fail = [&](const char* what) {
    *error = std::string("cannot ") + what + " HTTP socket on " + config_.ip + ":" +
             std::to_string(config_.port) + ": " + ec.message();
    beast::error_code ignored;
    acceptor.close(ignored);
    return false;
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) return fail("configure");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return fail("listen on");
  bound_port_ = acceptor.local_endpoint(ec).port();

  accept_next(shared_.get());
  running_ = true;
  unsigned n = std::max(1u, config_.threads);
  for (unsigned i = 0; i < n; ++i) {
    threads_.emplace_back([shared = shared_.get()] {
      // A handler that throws must not end the server; log it and keep serving.
      while (true) {
        try {
          shared->ioc.run();
          return;
        } catch (const std::exception& e) {
          LOG_ERROR("http", "unexpected exception in HTTP server: %s", e.what());
        }
      }
    });
  }
  return true;
}

void HttpServer::stop() {
  if (!running_) return;
  running_ = false;
  shared_->ioc.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  beast::error_code ignored;
  shared_->acceptor.close(ignored);
}

size_t HttpServer::open_connections() const {
  return shared_->connections.load(std::memory_order_relaxed);
}

size_t HttpServer::open_websockets() const {
  return shared_->websockets.load(std::memory_order_relaxed);
}

}  // namespace weir::signaling
