#include "signaling/websocket_session.h"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>

#include "base/log.h"
#include "control/control.h"
#include "signaling/http_server_shared.h"

namespace weir::signaling {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using control::ApiResult;
using nlohmann::json;

namespace {

// Logged one by one up to this many per connection, then only counted (a client sending
// garbage in a loop must not flood the log).
constexpr uint64_t kLoggedDropsPerConnection = 10;
// Bytes asked of one read: a message is assembled from reads this size, so that the size
// limit is checked before it is exceeded by much.
constexpr size_t kReadChunkBytes = 64 * 1024;
// A close handshake (ours) not done by then ends with the TCP connection dropped.
constexpr std::chrono::seconds kCloseDeadline{10};

std::string error_reason(const ApiResult& r) {
  if (r.body.is_object()) {
    auto it = r.body.find("errorReason");
    if (it != r.body.end() && it->is_string()) return it->get<std::string>();
  }
  if (!r.text.empty()) return r.text;
  return "error " + std::to_string(r.status);
}

}  // namespace

WebSocketSession::WebSocketSession(TlsStream&& stream, HttpServer::Shared* shared, bool counted,
                                   std::string remote, PeerAddress address,
                                   http::request<http::string_body> upgrade)
    : ws_(std::move(stream)), close_timer_(ws_.get_executor()), shared_(shared), counted_(counted), remote_(std::move(remote)),
      address_(std::move(address)),
      who_("peer \"" + address_.peer_id + "\" in room \"" + address_.room_id + "\" from " + remote_),
      upgrade_(std::move(upgrade)),
      limiter_(shared->config.websocket.requests_per_second, shared->config.websocket.request_burst,
               shared->config.websocket.flood_close_refusals,
               shared->config.websocket.flood_window, RequestRateLimiter::Clock::now()) {
  shared_->websockets.fetch_add(1, std::memory_order_relaxed);
}

WebSocketSession::~WebSocketSession() {
  shared_->websockets.fetch_sub(1, std::memory_order_relaxed);
  if (counted_) shared_->connections.fetch_sub(1, std::memory_order_relaxed);
}

void WebSocketSession::start() {
  channel_ = std::make_shared<ProtooPeerChannel>(shared_->control_ctx, ws_.get_executor(),
                                                 weak_from_this(),
                                                 shared_->config.websocket.request_timeout_unit);
  LOG_DEBUG("protoo", "%s: upgrade requested (consumerReplicas %g)", who_.c_str(),
            address_.consumer_replicas);
  net::post(shared_->control_ctx, [self = shared_from_this()] {
    ApiResult r;
    try {
      r = self->shared_->control.peer_connected(self->address_.room_id, self->address_.peer_id,
                                                self->channel_);
    } catch (const std::exception& e) {
      r = ApiResult::error(500, e.what());
    }
    int status = r.status;
    std::string reason = r.is_ok() ? std::string() : error_reason(r);
    if (!r.is_ok()) self->channel_->on_connection_closed();  // never registered
    net::post(self->ws_.get_executor(), [self, status, reason = std::move(reason)] {
      self->on_registered(status, reason);
    });
  });
}

void WebSocketSession::on_registered(int status, std::string reason) {
  if (status != 200) return refuse_upgrade(status, reason);
  const WebSocketConfig& wc = shared_->config.websocket;
  beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts take over
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = shared_->config.tls_handshake_timeout;
  timeouts.idle_timeout = wc.ping_interval * 2;
  timeouts.keep_alive_pings = true;  // a ping after half the idle time (ping_interval)
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [server = shared_->config.server_name](websocket::response_type& res) {
        res.set(http::field::server, server);
        res.set(http::field::sec_websocket_protocol, "protoo");
      }));
  // The size limit is ours (on_read), not Beast's: Beast would tear the connection down
  // right after its 1009, resetting it under a client still sending the big message, so
  // that the client never reads the close code.
  ws_.read_message_max(0);
  ws_.auto_fragment(false);
  ws_.async_accept(upgrade_, [self = shared_from_this()](beast::error_code ec) {
    self->on_accept(ec);
  });
}

