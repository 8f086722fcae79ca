// weir's one TCP port (Boost.Beast over TLS) on its own io_context thread(s): HTTPS for
// the broadcaster API (broadcaster_routes.h) and the demo web app's files
// (static_files.h), and WSS for protoo peers (websocket_session.h; the upgrade on "/").
// Control calls run on the control thread's io_context; answers are written back on the
// connection's strand. Bad HTTP is answered (400/403/413/431/503) and closes only its own
// connection; bad protoo frames are dropped and counted.
//
// Shutdown order: stop() this server, then let the control io_context run out of work (or
// destroy it) before destroying the server: a request in flight on the control thread
// holds its connection, whose socket belongs to this server's io_context.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

namespace weir::control {
class Control;
}

namespace weir::signaling {

// The protoo WebSocket's limits (signaling contract 1.1, 1.2).
struct WebSocketConfig {
  size_t max_message_bytes = 960000;      // larger messages: close 1009 (protoo-server's limit)
  size_t max_queued_bytes = 4u << 20;     // unsent output beyond this: the client is not reading
  double requests_per_second = 50;        // token bucket; <= 0: no limit
  double request_burst = 200;
  uint32_t flood_close_refusals = 1000;   // this many 429s within flood_window: close 1008
  std::chrono::milliseconds flood_window{10000};
  std::chrono::milliseconds ping_interval{60000};   // idle this long: ping; twice: close
  std::chrono::milliseconds request_timeout_unit{2000};  // protoo: unit*(15+0.1*pending)
};

struct HttpServerConfig {
  std::string ip = "127.0.0.1";
  uint16_t port = 4443;                 // 0: any free port (see HttpServer::port())
  size_t max_connections = 1024;        // more get 503 and are closed
  size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413
  std::chrono::milliseconds idle_timeout{30000};  // waiting for (the rest of) a request
  unsigned threads = 1;
  std::string server_name = "weir";     // the Server header
  // Required: the TLS server context (tls_context.h). Plain HTTP is not served.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::chrono::milliseconds tls_handshake_timeout{10000};
  std::string web_root;                  // the demo web app's files; empty: none (404)
  uint64_t max_static_file_bytes = 64u << 20;
  WebSocketConfig websocket;
};

class HttpServer {
 public:
  // control and control_ctx must outlive the server; every Control call is posted to
  // control_ctx, whose single thread is the control thread.
  HttpServer(HttpServerConfig config, boost::asio::io_context& control_ctx,
             control::Control& control);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. false with *error (e.g. address in use).
  bool start(std::string* error);
  // Stops accepting and joins the threads; open connections are abandoned. Idempotent.
  void stop();

  // The bound port (useful with port 0); 0 before start().
  uint16_t port() const { return bound_port_; }
  // Connections currently open, WebSockets included (for tests and stats).
  size_t open_connections() const;
  size_t open_websockets() const;

  struct Shared;  // state the connections share with the server (they hold a raw pointer)

 private:
  HttpServerConfig config_;
  std::unique_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  uint16_t bound_port_ = 0;
  bool running_ = false;
};

}  // namespace weir::signaling
