// The control thread's handle on one protoo peer's signaling connection (a WebSocket in
// signaling/, a fake in tests). Control calls it only on the control thread; an
// implementation marshals to its own I/O thread and back. Messages are protoo's
// (signaling contract 1.2): notifications, and server-to-client requests whose answer
// comes back through the callback, on the control thread.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace weir::control {

// The answer to a server-to-client request: ok with data, or the peer's error (code and
// reason), or a local failure (the connection closed, the request timed out: code 408 or
// 410 with a reason saying which).
struct PeerResponse {
  bool ok = false;
  nlohmann::json data;  // ok: the response's data ({} if none)
  int error_code = 0;
  std::string error_reason;
};

class PeerChannel {
 public:
  virtual ~PeerChannel() = default;
  // A notification {notification:true, method, data}.
  virtual void notify(const std::string& method, nlohmann::json data) = 0;
  // A request {request:true, id, method, data}; on_response runs exactly once, on the
  // control thread: with the answer, or with a failure if the connection closes or the
  // request times out first.
  virtual void request(const std::string& method, nlohmann::json data,
                       std::function<void(const PeerResponse&)> on_response) = 0;
  // Closes the connection (protoo: close code 4000, final for protoo-client). Control
  // calls peer_disconnected itself; the channel must not call it again for this close.
  virtual void close() = 0;
};

}  // namespace weir::control