// Control refused the peer (e.g. 500 when the room cannot be created): an HTTP answer,
// not a WebSocket.
void WebSocketSession::refuse_upgrade(int status, const std::string& reason) {
  LOG_WARN("protoo", "%s: upgrade refused with %d: %s", who_.c_str(), status, reason.c_str());
  finished_ = true;
  auto res = std::make_shared<http::response<http::string_body>>();
  res->version(11);
  res->result(static_cast<unsigned>(status));
  res->set(http::field::server, shared_->config.server_name);
  res->set(http::field::content_type, "text/plain; charset=utf-8");
  res->body() = reason;
  res->keep_alive(false);
  res->prepare_payload();
  beast::get_lowest_layer(ws_).expires_after(shared_->config.idle_timeout);
  http::async_write(ws_.next_layer(), *res, [self = shared_from_this(), res](beast::error_code, size_t) {
    self->ws_.next_layer().async_shutdown([self](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  });
}

void WebSocketSession::on_accept(beast::error_code ec) {
  if (ec) return finish("handshake failed: " + ec.message());
  open_ = true;
  LOG_INFO("protoo", "%s connected", who_.c_str());
  if (!queue_.empty()) write_next();
  else if (close_code_ != 0) start_close();
  read_next();
}

void WebSocketSession::read_next() {
  ws_.async_read_some(read_buffer_, kReadChunkBytes,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->on_read(ec);
                      });
}

void WebSocketSession::on_read(beast::error_code ec) {
  if (ec) {
    if (ec == websocket::error::closed) {
      const websocket::close_reason& cr = ws_.reason();
      return finish("closed by the client (code " + std::to_string(cr.code) + ")");
    }
    return finish(ec.message());
  }
  if (read_buffer_.size() > shared_->config.websocket.max_message_bytes) {
    // No more reads: the close handshake reads (and discards) the rest of the message.
    LOG_WARN("protoo", "%s: message larger than %zu bytes: closing with 1009", who_.c_str(),
             shared_->config.websocket.max_message_bytes);
    read_buffer_.clear();
    return close_with(static_cast<uint16_t>(websocket::close_code::too_big), "message too big");
  }
  if (!ws_.is_message_done()) return read_next();
  if (ws_.got_binary()) {
    // protoo uses text frames only; binary ones are ignored, as protoo-server does.
    ++binary_frames_;
    shared_->binary_frames.fetch_add(1, std::memory_order_relaxed);
    if (binary_frames_ <= kLoggedDropsPerConnection) {
      LOG_INFO("protoo", "%s: binary frame of %zu bytes ignored", who_.c_str(),
               read_buffer_.size());
    }
  } else {
    auto data = read_buffer_.cdata();
    on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
  }
  read_buffer_.consume(read_buffer_.size());
  // Also while closing: the read loop is what completes the close handshake.
  if (!finished_ && !too_big_) read_next();
}

void WebSocketSession::on_text(std::string_view text) {
  ProtooParse parsed = parse_protoo(text);
  if (!parsed.message) {
    ++dropped_frames_;
    shared_->protoo_dropped[static_cast<size_t>(parsed.dropped)].fetch_add(
        1, std::memory_order_relaxed);
    if (dropped_frames_ <= kLoggedDropsPerConnection) {
      LOG_WARN("protoo", "%s: frame dropped (%s%s%s)", who_.c_str(),
               protoo_drop_reason_name(parsed.dropped), parsed.detail.empty() ? "" : ": ",
               parsed.detail.c_str());
    }
    return;
  }
  ProtooMessage& m = *parsed.message;
  switch (m.kind) {
    case ProtooKind::request: return on_request(std::move(m));
    case ProtooKind::response: {
      control::PeerResponse r;
      r.ok = m.ok;
      r.data = std::move(m.data);
      r.error_code = m.error_code;
      r.error_reason = std::move(m.error_reason);
      net::post(shared_->control_ctx, [channel = channel_, id = std::move(m.id), who = who_,
                                       r = std::move(r)]() mutable {
        if (!channel->on_response(id, std::move(r))) {
          LOG_INFO("protoo", "%s: response to unknown request id %s ignored", who.c_str(),
                   id.dump().c_str());
        }
      });
      return;
    }
    case ProtooKind::notification:
      // The demo client sends none; nothing on the server listens for them.
      LOG_DEBUG("protoo", "%s: notification %s ignored", who_.c_str(), m.method.c_str());
      return;
  }
}

void WebSocketSession::on_request(ProtooMessage&& m) {
  switch (limiter_.on_request(RequestRateLimiter::Clock::now())) {
    case RequestRateLimiter::Verdict::serve: break;
    case RequestRateLimiter::Verdict::refuse:
      shared_->requests_refused.fetch_add(1, std::memory_order_relaxed);
      if (limiter_.refused_total() == 1) {
        LOG_WARN("protoo", "%s: request rate above %g/s: answering 429", who_.c_str(),
                 shared_->config.websocket.requests_per_second);
      }
      return send_text(protoo_error_text(m.id, 429, "too many requests"));
    case RequestRateLimiter::Verdict::close:
      shared_->requests_refused.fetch_add(1, std::memory_order_relaxed);
      if (close_code_ != 0) return send_text(protoo_error_text(m.id, 429, "too many requests"));
      LOG_WARN("protoo", "%s: request flood (%llu refused): closing", who_.c_str(),
               static_cast<unsigned long long>(limiter_.refused_total()));
      send_text(protoo_error_text(m.id, 429, "too many requests"));
      return close_with(static_cast<uint16_t>(websocket::close_code::policy_error),
                        "request flood");
  }
  if (close_code_ != 0) return;  // closing: nobody is served any more
  // The answer comes back on this strand whenever Control has it; the read loop goes on.
  auto respond = [weak = weak_from_this(), exec = ws_.get_executor(),
                  id = m.id](ApiResult result) {
    net::post(exec, [weak, id, result = std::move(result)] {
      auto self = weak.lock();
      if (!self) return;
      self->send_text(result.is_ok()
                          ? protoo_success_text(id, result.body.is_null() ? json::object()
                                                                          : result.body)
                          : protoo_error_text(id, result.status, error_reason(result)));
    });
  };
  net::post(shared_->control_ctx, [self = shared_from_this(), m = std::move(m),
                                   respond = std::move(respond)]() mutable {
    // A throw before respond ran becomes a 500, as protoo-server does for a handler error.
    auto answered = std::make_shared<bool>(false);
    auto once = [answered, respond](ApiResult r) {
      if (*answered) return;
      *answered = true;
      respond(std::move(r));
    };
    try {
      self->shared_->control.peer_request(self->address_.room_id, self->address_.peer_id,
                                          self->channel_.get(), m.method, m.data, once);
    } catch (const std::exception& e) {
      once(ApiResult::error(500, e.what()));
    }
  });
}

void WebSocketSession::send_text(std::string text) {
  if (finished_ || close_started_) return;
  queued_bytes_ += text.size();
  queue_.push_back(std::move(text));
  if (queued_bytes_ > shared_->config.websocket.max_queued_bytes) {
    return abort("output queue full: the client is not reading");
  }
  if (open_ && !writing_) write_next();
}

void WebSocketSession::write_next() {
  if (queue_.empty()) {
    if (close_code_ != 0) start_close();
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(queue_.front()),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->writing_ = false;
                    self->queued_bytes_ -= self->queue_.front().size();
                    self->queue_.pop_front();
                    if (ec || self->finished_) {
                      self->abort("write failed");
                      self->drop_queue();
                      return;
                    }
                    self->write_next();
                  });
}

