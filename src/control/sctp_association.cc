#include "control/sctp_association.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "base/log.h"
#include "control/sctp_stack.h"
#include "wire/dcep_message.h"

namespace weir::control {

namespace {

constexpr uint16_t kSctpPort = 5000;  // both ends, always (RFC 8841 section 5)

sockaddr_conn conn_address(void* self) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(kSctpPort);
  a.sconn_addr = self;
  return a;
}

bool would_block(int err) { return err == EWOULDBLOCK || err == EAGAIN; }

}  // namespace

const char* sctp_state_name(SctpState state) {
  switch (state) {
    case SctpState::fresh:
      return "new";
    case SctpState::connecting:
      return "connecting";
    case SctpState::connected:
      return "connected";
    case SctpState::failed:
      return "failed";
    case SctpState::closed:
      return "closed";
  }
  return "?";
}

SctpAssociation::SctpAssociation(boost::asio::io_context& io, Listener& listener,
                                 SctpOptions options)
    : io_(io), listener_(listener), options_(options) {
  sctp_stack::acquire(this, io_);
  usrsctp_register_address(this);
  socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, &SctpAssociation::on_usrsctp_receive,
                           nullptr, 0, this);
  if (socket_ == nullptr) {
    const int err = errno;
    usrsctp_deregister_address(this);
    sctp_stack::release(this);
    throw std::runtime_error(std::string("usrsctp_socket failed: ") + std::strerror(err));
  }
  try {
    configure();
  } catch (...) {
    muted_ = true;
    usrsctp_close(socket_);
    usrsctp_deregister_address(this);
    sctp_stack::release(this);
    throw;
  }
}

SctpAssociation::~SctpAssociation() {
  *alive_ = false;
  // Destroyed without close(): whoever carried our packets may be half gone, so the ABORT
  // usrsctp sends now goes nowhere.
  muted_ = true;
  if (socket_ != nullptr) usrsctp_close(socket_);
  usrsctp_deregister_address(this);
  for (const Delivery& d : pending_) std::free(d.data);
  sctp_stack::release(this);
}

void SctpAssociation::configure() {
  auto set = [this](int level, int name, const void* value, socklen_t len, const char* what) {
    if (usrsctp_setsockopt(socket_, level, name, value, len) < 0) {
      throw std::runtime_error(std::string("usrsctp setsockopt ") + what + ": " +
                               std::strerror(errno));
    }
  };
  if (usrsctp_set_non_blocking(socket_, 1) < 0) {
    throw std::runtime_error(std::string("usrsctp non-blocking: ") + std::strerror(errno));
  }
  // Closing aborts at once: nothing lingers in usrsctp after the transport is gone.
  const linger no_linger{1, 0};
  set(SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger, "SO_LINGER");
  const int send_buffer = static_cast<int>(options_.send_buffer_size);
  set(SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer, "SO_SNDBUF");
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_FUTURE_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  set(IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset, "SCTP_ENABLE_STREAM_RESET");
  // DataChannel messages are latency-sensitive and already message-sized: no Nagle.
  const int nodelay = 1;
  set(IPPROTO_SCTP, SCTP_NODELAY, &nodelay, sizeof nodelay, "SCTP_NODELAY");
  // Partial deliveries of one message at a time: the reassembly below relies on it.
  const int interleave = 0;
  set(IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, &interleave, sizeof interleave,
      "SCTP_FRAGMENT_INTERLEAVE");
  for (uint16_t type :
       {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT,
        SCTP_SEND_FAILED_EVENT, SCTP_STREAM_RESET_EVENT, SCTP_STREAM_CHANGE_EVENT}) {
    sctp_event event{};
    event.se_assoc_id = SCTP_FUTURE_ASSOC;
    event.se_type = type;
    event.se_on = 1;
    set(IPPROTO_SCTP, SCTP_EVENT, &event, sizeof event, "SCTP_EVENT");
  }
  sctp_initmsg init{};
  init.sinit_num_ostreams = options_.os;
  init.sinit_max_instreams = options_.mis;
  init.sinit_max_attempts = options_.init_max_attempts;
  init.sinit_max_init_timeo = options_.init_max_rto_ms;
  set(IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG");
  sockaddr_conn local = conn_address(this);
  if (usrsctp_bind(socket_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    throw std::runtime_error(std::string("usrsctp_bind: ") + std::strerror(errno));
  }
}

void SctpAssociation::connect() {
  if (state_ != SctpState::fresh || socket_ == nullptr) return;
  auto alive = alive_;
  if (!set_state(SctpState::connecting, alive)) return;
  // Our own address stands for the peer too: AF_CONN packets go only through conn_output.
  sockaddr_conn remote = conn_address(this);
  if (usrsctp_connect(socket_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) < 0 &&
      errno != EINPROGRESS) {
    LOG_WARN("control", "%s: SCTP connect failed: %s", options_.name.c_str(), std::strerror(errno));
    set_state(SctpState::failed, alive);
    return;
  }
  // No path MTU discovery under DTLS: a fixed packet size that fits its datagrams.
  sctp_paddrparams params{};
  std::memcpy(&params.spp_address, &remote, sizeof remote);
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = options_.mtu;
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof params) <
      0) {
    LOG_WARN("control", "%s: SCTP path MTU %u not set: %s", options_.name.c_str(), options_.mtu,
             std::strerror(errno));
  }
  dispatch_pending();
}

