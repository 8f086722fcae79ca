#include "signaling/protoo_peer_channel.h"

#include <random>
#include <utility>

#include <boost/asio/post.hpp>

#include "base/log.h"
#include "signaling/protoo_message.h"

namespace weir::signaling {

namespace net = boost::asio;
using control::PeerResponse;
using nlohmann::json;

namespace {
// protoo picks request ids in 0..10,000,000; ours stay in the same range.
constexpr uint32_t kIdRange = 10000000;
}  // namespace

ProtooPeerChannel::ProtooPeerChannel(net::io_context& control_ctx, net::any_io_executor sink_exec,
                                     std::weak_ptr<ProtooSink> sink,
                                     std::chrono::milliseconds timeout_unit)
    : control_ctx_(control_ctx), sink_exec_(std::move(sink_exec)), sink_(std::move(sink)),
      timeout_unit_(timeout_unit), next_id_(std::random_device{}() % kIdRange) {}

ProtooPeerChannel::~ProtooPeerChannel() = default;

void ProtooPeerChannel::post_to_sink(std::string text) {
  net::post(sink_exec_, [sink = sink_, text = std::move(text)]() mutable {
    if (auto s = sink.lock()) s->send_text(std::move(text));
  });
}

void ProtooPeerChannel::notify(const std::string& method, json data) {
  if (closed_) return;
  post_to_sink(protoo_notification_text(method, data));
}

uint32_t ProtooPeerChannel::next_free_id() {
  while (true) {
    uint32_t id = next_id_;
    next_id_ = (next_id_ + 1) % kIdRange;
    if (!pending_.count(id)) return id;
  }
}

void ProtooPeerChannel::request(const std::string& method, json data,
                                std::function<void(const PeerResponse&)> on_response) {
  if (closed_) {
    // Still exactly once and on the control thread, but never inside the caller's call.
    net::post(control_ctx_, [cb = std::move(on_response)] {
      PeerResponse r;
      r.error_code = 410;
      r.error_reason = "connection closed";
      cb(r);
    });
    return;
  }
  uint32_t id = next_free_id();
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(
      static_cast<double>(timeout_unit_.count()) * (15 + 0.1 * static_cast<double>(pending_.size()))));
  Pending p;
  p.callback = std::move(on_response);
  p.timer = std::make_unique<net::steady_timer>(control_ctx_, timeout);
  p.timer->async_wait([weak = weak_from_this(), id, method](const boost::system::error_code& ec) {
    if (ec) return;  // answered or failed already: the timer was cancelled
    auto self = weak.lock();
    if (!self || !self->pending_.count(id)) return;
    LOG_WARN("protoo", "request %s (id %u) timed out", method.c_str(), id);
    self->fail(id, 408, "request timeout");
  });
  pending_.emplace(id, std::move(p));
  post_to_sink(protoo_request_text(id, method, data));
}

void ProtooPeerChannel::fail(uint32_t id, int code, std::string reason) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  p.timer->cancel();
  PeerResponse r;
  r.error_code = code;
  r.error_reason = std::move(reason);
  p.callback(r);
}

void ProtooPeerChannel::close() {
  if (closed_) return;
  closed_ = true;
  closed_by_control_ = true;
  net::post(sink_exec_, [sink = sink_] {
    if (auto s = sink.lock()) s->close_with(kProtooCloseCode, "closed by protoo-server");
  });
  // Nothing can answer any more: fail what is pending now rather than at the timeout.
  while (!pending_.empty()) fail(pending_.begin()->first, 410, "connection closed");
}

bool ProtooPeerChannel::on_response(const json& id, PeerResponse response) {
  if (!id.is_number_unsigned() && !id.is_number_integer()) return false;
  if (id.is_number_integer() && id.get<int64_t>() < 0) return false;
  uint64_t value = id.get<uint64_t>();
  if (value >= kIdRange) return false;
  auto it = pending_.find(static_cast<uint32_t>(value));
  if (it == pending_.end()) return false;
  Pending p = std::move(it->second);
  pending_.erase(it);
  p.timer->cancel();
  p.callback(response);
  return true;
}

bool ProtooPeerChannel::on_connection_closed() {
  bool tell_control = !closed_by_control_;
  closed_ = true;
  while (!pending_.empty()) fail(pending_.begin()->first, 410, "connection closed");
  return tell_control;
}

}  // namespace weir::signaling