void WebSocketSession::close_with(uint16_t code, std::string reason) {
  if (finished_ || close_code_ != 0) return;
  close_code_ = code;
  close_reason_ = std::move(reason);
  if (code == static_cast<uint16_t>(websocket::close_code::too_big)) too_big_ = true;
  // A client that reads nothing would keep the close frame queued forever.
  close_timer_.expires_after(kCloseDeadline);
  close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->abort("close handshake not done in time");
  });
  if (open_ && !writing_) start_close();
}

void WebSocketSession::start_close() {
  if (close_started_ || finished_) return;
  close_started_ = true;
  LOG_INFO("protoo", "%s: closing with %u (%s)", who_.c_str(), close_code_, close_reason_.c_str());
  websocket::close_reason cr;
  cr.code = close_code_;
  cr.reason = close_reason_;
  ws_.async_close(cr,
                  [self = shared_from_this()](beast::error_code ec) {
                    // With a read pending, that read ends too and finishes first.
                    self->finish(ec ? "close handshake: " + ec.message()
                                    : "closed with " + std::to_string(self->close_code_));
                  });
}

// Tears the TCP connection down without a close handshake: the client does not read, so a
// close frame would only wait behind what is already stuck.
void WebSocketSession::abort(const char* why) {
  if (finished_) return;
  LOG_WARN("protoo", "%s: %s (%zu bytes queued): dropping the connection", who_.c_str(), why,
           queued_bytes_);
  finish(why);
}

// The message being written stays until its write completes: Beast reads from it.
void WebSocketSession::drop_queue() {
  size_t keep = writing_ ? 1 : 0;
  while (queue_.size() > keep) {
    queued_bytes_ -= queue_.back().size();
    queue_.pop_back();
  }
}

void WebSocketSession::finish(const std::string& why) {
  if (finished_) return;
  finished_ = true;
  drop_queue();
  close_timer_.cancel();
  LOG_INFO("protoo", "%s disconnected: %s%s", who_.c_str(), why.c_str(),
           dropped_frames_ + binary_frames_ == 0
               ? ""
               : (" (" + std::to_string(dropped_frames_) + " frames dropped, " +
                  std::to_string(binary_frames_) + " binary ignored)").c_str());
  net::post(shared_->control_ctx, [channel = channel_, shared = shared_, address = address_] {
    if (channel->on_connection_closed()) {
      try {
        shared->control.peer_disconnected(address.room_id, address.peer_id, channel.get());
      } catch (const std::exception& e) {
        LOG_ERROR("protoo", "peer_disconnected for \"%s\" failed: %s", address.peer_id.c_str(),
                  e.what());
      }
    }
  });
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace weir::signaling