void SctpAssociation::on_packet(const uint8_t* data, size_t len) {
  if (socket_ == nullptr || data == nullptr || len == 0) return;
  ++counters_.packets_received;
  usrsctp_conninput(this, data, len, 0);
  dispatch_pending();
}

SctpAssociation::SendResult SctpAssociation::send(const SctpStreamParameters& params, uint32_t ppid,
                                                  const uint8_t* data, size_t len) {
  return send_internal(params, ppid, data, len, true);
}

SctpAssociation::SendResult SctpAssociation::send_internal(const SctpStreamParameters& params,
                                                           uint32_t ppid, const uint8_t* data,
                                                           size_t len, bool user_message) {
  if (state_ != SctpState::connected || socket_ == nullptr) {
    ++counters_.send_refused;
    return SendResult::not_connected;
  }
  // SCTP has no empty user message: WebRTC sends one zero byte with the "empty" PPIDs.
  static const uint8_t kZero = 0;
  if (ppid == wire::kPpidString && len == 0) ppid = wire::kPpidStringEmpty;
  if (ppid == wire::kPpidBinary && len == 0) ppid = wire::kPpidBinaryEmpty;
  const size_t payload_len = len;
  if (ppid == wire::kPpidStringEmpty || ppid == wire::kPpidBinaryEmpty) {
    data = &kZero;
    len = 1;
  }
  if (len == 0 || data == nullptr || len > options_.max_message_size) {
    ++counters_.send_refused;
    return len == 0 || data == nullptr ? SendResult::refused : SendResult::too_large;
  }
  sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = params.stream_id;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = params.ordered ? 0 : SCTP_UNORDERED;
  if (params.max_packet_life_time_ms) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = *params.max_packet_life_time_ms;
  } else if (params.max_retransmits) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = *params.max_retransmits;
  }
  const ssize_t n =
      usrsctp_sendv(socket_, data, len, nullptr, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
  const int err = errno;
  SendResult result = SendResult::sent;
  if (n < 0) {
    if (would_block(err)) {
      ++counters_.send_buffer_full;
      result = SendResult::buffer_full;
    } else {
      ++counters_.send_refused;
      LOG_DEBUG("control", "%s: SCTP send on stream %u refused: %s", options_.name.c_str(),
                params.stream_id, std::strerror(err));
      result = SendResult::refused;
    }
  } else if (user_message) {
    ++counters_.messages_sent;
    counters_.bytes_sent += payload_len;
  }
  dispatch_pending();
  return result;
}

