// The control thread's side of one protoo WebSocket: control::PeerChannel on top of a
// ProtooSink (the connection, on its own strand). It owns the server-to-client requests in
// flight: their ids, callbacks and timeouts, all touched on the control thread only, so
// that each callback runs there exactly once — with the answer, 408 on timeout
// (protoo-server's 2000*(15+0.1*pending) ms) or 410 when the connection closes first.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "control/peer_channel.h"

namespace weir::signaling {

// What a channel needs of its connection. Called on the connection's executor only.
class ProtooSink {
 public:
  virtual ~ProtooSink() = default;
  virtual void send_text(std::string text) = 0;
  // A WebSocket close with this code once what is queued has been written.
  virtual void close_with(uint16_t code, std::string reason) = 0;
};

// protoo's close code for "closed by the server"; protoo-client does not reconnect.
constexpr uint16_t kProtooCloseCode = 4000;

class ProtooPeerChannel final : public control::PeerChannel,
                                public std::enable_shared_from_this<ProtooPeerChannel> {
 public:
  // timeout_unit: 2000 ms in production (protoo-server's factor); tests shrink it.
  ProtooPeerChannel(boost::asio::io_context& control_ctx, boost::asio::any_io_executor sink_exec,
                    std::weak_ptr<ProtooSink> sink,
                    std::chrono::milliseconds timeout_unit = std::chrono::milliseconds(2000));
  ~ProtooPeerChannel() override;

  // control::PeerChannel (control thread).
  void notify(const std::string& method, nlohmann::json data) override;
  void request(const std::string& method, nlohmann::json data,
               std::function<void(const control::PeerResponse&)> on_response) override;
  void close() override;

  // From the connection, posted to the control thread.
  // A response frame; false if no request with this id is pending (late or bogus).
  bool on_response(const nlohmann::json& id, control::PeerResponse response);
  // The connection is gone: pending requests fail with 410, later calls are dropped.
  // True if Control must be told (peer_disconnected): it did not close this channel itself.
  bool on_connection_closed();

  size_t pending_requests() const { return pending_.size(); }
  bool closed() const { return closed_; }

 private:
  struct Pending {
    std::function<void(const control::PeerResponse&)> callback;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  void post_to_sink(std::string text);
  void fail(uint32_t id, int code, std::string reason);
  uint32_t next_free_id();

  boost::asio::io_context& control_ctx_;
  boost::asio::any_io_executor sink_exec_;
  std::weak_ptr<ProtooSink> sink_;
  std::chrono::milliseconds timeout_unit_;
  std::map<uint32_t, Pending> pending_;
  uint32_t next_id_;
  bool closed_ = false;            // the connection is gone, or Control closed it
  bool closed_by_control_ = false;
};

}  // namespace weir::signaling
