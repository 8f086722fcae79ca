// The broadcaster API's HTTP/1.1 server (Boost.Beast) on its own io_context thread(s).
// It reads requests, routes them (broadcaster_routes.h), runs the Control call on the
// control thread's io_context and writes the answer back on the connection's strand.
// Bad HTTP is answered (400/413/431/503) and closes only its own connection.
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

namespace weir::control {
class Control;
}

namespace weir::signaling {

struct HttpServerConfig {
  std::string ip = "127.0.0.1";
  uint16_t port = 4443;                 // 0: any free port (see HttpServer::port())
  size_t max_connections = 1024;        // more get 503 and are closed
  size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413
  std::chrono::milliseconds idle_timeout{30000};  // waiting for (the rest of) a request
  unsigned threads = 1;
  std::string server_name = "weir";     // the Server header
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
  // Connections currently open (for tests and stats).
  size_t open_connections() const;

  struct Shared;  // state the connections share with the server (they hold a raw pointer)

 private:
  HttpServerConfig config_;
  std::unique_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  uint16_t bound_port_ = 0;
  bool running_ = false;
};

}  // namespace weir::signaling
