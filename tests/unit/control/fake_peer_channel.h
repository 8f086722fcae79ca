// A PeerChannel for tests: records what Control sends (into its own lists and into a log
// shared by every channel of a test, to check the order across peers) and lets the test
// answer the server-to-client requests when it chooses.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/peer_channel.h"

namespace weir::control::testing {

// "<peer> notify <method>" / "<peer> request <method>" / "<peer> close", in order.
using EventLog = std::vector<std::string>;

class FakePeerChannel : public PeerChannel {
 public:
  struct Message {
    std::string method;
    nlohmann::json data;
  };
  struct Request {
    std::string method;
    nlohmann::json data;
    std::function<void(const PeerResponse&)> on_response;
    bool answered = false;
  };

  FakePeerChannel(std::string peer_id, EventLog* log) : peer_id_(std::move(peer_id)), log_(log) {}

  void notify(const std::string& method, nlohmann::json data) override {
    if (log_) log_->push_back(peer_id_ + " notify " + method);
    notifications.push_back({method, std::move(data)});
  }
  void request(const std::string& method, nlohmann::json data,
               std::function<void(const PeerResponse&)> on_response) override {
    if (log_) log_->push_back(peer_id_ + " request " + method);
    requests.push_back({method, std::move(data), std::move(on_response)});
  }
  void close() override {
    if (log_) log_->push_back(peer_id_ + " close");
    closed = true;
    // As the real channel: pending requests fail when the connection goes.
    fail_pending(410, "connection closed");
  }

  // Answers every request not answered yet, in order (ok: {}; else the error).
  void answer_all(bool ok = true, int code = 500, const std::string& reason = "refused") {
    for (size_t i = 0; i < requests.size(); ++i) answer(i, ok, code, reason);
  }
  void answer(size_t index, bool ok = true, int code = 500, const std::string& reason = "refused") {
    Request& r = requests.at(index);
    if (r.answered) return;
    r.answered = true;
    PeerResponse response;
    response.ok = ok;
    response.data = nlohmann::json::object();
    if (!ok) {
      response.error_code = code;
      response.error_reason = reason;
    }
    auto callback = r.on_response;  // the callback may add requests (and move the vector)
    callback(response);
  }
  void fail_pending(int code, const std::string& reason) {
    for (size_t i = 0; i < requests.size(); ++i) answer(i, false, code, reason);
  }

  std::vector<nlohmann::json> notified(const std::string& method) const {
    std::vector<nlohmann::json> found;
    for (const auto& n : notifications) {
      if (n.method == method) found.push_back(n.data);
    }
    return found;
  }
  std::vector<const Request*> requested(const std::string& method) const {
    std::vector<const Request*> found;
    for (const auto& r : requests) {
      if (r.method == method) found.push_back(&r);
    }
    return found;
  }

  std::vector<Message> notifications;
  std::vector<Request> requests;
  bool closed = false;

 private:
  std::string peer_id_;
  EventLog* log_;
};

}  // namespace weir::control::testing