void SctpAssociation::reset_stream(uint16_t stream_id) {
  channels_.erase(stream_id);
  partial_reset_if(stream_id);
  if (state_ != SctpState::connected) return;  // nothing to reset: the streams die with it
  // The peer answers with a reset of its own; that one is the reply, not a new close.
  closing_.insert(stream_id);
  request_reset(stream_id);
  dispatch_pending();
}

bool SctpAssociation::request_reset(uint16_t stream_id) {
  if (socket_ == nullptr || state_ != SctpState::connected) return false;
  alignas(sctp_reset_streams) uint8_t buf[sizeof(sctp_reset_streams) + sizeof(uint16_t)] = {};
  auto* request = reinterpret_cast<sctp_reset_streams*>(buf);
  request->srs_assoc_id = SCTP_ALL_ASSOC;
  request->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  request->srs_number_streams = 1;
  request->srs_stream_list[0] = stream_id;
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buf, sizeof buf) < 0) {
    const int err = errno;
    if (would_block(err) || err == EBUSY || err == EALREADY) {
      reset_retry_.insert(stream_id);  // one request at a time: again after this one
    } else {
      LOG_DEBUG("control", "%s: SCTP reset of stream %u refused: %s", options_.name.c_str(),
                stream_id, std::strerror(err));
    }
    return false;
  }
  reset_retry_.erase(stream_id);
  ++counters_.stream_resets_sent;
  return true;
}

void SctpAssociation::close() {
  if (socket_ == nullptr) return;
  usrsctp_close(socket_);  // SO_LINGER 0: an ABORT goes out now
  socket_ = nullptr;
  for (const Delivery& d : pending_) std::free(d.data);
  pending_.clear();
  channels_.clear();
  set_state(SctpState::closed, alive_);
}

const SctpDataChannelOpen* SctpAssociation::data_channel(uint16_t stream_id) const {
  auto it = channels_.find(stream_id);
  return it == channels_.end() ? nullptr : &it->second;
}

int SctpAssociation::on_usrsctp_receive(struct socket* /*sock*/, union sctp_sockstore /*addr*/,
                                        void* data, size_t len, struct sctp_rcvinfo info, int flags,
                                        void* ulp) {
  auto* self = static_cast<SctpAssociation*>(ulp);
  if (self == nullptr || !*self->alive_) {
    std::free(data);
    return 1;
  }
  // Inside usrsctp now: only queue. dispatch_pending runs once usrsctp has returned.
  self->pending_.push_back(Delivery{data, len, info.rcv_sid, ntohl(info.rcv_ppid), flags});
  return 1;
}

void SctpAssociation::on_usrsctp_output(const uint8_t* data, size_t len) {
  if (muted_) return;
  ++counters_.packets_sent;
  listener_.on_sctp_packet(data, len);
}

void SctpAssociation::dispatch_pending() {
  if (dispatching_) return;  // the outer call goes on with what was queued meanwhile
  dispatching_ = true;
  const std::shared_ptr<bool> alive = alive_;
  while (!pending_.empty()) {
    const Delivery d = pending_.front();
    pending_.pop_front();
    const bool still_here = handle(d, alive);
    std::free(d.data);
    if (!still_here) return;  // the listener destroyed us
  }
  if (!reset_retry_.empty() && state_ == SctpState::connected) {
    const std::set<uint16_t> retry = reset_retry_;
    for (uint16_t id : retry) {
      if (!request_reset(id)) break;
    }
  }
  dispatching_ = false;
}

bool SctpAssociation::handle(const Delivery& d, const std::shared_ptr<bool>& alive) {
  if (d.data == nullptr) {
    // usrsctp's end of the socket: the association is gone.
    return set_state(SctpState::closed, alive);
  }
  if ((d.flags & MSG_NOTIFICATION) != 0) {
    return handle_notification(static_cast<const uint8_t*>(d.data), d.len, alive);
  }
  return handle_data(d, alive);
}

void SctpAssociation::partial_reset_if(uint16_t stream_id) {
  if (partial_active_ && partial_stream_ == stream_id) {
    partial_active_ = false;
    discarding_ = false;
    partial_.clear();
  }
}

