// What the HTTPS connections and WebSocket sessions share with their HttpServer (internal
// to signaling/). They hold a raw pointer: the server outlives them (see http_server.h).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "signaling/http_server.h"
#include "signaling/protoo_message.h"

namespace weir::control {
class Control;
}

namespace weir::signaling {

// Member order matters: the counters outlive ioc, whose destruction may destroy pending
// connections (which decrement them); the acceptor dies before the ioc it belongs to.
struct HttpServer::Shared {
  Shared(const HttpServerConfig& c, boost::asio::io_context& cctx, control::Control& ctl)
      : config(c), control_ctx(cctx), control(ctl) {}

  HttpServerConfig config;
  boost::asio::io_context& control_ctx;
  control::Control& control;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> websockets{0};
  // Dropped protoo frames, by ProtooDropReason; binary frames; refused (429) requests.
  std::array<std::atomic<uint64_t>, 7> protoo_dropped{};
  std::atomic<uint64_t> binary_frames{0};
  std::atomic<uint64_t> requests_refused{0};
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor{ioc};
  boost::asio::steady_timer accept_retry{ioc};
};

}  // namespace weir::signaling
