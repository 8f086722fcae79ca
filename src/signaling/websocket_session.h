// One protoo peer's WebSocket over TLS, after the HTTP server has read its upgrade request
// and checked the subprotocol and query. It registers the peer with Control
// (peer_connected; an error there refuses the upgrade with that status), then reads
// frames without ever waiting on Control: each request is handed to the control thread
// and its answer written whenever it comes, so requests are served while the server's own
// requests to this peer are pending (contract 1.4). Output goes through a bounded queue;
// requests through a rate limiter.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include "signaling/beast_http.h"

#include "signaling/http_server.h"
#include "signaling/protoo_message.h"
#include "signaling/protoo_peer_channel.h"
#include "signaling/request_rate_limiter.h"

namespace weir::signaling {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct PeerAddress {
  std::string room_id;
  std::string peer_id;
  double consumer_replicas = 0;  // the demo's test knob; parsed, not used yet
};

class WebSocketSession final : public ProtooSink,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  // counted: this connection holds one of the server's connection slots (released when
  // the session ends). remote: "ip:port" for logs.
  WebSocketSession(TlsStream&& stream, HttpServer::Shared* shared, bool counted,
                   std::string remote, PeerAddress address,
                   boost::beast::http::request<boost::beast::http::string_body> upgrade);
  ~WebSocketSession() override;

  void start();

  // ProtooSink (on this session's strand).
  void send_text(std::string text) override;
  void close_with(uint16_t code, std::string reason) override;

 private:
  void on_registered(int status, std::string reason);
  void refuse_upgrade(int status, const std::string& reason);
  void on_accept(boost::beast::error_code ec);
  void read_next();
  void on_read(boost::beast::error_code ec);
  void on_text(std::string_view text);
  void on_request(ProtooMessage&& m);
  void write_next();
  void start_close();
  void abort(const char* why);
  void finish(const std::string& why);
  void drop_queue();

  boost::beast::websocket::stream<TlsStream> ws_;
  boost::asio::steady_timer close_timer_;
  HttpServer::Shared* shared_;
  bool counted_;
  std::string remote_;
  PeerAddress address_;
  std::string who_;  // "peer P in room R from ip:port", for logs
  boost::beast::http::request<boost::beast::http::string_body> upgrade_;
  std::shared_ptr<ProtooPeerChannel> channel_;
  boost::beast::flat_buffer read_buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;       // the 101 was sent
  bool finished_ = false;   // the read loop ended; Control has been told
  uint16_t close_code_ = 0; // a close is wanted (sent once the queue is written)
  std::string close_reason_;
  bool close_started_ = false;
  bool too_big_ = false;    // the message in progress went over the limit: no more reads
  RequestRateLimiter limiter_;
  uint64_t dropped_frames_ = 0;
  uint64_t binary_frames_ = 0;
};

}  // namespace weir::signaling