bool SctpAssociation::handle_data(const Delivery& d, const std::shared_ptr<bool>& alive) {
  const auto* bytes = static_cast<const uint8_t*>(d.data);
  const bool end = (d.flags & MSG_EOR) != 0;
  if (!partial_active_ && end) {
    // The usual case: the whole message in one piece, handed on from usrsctp's buffer.
    if (d.len > options_.max_message_size) {
      ++counters_.oversize_dropped;
      return true;
    }
    return handle_message(d.stream_id, d.ppid, bytes, d.len, alive);
  }
  if (partial_active_ && (d.stream_id != partial_stream_ || d.ppid != partial_ppid_)) {
    // Cannot happen with fragment interleave level 0; if it does, the unfinished message
    // is lost, not glued to another one.
    LOG_DEBUG("control", "%s: SCTP partial message on stream %u abandoned", options_.name.c_str(),
              partial_stream_);
    partial_active_ = false;
  }
  if (!partial_active_) {
    partial_active_ = true;
    discarding_ = false;
    partial_.clear();
    partial_stream_ = d.stream_id;
    partial_ppid_ = d.ppid;
  }
  if (!discarding_) {
    if (partial_.size() + d.len > options_.max_message_size) {
      discarding_ = true;  // keep nothing more of it; the rest is skipped up to its end
      std::vector<uint8_t>().swap(partial_);
    } else {
      partial_.insert(partial_.end(), bytes, bytes + d.len);
    }
  }
  if (!end) return true;
  partial_active_ = false;
  if (discarding_) {
    discarding_ = false;
    ++counters_.oversize_dropped;
    return true;
  }
  ++counters_.messages_reassembled;
  std::vector<uint8_t> message;
  message.swap(partial_);
  return handle_message(partial_stream_, partial_ppid_, message.data(), message.size(), alive);
}

bool SctpAssociation::handle_message(uint16_t stream_id, uint32_t ppid, const uint8_t* data,
                                     size_t len, const std::shared_ptr<bool>& alive) {
  if (ppid == wire::kPpidDcep) return handle_dcep(stream_id, data, len, alive);
  if (ppid == wire::kPpidStringEmpty || ppid == wire::kPpidBinaryEmpty) len = 0;
  ++counters_.messages_received;
  counters_.bytes_received += len;
  listener_.on_sctp_message(SctpMessage{stream_id, ppid, data, len});
  return *alive;
}

bool SctpAssociation::handle_dcep(uint16_t stream_id, const uint8_t* data, size_t len,
                                  const std::shared_ptr<bool>& alive) {
  if (wire::is_dcep_ack(data, len)) {
    ++counters_.dcep_acks_received;  // we open no channels in-band; counted, not delivered
    return true;
  }
  wire::DcepOpen open;
  if (!wire::parse_dcep_open(data, len, open)) {
    ++counters_.dcep_malformed;
    LOG_DEBUG("control", "%s: SCTP stream %u: malformed DCEP message (%zu bytes) dropped",
              options_.name.c_str(), stream_id, len);
    return true;
  }
  ++counters_.dcep_opens;
  SctpDataChannelOpen channel;
  channel.params.stream_id = stream_id;
  channel.params.ordered = open.ordered();
  if (open.limited_retransmits()) channel.params.max_retransmits = open.reliability_parameter;
  if (open.limited_lifetime()) channel.params.max_packet_life_time_ms = open.reliability_parameter;
  channel.label.assign(open.label);
  channel.protocol.assign(open.protocol);
  channel.priority = open.priority;
  // RFC 8832 section 6: the ACK goes on the same stream, ordered and reliable.
  uint8_t ack[1];
  wire::write_dcep_ack(ack, sizeof ack);
  SctpStreamParameters ack_params;
  ack_params.stream_id = stream_id;
  send_internal(ack_params, wire::kPpidDcep, ack, sizeof ack, false);
  const SctpDataChannelOpen& stored = channels_[stream_id] = std::move(channel);
  LOG_INFO("control", "%s: SCTP stream %u: DataChannel \"%s\" opened by the peer (DCEP)",
           options_.name.c_str(), stream_id, stored.label.c_str());
  const SctpDataChannelOpen copy = stored;  // the listener may reset the stream meanwhile
  listener_.on_sctp_data_channel_open(copy);
  return *alive;
}

