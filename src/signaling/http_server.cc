#include "signaling/http_server.h"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include "signaling/beast_http.h"

#include "base/log.h"
#include "control/control.h"
#include "signaling/broadcaster_routes.h"

namespace weir::signaling {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using control::ApiResult;

// Member order matters: connections outlives ioc, whose destruction may destroy pending
// connections (which decrement it); the acceptor dies before the ioc it belongs to.
struct HttpServer::Shared {
  Shared(const HttpServerConfig& c, net::io_context& cctx, control::Control& ctl)
      : config(c), control_ctx(cctx), control(ctl) {}

  HttpServerConfig config;
  net::io_context& control_ctx;
  control::Control& control;
  std::atomic<size_t> connections{0};
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
};

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

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket&& socket, HttpServer::Shared* shared, bool counted)
      : stream_(std::move(socket)), shared_(shared), counted_(counted),
        peer_(peer_name(stream_.socket())) {}
  ~Connection() {
    if (counted_) shared_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // Over the connection limit: answer 503 without reading and close.
  void reject_busy() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      LOG_WARN("http", "connection from %s refused: %zu connections open (maxHttpConnections)",
               self->peer_.c_str(), self->shared_->config.max_connections);
      self->write_error(503, "too many connections (limit " +
                                 std::to_string(self->shared_->config.max_connections) + ")");
    });
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(shared_->config.max_body_bytes);
    stream_.expires_after(shared_->config.idle_timeout);
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
    stream_.expires_never();  // the control call may take a while; no read is pending
    request_line_ = request_line();
    request_ = parser_->release();
    LOG_DEBUG("http", "%s from %s", request_line_.c_str(), peer_.c_str());
    RouteResult routed = route_request(request_.method_string(), request_.target(), request_.body());
    if (!routed.call) return respond(routed.error, routed.allow, !request_.keep_alive());

    // Control lives on the control thread; the answer comes back on this connection's
    // strand. The lambda's reference keeps the connection alive meanwhile.
    net::post(shared_->control_ctx, [self = shared_from_this(), call = std::move(*routed.call)] {
      ApiResult result = dispatch(self->shared_->control, call);
      net::post(self->stream_.get_executor(), [self, result = std::move(result)] {
        self->respond(result, {}, !self->request_.keep_alive());
      });
    });
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
    stream_.expires_after(shared_->config.idle_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, close_after](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        if (close_after) return self->linger_close();
                        self->request_line_.clear();
                        self->read_header();
                      });
  }

  // Half-close, then discard what the client still sends until it closes too.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(std::min<std::chrono::milliseconds>(kLingerTime,
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
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Shared* shared_;
  bool counted_;
  std::string peer_;
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

}  // namespace weir::signaling