bool SctpAssociation::handle_notification(const uint8_t* data, size_t len,
                                          const std::shared_ptr<bool>& alive) {
  if (len < sizeof(sctp_notification::sn_header)) return true;
  sctp_notification::sctp_tlv header;
  std::memcpy(&header, data, sizeof header);
  if (header.sn_length > len) return true;
  switch (header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (len < sizeof(sctp_assoc_change)) return true;
      sctp_assoc_change change;
      std::memcpy(&change, data, sizeof change);
      switch (change.sac_state) {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
          LOG_INFO("control", "%s: SCTP association up: %u outgoing, %u incoming streams",
                   options_.name.c_str(), change.sac_outbound_streams, change.sac_inbound_streams);
          return set_state(SctpState::connected, alive);
        case SCTP_COMM_LOST:
        case SCTP_CANT_STR_ASSOC:
          LOG_INFO("control", "%s: SCTP association %s", options_.name.c_str(),
                   change.sac_state == SCTP_COMM_LOST ? "lost" : "could not start");
          return set_state(SctpState::failed, alive);
        case SCTP_SHUTDOWN_COMP:
          return set_state(SctpState::closed, alive);
        default:
          return true;
      }
    }
    case SCTP_SHUTDOWN_EVENT:
      return set_state(SctpState::closed, alive);
    case SCTP_STREAM_RESET_EVENT:
      return handle_stream_reset(data, len, alive);
    case SCTP_SEND_FAILED_EVENT:
      ++counters_.messages_abandoned;
      return true;
    case SCTP_REMOTE_ERROR:
      LOG_DEBUG("control", "%s: SCTP remote error reported by the peer", options_.name.c_str());
      return true;
    default:
      return true;
  }
}

bool SctpAssociation::handle_stream_reset(const uint8_t* data, size_t len,
                                          const std::shared_ptr<bool>& alive) {
  if (len < sizeof(sctp_stream_reset_event)) return true;
  sctp_stream_reset_event event;
  std::memcpy(&event, data, sizeof event);
  const size_t event_len = std::min<size_t>(event.strreset_length, len);
  if (event_len < sizeof(sctp_stream_reset_event)) return true;
  const size_t list_bytes = event_len - sizeof(sctp_stream_reset_event);
  std::vector<uint16_t> streams(list_bytes / sizeof(uint16_t));
  if (!streams.empty()) {
    std::memcpy(streams.data(), data + sizeof(sctp_stream_reset_event),
                streams.size() * sizeof(uint16_t));
  }
  const uint16_t flags = event.strreset_flags;
  if ((flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0) {
    for (uint16_t id : streams) closing_.erase(id);
    LOG_DEBUG("control", "%s: SCTP stream reset %s by the peer", options_.name.c_str(),
              (flags & SCTP_STREAM_RESET_DENIED) != 0 ? "denied" : "failed");
    return true;
  }
  if ((flags & SCTP_STREAM_RESET_INCOMING_SSN) == 0) return true;  // our reset completed
  for (uint16_t id : streams) {
    ++counters_.stream_resets_received;
    partial_reset_if(id);
    if (closing_.erase(id) != 0) continue;  // the peer's answer to our close
    // The peer closed the channel: close ours too (RFC 8831 section 6.7).
    channels_.erase(id);
    request_reset(id);
    listener_.on_sctp_stream_closed(id);
    if (!*alive) return false;
  }
  return true;
}

bool SctpAssociation::set_state(SctpState state, const std::shared_ptr<bool>& alive) {
  if (state_ == state) return *alive;
  state_ = state;
  listener_.on_sctp_state(state);
  return *alive;
}

}  // namespace weir::control
