#include "dataplane/forwarding.h"

#include <algorithm>
#include <cstring>

#include "base/clock.h"
#include "base/log.h"
#include "wire/rtcp_compound.h"
#include "wire/rtcp_full_intra_request.h"
#include "wire/rtcp_picture_loss_indication.h"
#include "wire/rtcp_receiver_estimated_max_bitrate.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_sender_report.h"
#include "wire/rtcp_transport_layer_cc.h"
#include "wire/rtp_packet.h"

namespace weir::dp {

// ---------------------------------------------------------------------------------------
// Continuity

void RtpContinuity::resync(uint16_t in_seq, uint32_t in_ts, uint64_t now_ns, uint32_t clock_rate) {
  if (!started) {
    // A new consumer starts where the producer is: nothing to be continuous with yet.
    seq_offset = 0;
    ts_offset = 0;
    started = true;
    return;
  }
  first_in_seq = in_seq;
  guard_late = true;
  const auto next_seq = static_cast<uint16_t>(last_seq + 1);
  // Advance the timestamp by the wall time that passed since the last packet sent (at
  // least one tick), so a receiver's jitter buffer sees time move forward, not a jump.
  uint64_t elapsed_ticks = (now_ns - last_sent_ns) * clock_rate / 1000000000ull;
  if (elapsed_ticks == 0) elapsed_ticks = 1;
  const auto next_ts = static_cast<uint32_t>(last_ts + elapsed_ticks);
  seq_offset = static_cast<uint16_t>(in_seq - next_seq);
  ts_offset = in_ts - next_ts;
}

void RtpContinuity::skip_to(uint16_t in_seq) {
  seq_offset = static_cast<uint16_t>(in_seq - static_cast<uint16_t>(last_seq + 1));
  first_in_seq = in_seq;
  guard_late = true;
}

void RtpContinuity::sent(uint16_t out_seq, uint32_t out_ts, uint64_t now_ns) {
  if (last_sent_ns == 0 || static_cast<int16_t>(out_seq - last_seq) > 0) {
    last_seq = out_seq;
    last_ts = out_ts;
  }
  last_sent_ns = now_ns;
}

// ---------------------------------------------------------------------------------------
// Tables and commands

ForwardingTables::ForwardingTables(PacketPool& pool, UdpEngine& engine, WorkerCounters& counters,
                                   SpscRing<ControlPacket>* control_up,
                                   const ForwardingOptions& options)
    : pool_(pool),
      engine_(engine),
      worker_counters_(counters),
      tx_(&engine),
      control_up_(control_up),
      options_(options) {}

ForwardingTables::~ForwardingTables() {
  for (auto& [id, t] : transports_) {
    if (t->rtp_socket >= 0 && !t->shared_socket)
      engine_.remove_socket(static_cast<uint32_t>(t->rtp_socket));
    if (t->rtcp_socket >= 0) engine_.remove_socket(static_cast<uint32_t>(t->rtcp_socket));
  }
}

void ForwardingTables::apply(Command& command) {
  std::visit(
      [this](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, AddPlainTransport>)
          on_add_transport(c);
        else if constexpr (std::is_same_v<T, AddWebRtcTransport>)
          on_add_webrtc_transport(c);
        else if constexpr (std::is_same_v<T, SetIceTuple>)
          on_set_ice_tuple(c);
        else if constexpr (std::is_same_v<T, ClearIceTuples>)
          on_clear_ice_tuples(c);
        else if constexpr (std::is_same_v<T, RequestKeyFrame>)
          on_request_keyframe(c);
        else if constexpr (std::is_same_v<T, ConnectTransport>)
          on_connect(c);
        else if constexpr (std::is_same_v<T, SetTransportSrtp>)
          on_set_srtp(c);
        else if constexpr (std::is_same_v<T, RemoveTransport>)
          on_remove_transport(c);
        else if constexpr (std::is_same_v<T, AddProducer>)
          on_add_producer(c);
        else if constexpr (std::is_same_v<T, SetProducerPaused>)
          on_producer_paused(c);
        else if constexpr (std::is_same_v<T, RemoveProducer>)
          on_remove_producer(c);
        else if constexpr (std::is_same_v<T, AddConsumer>)
          on_add_consumer(c);
        else if constexpr (std::is_same_v<T, SetConsumerPaused>)
          on_consumer_paused(c);
        else if constexpr (std::is_same_v<T, RemoveConsumer>)
          on_remove_consumer(c);
        else if constexpr (std::is_same_v<T, SendControlPacket>)
          send_control(c.packet);
        else if constexpr (std::is_same_v<T, SetConsumerPreferredLayers>)
          on_set_preferred_layers(c);
        else if constexpr (std::is_same_v<T, RequestConsumerKeyFrame>)
          on_request_consumer_keyframe(c);
        else if constexpr (std::is_same_v<T, AddPipedProducer>)
          on_add_piped_producer(c);
        else if constexpr (std::is_same_v<T, AddProducerPipe>)
          on_add_producer_pipe(c);
        else if constexpr (std::is_same_v<T, RemoveProducerPipe>)
          on_remove_producer_pipe(c);
      },
      command);
}

void ForwardingTables::bind_socket(int socket, TransportState* t, bool rtcp) {
  if (socket < 0) return;
  const auto i = static_cast<size_t>(socket);
  if (sockets_.size() <= i) sockets_.resize(i + 1);
  sockets_[i] = SocketBinding{t, rtcp};
}

void ForwardingTables::on_add_transport(AddPlainTransport& c) {
  if (transports_.count(c.id) != 0) {
    LOG_ERROR("worker", "transport %u added twice; ignoring the second", c.id);
    return;
  }
  auto t = std::make_unique<TransportState>();
  t->id = c.id;
  t->comedia = c.comedia;
  t->srtp_required = c.srtp;
  t->remote_rtp = c.remote_rtp;
  t->remote_rtcp = c.remote_rtcp;
  t->counters = c.counters;
  std::string error;
  t->rtp_socket = engine_.add_socket(c.rtp, &error);
  if (t->rtp_socket < 0) {
    LOG_ERROR("worker", "transport %u: cannot receive on its RTP socket: %s", c.id, error.c_str());
  }
  if (c.rtcp.valid()) {
    t->rtcp_socket = engine_.add_socket(c.rtcp, &error);
    if (t->rtcp_socket < 0) {
      LOG_ERROR("worker", "transport %u: cannot receive on its RTCP socket: %s", c.id,
                error.c_str());
    }
  }
  bind_socket(t->rtp_socket, t.get(), false);
  bind_socket(t->rtcp_socket, t.get(), true);
  transports_.emplace(c.id, std::move(t));
}

void ForwardingTables::on_add_webrtc_transport(AddWebRtcTransport& c) {
  if (transports_.count(c.id) != 0) {
    LOG_ERROR("worker", "transport %u added twice; ignoring the second", c.id);
    return;
  }
  auto t = std::make_unique<TransportState>();
  t->id = c.id;
  t->webrtc = true;
  t->srtp_required = true;  // DTLS-SRTP: nothing flows before the keys
  t->counters = c.counters;
  if (c.socket.valid()) {
    std::string error;
    t->rtp_socket = engine_.add_socket(c.socket, &error);
    if (t->rtp_socket < 0) {
      LOG_ERROR("worker", "transport %u: cannot receive on its socket: %s", c.id, error.c_str());
    }
    bind_socket(t->rtp_socket, t.get(), false);
  } else {
    if (options_.shared_socket < 0) {
      LOG_ERROR("worker", "transport %u wants the shared port, which this worker has not", c.id);
    }
    t->rtp_socket = options_.shared_socket;
    t->shared_socket = true;
  }
  transports_.emplace(c.id, std::move(t));
}

void ForwardingTables::on_set_ice_tuple(const SetIceTuple& c) {
  auto it = transports_.find(c.id);
  if (it == transports_.end() || !it->second->webrtc) return;
  TransportState& t = *it->second;
  if (!t.is_ice_tuple(c.tuple)) {
    if (t.ice_tuple_count == TransportState::kMaxIceTuples) {
      // Forget the oldest tuple that is not the selected one.
      size_t victim = 0;
      while (victim + 1 < TransportState::kMaxIceTuples && t.ice_tuples[victim] == t.remote_rtp)
        ++victim;
      if (t.shared_socket) shared_tuples_.erase(t.ice_tuples[victim]);
      for (size_t i = victim; i + 1 < TransportState::kMaxIceTuples; ++i)
        t.ice_tuples[i] = t.ice_tuples[i + 1];
      --t.ice_tuple_count;
    }
    t.ice_tuples[t.ice_tuple_count++] = c.tuple;
    if (t.shared_socket) {
      auto [slot, inserted] = shared_tuples_.emplace(c.tuple, &t);
      if (!inserted && slot->second != &t) {
        // The same remote endpoint passed a check for another transport: it moved over.
        slot->second->remote_rtp =
            slot->second->remote_rtp == c.tuple ? SocketAddress{} : slot->second->remote_rtp;
        slot->second = &t;
      }
    }
  }
  if (c.selected) {
    t.remote_rtp = c.tuple;
    t.remote_rtcp = c.tuple;  // WebRTC always multiplexes RTCP
  }
}

void ForwardingTables::on_clear_ice_tuples(const ClearIceTuples& c) {
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  TransportState& t = *it->second;
  if (t.shared_socket) {
    for (uint8_t i = 0; i < t.ice_tuple_count; ++i) {
      auto found = shared_tuples_.find(t.ice_tuples[i]);
      if (found != shared_tuples_.end() && found->second == &t) shared_tuples_.erase(found);
    }
  }
  t.ice_tuple_count = 0;
  t.remote_rtp = SocketAddress{};
  t.remote_rtcp = SocketAddress{};
}

void ForwardingTables::on_request_keyframe(const RequestKeyFrame& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end()) return;
  ProducerState& p = *it->second;
  const uint64_t now = now_ns();
  for (uint8_t i = 0; i < p.stream_count; ++i) request_keyframe(p, i, now);
  tx_.flush();
}

void ForwardingTables::on_connect(const ConnectTransport& c) {
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  TransportState& t = *it->second;
  t.remote_rtp = c.remote_rtp;
  t.remote_rtcp = c.remote_rtcp;
}

void ForwardingTables::on_set_srtp(SetTransportSrtp& c) {
  // Ownership of the sessions passes to us whether or not the transport still exists.
  std::unique_ptr<SrtpSession> in(c.inbound), out(c.outbound);
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  it->second->srtp_in = std::move(in);
  it->second->srtp_out = std::move(out);
  size_srtp_streams(*it->second);
}

// Every SSRC a transport's SRTP sessions will meet, so that none is forgotten (and its
// replay state lost) and no table grows on the packet path. Inbound: its producers'
// streams and RTX, plus RTCP from the peer's receivers. Outbound: its consumers' media and
// RTX, plus the fixed sender SSRC of our own RTCP.
void ForwardingTables::size_srtp_streams(TransportState& t) {
  constexpr size_t kRtcpOnlySsrcs = 2;
  if (t.srtp_in) t.srtp_in->reserve_streams(t.routes.capacity() + kRtcpOnlySsrcs);
  if (t.srtp_out) t.srtp_out->reserve_streams(2 * t.consumers.size() + kRtcpOnlySsrcs);
}

void ForwardingTables::detach_consumer(ConsumerState* c) {
  if (c->producer != nullptr) {
    auto& v = c->producer->consumers;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
    c->producer = nullptr;
  }
  if (c->transport != nullptr) {
    auto& v = c->transport->consumers;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
  }
}

void ForwardingTables::detach_producer(ProducerState* p) {
  for (ConsumerState* c : p->consumers) c->producer = nullptr;
  p->consumers.clear();
  if (p->transport != nullptr) {
    TransportState& t = *p->transport;
    t.producers.erase(std::remove(t.producers.begin(), t.producers.end(), p), t.producers.end());
    std::erase_if(t.routes, [p](const StreamRoute& r) { return r.producer == p; });
    t.unlearned_streams -= p->unlearned_streams;
    p->transport = nullptr;
  }
}

void ForwardingTables::on_remove_transport(const RemoveTransport& c) {
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  // What the commands before this one queued on its socket (a DTLS close_notify) leaves
  // before the socket is closed.
  tx_.flush();
  TransportState* t = it->second.get();
  // Whatever still lives on the transport goes with it: the control side frees the
  // counters once this command is acknowledged.
  for (auto ci = consumers_.begin(); ci != consumers_.end();) {
    if (ci->second->transport == t) {
      detach_consumer(ci->second.get());
      ci = consumers_.erase(ci);
    } else {
      ++ci;
    }
  }
  for (auto pi = producers_.begin(); pi != producers_.end();) {
    if (pi->second->transport == t) {
      detach_producer(pi->second.get());
      pi = producers_.erase(pi);
    } else {
      ++pi;
    }
  }
  on_clear_ice_tuples(ClearIceTuples{c.id});
  for (int s : {t->rtp_socket, t->rtcp_socket}) {
    if (s < 0 || t->shared_socket) continue;
    engine_.remove_socket(static_cast<uint32_t>(s));
    sockets_[static_cast<size_t>(s)] = SocketBinding{};
  }
  transports_.erase(it);
}

void ForwardingTables::map_through_producer(ConsumerState& c) {
  c.pt_from_producer.fill(kNoMapping);
  c.ext_from_producer.fill(0);
  c.two_byte_extensions = false;
  if (c.producer == nullptr) return;
  for (size_t pt = 0; pt < c.pt_from_producer.size(); ++pt) {
    const uint8_t router_pt = c.producer->pt_map[pt];
    if (router_pt != kNoMapping && router_pt < 128)
      c.pt_from_producer[pt] = c.router_pt_map[router_pt];
  }
  for (size_t id = 1; id < c.ext_from_producer.size(); ++id) {
    const uint8_t router_id = c.producer->ext_map[id];
    if (router_id == 0) continue;
    const uint8_t out = c.router_ext_map[router_id];
    c.ext_from_producer[id] = out;
    if (out > 14) c.two_byte_extensions = true;
  }
  if (c.mid_ext_id > 14 || c.transport_cc_ext_id > 14) c.two_byte_extensions = true;
}

void ForwardingTables::on_add_producer(const AddProducer& c) {
  auto t = transports_.find(c.transport);
  if (t == transports_.end() || producers_.count(c.id) != 0) {
    LOG_ERROR("worker", "producer %u refers to unknown transport %u or exists; ignored", c.id,
              c.transport);
    return;
  }
  auto p = std::make_unique<ProducerState>();
  p->id = c.id;
  p->transport = t->second.get();
  p->clock_rate = c.clock_rate;
  p->codec = c.codec;
  p->paused = c.paused;
  p->keyframe_request = c.keyframe_request;
  p->nack = c.nack;
  p->remb = c.remb;
  p->rtx_apt = c.rtx_apt;
  p->pt_map = c.pt_map;
  p->ext_map = c.ext_map;
  p->transport_cc_ext_id = c.twcc_ext_id;
  p->audio_level_ext_id = c.audio_level_ext_id;
  p->counters = c.counters;
  TransportState& transport = *t->second;
  if (c.remb && !transport.incoming) {
    transport.incoming = std::make_unique<ReceiveSideBandwidthEstimator>();
  }
  if (c.twcc_ext_id != 0 && !transport.transport_cc) {
    transport.transport_cc = std::make_unique<TransportCcReceiver>();
  }
  add_producer_streams(transport, *p, c);
  t->second->producers.push_back(p.get());
  size_srtp_streams(transport);
  producers_.emplace(c.id, std::move(p));
}

void ForwardingTables::on_producer_paused(const SetProducerPaused& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end()) return;
  ProducerState& p = *it->second;
  if (p.paused && !c.paused) {
    for (ConsumerState* consumer : p.consumers) {
      consumer->sync_required = true;
      // Simulcast: resume on a key frame of whichever layer is the target by then.
      if (p.simulcast()) consumer->current_layer = kNoLayer;
    }
  }
  p.paused = c.paused;
}

void ForwardingTables::on_remove_producer(const RemoveProducer& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end()) return;
  detach_producer(it->second.get());
  std::erase(piped_producers_, it->second.get());
  producers_.erase(it);
}

void ForwardingTables::on_add_consumer(const AddConsumer& c) {
  auto p = producers_.find(c.producer);
  auto t = transports_.find(c.transport);
  if (p == producers_.end() || t == transports_.end() || consumers_.count(c.id) != 0) {
    LOG_ERROR("worker", "consumer %u refers to unknown producer %u or transport %u; ignored", c.id,
              c.producer, c.transport);
    return;
  }
  auto consumer = std::make_unique<ConsumerState>();
  consumer->id = c.id;
  consumer->producer = p->second.get();
  consumer->transport = t->second.get();
  consumer->ssrc = c.ssrc;
  consumer->clock_rate = c.clock_rate;
  consumer->paused = c.paused;
  consumer->keyframe_sync = c.keyframe_sync;
  consumer->router_pt_map = c.pt_map;
  consumer->router_ext_map = c.ext_map;
  consumer->mid = c.mid;
  consumer->mid_len = c.mid_len <= c.mid.size() ? c.mid_len : 0;
  consumer->mid_ext_id = consumer->mid_len > 0 ? c.mid_ext_id : 0;
  consumer->transport_cc_ext_id = c.twcc_ext_id;
  consumer->nack = c.nack;
  consumer->rtx_ssrc = c.rtx_ssrc;
  consumer->rtx_payload_type = c.rtx_payload_type;
  consumer->cname = c.cname;
  consumer->cname_len = c.cname_len <= c.cname.size() ? c.cname_len : 0;
  consumer->counters = c.counters;
  consumer->preferred_spatial_layer = c.preferred_spatial_layer;
  consumer->preferred_temporal_layer = c.preferred_temporal_layer;
  if (c.twcc_ext_id != 0 && !t->second->bandwidth) {
    t->second->bandwidth = std::make_unique<SendSideBandwidthEstimator>();
    t->second->counters->available_bitrate_bps.set(t->second->bandwidth->available_bitrate_bps());
  }
  map_through_producer(*consumer);
  p->second->consumers.push_back(consumer.get());
  t->second->consumers.push_back(consumer.get());
  size_srtp_streams(*t->second);
  ConsumerState& added = *consumer;
  consumers_.emplace(c.id, std::move(consumer));
  if (added.producer->simulcast()) {
    added.current_layer = kNoLayer;
    retarget(added, now_ns());
    tx_.flush();
  }
}

void ForwardingTables::on_consumer_paused(const SetConsumerPaused& c) {
  auto it = consumers_.find(c.id);
  if (it == consumers_.end()) return;
  ConsumerState& consumer = *it->second;
  const bool resumed = consumer.paused && !c.paused;
  consumer.paused = c.paused;
  if (!resumed) return;
  consumer.sync_required = true;
  if (consumer.producer != nullptr && consumer.producer->simulcast()) {
    // Resumes on a key frame of the target layer, whatever it forwarded before.
    consumer.current_layer = kNoLayer;
    retarget(consumer, now_ns());
    tx_.flush();
  }
}

void ForwardingTables::on_set_preferred_layers(const SetConsumerPreferredLayers& c) {
  auto it = consumers_.find(c.id);
  if (it == consumers_.end()) return;
  ConsumerState& consumer = *it->second;
  consumer.preferred_spatial_layer = c.spatial_layer;
  consumer.preferred_temporal_layer = c.temporal_layer;
  if (consumer.producer == nullptr || !consumer.producer->simulcast()) return;
  retarget(consumer, now_ns());
  tx_.flush();
}

uint8_t ForwardingTables::keyframe_stream(const ConsumerState& c) {
  if (c.target_layer != c.current_layer || c.current_layer == kNoLayer) return c.target_layer;
  return c.current_layer;
}

void ForwardingTables::retarget(ConsumerState& c, uint64_t now_ns) {
  ProducerState& p = *c.producer;
  c.target_layer = choose_spatial_layer(p.active_layers, p.stream_count, c.preferred_spatial_layer);
  if (c.target_layer == c.current_layer || c.paused || p.paused) return;
  // Asked again every interval until the key frame comes; the ticks in between are not
  // requests, so they are not counted as throttled ones either.
  const ProducerStream& s = p.streams[c.target_layer];
  if (s.last_keyframe_request_ns == 0 ||
      now_ns - s.last_keyframe_request_ns >= options_.keyframe_request_interval_ns) {
    request_keyframe(p, c.target_layer, now_ns);
  }
}

void ForwardingTables::on_request_consumer_keyframe(const RequestConsumerKeyFrame& c) {
  auto it = consumers_.find(c.id);
  if (it == consumers_.end() || it->second->producer == nullptr) return;
  request_keyframe(*it->second->producer, keyframe_stream(*it->second), now_ns());
  tx_.flush();
}

void ForwardingTables::on_remove_consumer(const RemoveConsumer& c) {
  auto it = consumers_.find(c.id);
  if (it == consumers_.end()) return;
  detach_consumer(it->second.get());
  consumers_.erase(it);
}

// ---------------------------------------------------------------------------------------
// The packet path

void ForwardingTables::process_burst(RxPacket* packets, size_t count, uint64_t now_ns) {
  for (size_t i = 0; i < count; ++i) {
    if (i + 1 < count) __builtin_prefetch(packets[i + 1].buf->data());
    on_datagram(packets[i], now_ns);
  }
  tx_.flush();
}

TransportState* ForwardingTables::transport_for_shared(const RxPacket& rx) {
  auto it = shared_tuples_.find(rx.from);
  if (it != shared_tuples_.end()) return it->second;
  // A new 5-tuple: only an ICE check can introduce it, and only the control thread can
  // tell (by the username) which transport it is for.
  if (wire::classify_packet(rx.buf->data(), rx.buf->len) == wire::PacketClass::stun) {
    to_control(nullptr, rx);
  } else {
    worker_counters_.dropped.add(DropReason::unknown_remote);
  }
  return nullptr;
}

void ForwardingTables::to_control(TransportState* t, const RxPacket& rx) {
  if (control_up_ == nullptr || rx.buf->len > ControlPacket::kMaxSize) {
    (t ? t->counters->dropped : worker_counters_.dropped).add(DropReason::control_unhandled);
    return;
  }
  ControlPacket packet;
  packet.transport = t ? t->id : 0;
  packet.remote = rx.from;
  packet.len = rx.buf->len;
  std::memcpy(packet.data, rx.buf->data(), rx.buf->len);
  if (!control_up_->push(std::move(packet))) {
    // The control thread is behind: ICE and DTLS retransmit, media must not wait.
    (t ? t->counters->dropped : worker_counters_.dropped).add(DropReason::control_queue_full);
    return;
  }
  if (t) t->counters->control_packets_in.add();
  control_pending_ = true;
}

void ForwardingTables::on_datagram(RxPacket& rx, uint64_t now_ns) {
  worker_counters_.rx_packets.add();
  worker_counters_.rx_bytes.add(rx.buf->len);
  TransportState* found = nullptr;
  bool on_rtcp_socket = false;
  if (static_cast<int>(rx.socket) == options_.shared_socket) {
    found = transport_for_shared(rx);
    if (found == nullptr) return;
  } else if (rx.socket < sockets_.size() && sockets_[rx.socket].transport != nullptr) {
    found = sockets_[rx.socket].transport;
    on_rtcp_socket = sockets_[rx.socket].rtcp;
  } else {
    worker_counters_.dropped.add(DropReason::unknown_remote);
    return;
  }
  TransportState& t = *found;
  t.counters->bytes_in.add(rx.buf->len);
  const wire::PacketClass cls = wire::classify_packet(rx.buf->data(), rx.buf->len);
  if (t.webrtc) {
    // ICE checks may come from anywhere (that is how tuples are found); everything else
    // only from a tuple a check succeeded from.
    if (cls == wire::PacketClass::stun) {
      to_control(&t, rx);
      return;
    }
    if (!t.is_ice_tuple(rx.from)) {
      t.counters->dropped.add(DropReason::unknown_remote);
      return;
    }
  }
  switch (cls) {
    case wire::PacketClass::rtp:
      if (on_rtcp_socket) {
        t.counters->dropped.add(DropReason::malformed_rtcp);
        return;
      }
      on_rtp(t, rx, now_ns);
      return;
    case wire::PacketClass::rtcp:
      on_rtcp(t, rx, on_rtcp_socket, now_ns);
      return;
    case wire::PacketClass::stun:
      // A plain transport speaks no ICE.
      t.counters->dropped.add(DropReason::control_unhandled);
      return;
    case wire::PacketClass::dtls:
      if (t.webrtc) {
        to_control(&t, rx);
      } else {
        t.counters->dropped.add(DropReason::control_unhandled);
      }
      return;
    case wire::PacketClass::unknown:
      t.counters->dropped.add(DropReason::not_media);
      return;
  }
}

void ForwardingTables::send_control(const ControlPacket& packet) {
  auto it = transports_.find(packet.transport);
  if (it == transports_.end()) return;  // closed meanwhile
  TransportState& t = *it->second;
  if (t.rtp_socket < 0 || !packet.remote.valid() || packet.len == 0) return;
  PacketBuffer* out = pool_.alloc();
  if (out == nullptr || packet.len > out->room()) {
    if (out != nullptr) pool_.release(out);
    t.counters->dropped.add(DropReason::no_buffer);
    return;
  }
  std::memcpy(out->data(), packet.data, packet.len);
  out->len = packet.len;
  t.counters->control_packets_out.add();
  t.counters->bytes_out.add(out->len);
  worker_counters_.tx_packets.add();
  worker_counters_.tx_bytes.add(out->len);
  tx_.push(TxPacket{out, static_cast<uint32_t>(t.rtp_socket), packet.remote});
}

namespace {

DropReason srtp_drop_reason(SrtpStatus s) {
  switch (s) {
    case SrtpStatus::auth_failed:
      return DropReason::srtp_auth_failed;
    case SrtpStatus::replay:
      return DropReason::srtp_replay;
    default:
      return DropReason::srtp_other;
  }
}

}  // namespace

bool ForwardingTables::unprotect(TransportState& t, PacketBuffer* buf, bool rtcp) {
  if (!t.srtp_required) return true;
  if (!t.srtp_in) {  // keys not exchanged yet
    t.counters->dropped.add(DropReason::srtp_other);
    return false;
  }
  size_t len = buf->len;
  const SrtpStatus s = rtcp ? t.srtp_in->unprotect_rtcp(buf->data(), len)
                            : t.srtp_in->unprotect_rtp(buf->data(), len);
  if (s != SrtpStatus::ok) {
    t.counters->dropped.add(srtp_drop_reason(s));
    return false;
  }
  buf->len = static_cast<uint16_t>(len);
  return true;
}

void ForwardingTables::on_rtp(TransportState& t, RxPacket& rx, uint64_t now_ns) {
  PacketBuffer* buf = rx.buf;
  // The remote is checked before decryption: a packet from a stranger costs no crypto.
  // (A WebRTC transport's packets were checked against its ICE tuples already.)
  if (!t.webrtc && t.remote_rtp.valid() && rx.from != t.remote_rtp) {
    t.counters->dropped.add(DropReason::unknown_remote);
    return;
  }
  if (!unprotect(t, buf, false)) return;
  wire::RtpPacketView rtp;
  if (!wire::RtpPacketView::parse(buf->data(), buf->len, rtp)) {
    t.counters->dropped.add(DropReason::malformed_rtp);
    return;
  }
  t.counters->rtp_packets_in.add();
  if (!t.remote_rtp.valid() && !t.webrtc) {
    if (!t.comedia) {
      t.counters->dropped.add(DropReason::no_remote);
      return;
    }
    t.remote_rtp = rx.from;  // comedia: the first valid packet names the remote
    LOG_INFO("worker", "transport %u: learned remote RTP address %s (comedia)", t.id,
             rx.from.to_string().c_str());
  }

  const StreamRoute* route = find_route(t, rtp.ssrc());
  if (route == nullptr && t.unlearned_streams > 0) route = learn_route(t, rtp);
  if (route == nullptr) {
    t.counters->dropped.add(DropReason::unknown_ssrc);
    return;
  }
  ProducerState* producer = route->producer;
  const uint8_t stream_index = route->stream;
  ProducerStream& stream = producer->streams[stream_index];
  const bool repaired = route->rtx;
  // Padding-only probes repair nothing.
  if (repaired && !unwrap_rtx(*producer, stream, rx, rtp)) return;
  ProducerCounters& pc = *producer->counters;
  if (producer->pt_map[rtp.payload_type()] == kNoMapping) {
    pc.dropped.add(DropReason::unknown_payload_type);
    return;
  }
  pc.packets.add();
  pc.bytes.add(buf->len);
  pc.encoding_packets[stream_index].add();
  if (repaired) pc.retransmitted.add();
  if (t.incoming) t.incoming->on_packet(buf->len);
  stream.last_packet_ns = now_ns;
  const uint16_t gap = stream.stats.on_packet(rtp.sequence_number(), rtp.timestamp(), now_ns);
  if (producer->nack) stream.nack_generator.on_packet(rtp.sequence_number(), gap, now_ns);
  if (!producer->simulcast()) {  // a simulcast producer's sums are the tick's
    pc.lost.set(stream.stats.sequence().lost());
    pc.highest_seq.set(stream.stats.sequence().extended_max());
  }
  if (producer->audio_level_ext_id != 0) {
    uint8_t level = 0;
    if (wire::rtp_audio_level(rtp, producer->audio_level_ext_id, level)) {
      pc.audio_level_sum.add(level);
      pc.audio_level_packets.add();
    }
  }
  if (producer->transport_cc_ext_id != 0 && t.transport_cc) {
    const uint8_t* value = nullptr;
    size_t value_len = 0;
    if (rtp.find_extension(producer->transport_cc_ext_id, value, value_len) && value_len == 2) {
      t.transport_cc->on_packet(wire::load_be16(value), now_ns);
    }
  }
  // Kept by reference for the consumers' NACKs: the decrypted packet as it arrived.
  if (stream.history) stream.history->store(rtp.sequence_number(), buf, now_ns);
  const bool keyframe = wire::is_keyframe(producer->codec, rtp.payload(), rtp.payload_size());
  if (keyframe && producer->codec != wire::CodecKind::opus &&
      producer->codec != wire::CodecKind::other) {
    pc.keyframes.add();
  }
  if (producer->paused) {
    pc.dropped.add(DropReason::paused);
    return;
  }
  if (!producer->pipes_to.empty()) pipe_out(*producer, stream_index, rtp, keyframe, now_ns);
  forward(*producer, stream_index, rtp, keyframe, now_ns);
}

void ForwardingTables::forward(ProducerState& p, uint8_t stream, const wire::RtpPacketView& rtp,
                               bool keyframe, uint64_t now_ns) {
  bool keyframe_wanted = false;
  // Simulcast VP8: the picture ids and TL0PICIDX each consumer sees are rewritten to stay
  // continuous across its layer switches.
  wire::Vp8Descriptor vp8;
  const bool vp8_ids = p.simulcast() && p.codec == wire::CodecKind::vp8 &&
                       wire::parse_vp8_descriptor(rtp.payload(), rtp.payload_size(), vp8) &&
                       (vp8.has_picture_id || vp8.has_tl0_pic_idx);
  const size_t consumer_count = p.consumers.size();
  for (size_t ci = 0; ci < consumer_count; ++ci) {
    ConsumerState* c = p.consumers[ci];
    // Each consumer's state, counters and transport are separate objects: fetch the next
    // consumers' while this one is written and the SRTP work of the batch is still ahead.
    // In two steps, so that reading a consumer's pointers never waits for its own fetch.
    if (ci + 2 * kPrefetchAhead < consumer_count) {
      const ConsumerState* far = p.consumers[ci + 2 * kPrefetchAhead];
      __builtin_prefetch(far);
      __builtin_prefetch(reinterpret_cast<const char*>(far) + 64);
    }
    if (ci + kPrefetchAhead < consumer_count) {
      const ConsumerState* ahead = p.consumers[ci + kPrefetchAhead];
      __builtin_prefetch(ahead->transport);
      __builtin_prefetch(ahead->counters);
    }
    ConsumerCounters& cc = *c->counters;
    if (c->paused) {
      cc.dropped.add(DropReason::paused);
      continue;
    }
    TransportState& t = *c->transport;
    if (!t.remote_rtp.valid()) {
      cc.dropped.add(DropReason::no_remote);
      continue;
    }
    if (t.srtp_required && !t.srtp_out) {
      cc.dropped.add(DropReason::srtp_other);
      continue;
    }
    if (stream != c->current_layer) {
      // Simulcast: another layer's packet. Only a key frame of the target switches.
      if (stream != c->target_layer || !keyframe) {
        if (c->current_layer == kNoLayer && stream == c->target_layer) {
          cc.dropped.add(DropReason::waiting_keyframe);
          keyframe_wanted = true;
        } else {
          cc.other_layer_packets.add();
        }
        continue;
      }
      c->current_layer = stream;
      c->sync_required = true;  // continue the numbering from here
      cc.current_spatial_layer.set(stream + 1u);
    }
    if (c->sync_required) {
      if (c->keyframe_sync && !keyframe) {
        cc.dropped.add(DropReason::waiting_keyframe);
        keyframe_wanted = true;
        continue;
      }
      c->continuity.resync(rtp.sequence_number(), rtp.timestamp(), now_ns, c->clock_rate);
      if (vp8_ids) c->vp8.resync(vp8);
      c->segments.start(LayerSegment{c->continuity.map_seq(rtp.sequence_number()),
                                     c->continuity.seq_offset, c->continuity.ts_offset, stream,
                                     c->vp8.tl0_offset, c->vp8.picture_id_offset});
      c->sync_required = false;
      c->current_temporal_layer = c->preferred_temporal_layer;  // a key frame is TL0
      c->temporal_gap = false;
    } else if (c->continuity.is_late(rtp.sequence_number())) {
      cc.late_packets.add();
      continue;
    }
    if (vp8_ids && vp8.has_temporal_id) {
      if (vp8.start_of_frame && c->current_temporal_layer != c->preferred_temporal_layer &&
          (vp8.temporal_id == 0 || c->preferred_temporal_layer < c->current_temporal_layer)) {
        c->current_temporal_layer = c->preferred_temporal_layer;
      }
      if (vp8.temporal_id > c->current_temporal_layer) {
        cc.other_layer_packets.add();
        c->temporal_gap = true;
        continue;
      }
      if (c->temporal_gap) {  // numbering and picture ids close over what was left out
        c->temporal_gap = false;
        c->continuity.skip_to(rtp.sequence_number());
        c->vp8.skip_to(vp8);
        c->segments.start(LayerSegment{c->continuity.map_seq(rtp.sequence_number()),
                                       c->continuity.seq_offset, c->continuity.ts_offset, stream,
                                       c->vp8.tl0_offset, c->vp8.picture_id_offset});
      }
    }
    PacketBuffer* out = pool_.alloc();
    if (out == nullptr) {
      cc.dropped.add(DropReason::no_buffer);
      continue;
    }
    if (!write_for_consumer(*c, rtp, out, now_ns)) {
      pool_.release(out);
      cc.dropped.add(DropReason::too_large);
      continue;
    }
    if (vp8_ids) {
      const uint16_t picture_id = c->vp8.map_picture_id(vp8.picture_id, vp8.long_picture_id);
      const uint8_t tl0 = c->vp8.map_tl0(vp8.tl0_pic_idx);
      wire::rewrite_vp8_descriptor(out->data() + out->len - rtp.payload_size(), vp8, picture_id,
                                   tl0);
      c->vp8.sent(vp8, picture_id, tl0);
    }
    if (!t.srtp_out) {
      send_forwarded(*c, out, rtp.payload_size(), now_ns);
      continue;
    }
    // Encrypted later, with the other consumers' copies of this packet: one batch.
    protect_requests_[pending_count_] =
        SrtpProtectRequest{t.srtp_out.get(), out->data(), out->len, out->room()};
    pending_[pending_count_] = PendingSend{out, c};
    if (++pending_count_ == kProtectBatch) protect_pending(rtp.payload_size(), now_ns);
  }
  protect_pending(rtp.payload_size(), now_ns);
  // A consumer that (re)starts needs a key frame; asking once per interval is enough, and
  // asking again covers a request (or the key frame) lost on the way.
  if (keyframe_wanted) request_keyframe(p, stream, now_ns);
}

void ForwardingTables::protect_pending(size_t payload_size, uint64_t now_ns) {
  if (pending_count_ == 0) return;
  srtp_protect_rtp_batch(std::span(protect_requests_.data(), pending_count_));
  for (size_t i = 0; i < pending_count_; ++i) {
    const SrtpProtectRequest& r = protect_requests_[i];
    PacketBuffer* out = pending_[i].out;
    ConsumerState& c = *pending_[i].consumer;
    if (r.status != SrtpStatus::ok) {
      pool_.release(out);
      c.counters->dropped.add(srtp_drop_reason(r.status));
      continue;
    }
    out->len = static_cast<uint16_t>(r.len);
    send_forwarded(c, out, payload_size, now_ns);
  }
  pending_count_ = 0;
}

void ForwardingTables::send_forwarded(ConsumerState& c, PacketBuffer* out, size_t payload_size,
                                      uint64_t now_ns) {
  TransportState& t = *c.transport;
  ConsumerCounters& cc = *c.counters;
  c.continuity.sent(wire::load_be16(out->data() + 2), wire::load_be32(out->data() + 4), now_ns);
  cc.packets.add();
  cc.bytes.add(out->len);
  c.payload_octets += payload_size;
  t.counters->rtp_packets_out.add();
  t.counters->bytes_out.add(out->len);
  worker_counters_.tx_packets.add();
  worker_counters_.tx_bytes.add(out->len);
  tx_.push(TxPacket{out, static_cast<uint32_t>(t.rtp_socket), t.remote_rtp});
}

bool ForwardingTables::write_for_consumer(ConsumerState& c, const wire::RtpPacketView& in,
                                          PacketBuffer* out, uint64_t now_ns) {
  const size_t room = out->room() - SrtpSession::kMaxTrailer;
  uint8_t* o = out->data();
  const size_t csrc_bytes = 4u * in.csrc_count();
  if (12 + csrc_bytes > room) return false;

  const uint8_t pt = c.pt_from_producer[in.payload_type()];
  wire::write_rtp_fixed_header(o, in.marker(), pt == kNoMapping ? in.payload_type() : pt,
                               c.continuity.map_seq(in.sequence_number()),
                               c.continuity.map_ts(in.timestamp()), c.ssrc);
  o[0] = static_cast<uint8_t>(o[0] | in.csrc_count());
  std::memcpy(o + 12, in.data() + 12, csrc_bytes);
  size_t off = 12 + csrc_bytes;

  if (in.has_extension() || c.mid_ext_id != 0 || c.transport_cc_ext_id != 0) {
    wire::RtpExtensionWriter ext(o + off, room - off,
                                 in.two_byte_extensions() || c.two_byte_extensions);
    if (c.mid_ext_id != 0) {
      ext.add(c.mid_ext_id, reinterpret_cast<const uint8_t*>(c.mid.data()), c.mid_len);
    }
    if (c.transport_cc_ext_id != 0 && c.transport->bandwidth) {
      uint8_t wide[2];
      wire::store_be16(wide, c.transport->bandwidth->on_send(in.size(), now_ns));
      ext.add(c.transport_cc_ext_id, wide, sizeof wide);
    }
    if (in.has_extension()) {
      in.for_each_extension([&](uint8_t id, const uint8_t* value, size_t vlen) {
        const uint8_t out_id = c.ext_from_producer[id];
        // The producer's MID names the producer's m-section, not the consumer's, and its
        // transport-wide numbers are the producer's transport's.
        if (out_id != 0 && out_id != c.mid_ext_id && out_id != c.transport_cc_ext_id) {
          ext.add(out_id, value, vlen);
        }
      });
    }
    const size_t ext_len = ext.finish();
    if (ext_len > 0) {
      wire::rtp_set_extension_bit(o, true);
      off += ext_len;
    }
  }
  // Padding is not forwarded: it carries nothing and SRTP re-pads nothing.
  if (off + in.payload_size() > room) return false;
  std::memcpy(o + off, in.payload(), in.payload_size());
  out->len = static_cast<uint16_t>(off + in.payload_size());
  return true;
}

void ForwardingTables::on_rtcp(TransportState& t, RxPacket& rx, bool on_rtcp_socket,
                               uint64_t now_ns) {
  PacketBuffer* buf = rx.buf;
  const SocketAddress& expected = on_rtcp_socket ? t.remote_rtcp : t.remote_rtp;
  if (!t.webrtc && expected.valid() && rx.from != expected) {
    t.counters->dropped.add(DropReason::unknown_remote);
    return;
  }
  if (!unprotect(t, buf, true)) return;
  if (!wire::validate_rtcp_compound(buf->data(), buf->len)) {
    t.counters->dropped.add(DropReason::malformed_rtcp);
    return;
  }
  t.counters->rtcp_packets_in.add();
  if (on_rtcp_socket && !t.remote_rtcp.valid() && t.comedia) {
    t.remote_rtcp = rx.from;
    LOG_INFO("worker", "transport %u: learned remote RTCP address %s (comedia)", t.id,
             rx.from.to_string().c_str());
  }
  on_endpoint_rtcp(t, buf->data(), buf->len, now_ns);
}

ConsumerState* ForwardingTables::consumer_by_ssrc(TransportState& t, uint32_t ssrc) {
  for (ConsumerState* c : t.consumers) {
    if (c->ssrc == ssrc) return c;
  }
  return nullptr;
}

void ForwardingTables::on_endpoint_rtcp(TransportState& t, const uint8_t* rtcp, size_t len,
                                        uint64_t now_ns) {
  wire::for_each_rtcp_packet(
      rtcp, len, [&](uint8_t type, uint8_t fmt, const uint8_t* p, size_t size) {
        if (type == wire::kRtcpTypeSenderReport) {
          wire::RtcpSenderReportView sr;
          if (!wire::RtcpSenderReportView::parse(p, size, sr)) return;
          if (const StreamRoute* r = find_route(t, sr.ssrc()); r != nullptr && !r->rtx) {
            r->producer->streams[r->stream].stats.on_sender_report(sr.sender_info().ntp_timestamp,
                                                                   now_ns);
          }
          for (uint8_t i = 0; i < sr.report_count(); ++i)
            on_reception_report(t, sr.report(i), now_ns);
          return;
        }
        if (type == wire::kRtcpTypeReceiverReport) {
          wire::RtcpReceiverReportView rr;
          if (!wire::RtcpReceiverReportView::parse(p, size, rr)) return;
          for (uint8_t i = 0; i < rr.report_count(); ++i)
            on_reception_report(t, rr.report(i), now_ns);
          return;
        }
        if (type == wire::kRtcpTypeTransportFeedback) {
          if (fmt == wire::kRtpfbFormatNack) {
            on_consumer_nack(t, p, size);
          } else if (fmt == wire::kRtpfbFormatTransportCc && t.bandwidth) {
            wire::TransportCcFeedback feedback;
            size_t count = 0;
            if (wire::parse_rtcp_transport_cc(p, size, feedback, transport_cc_scratch_, count)) {
              t.bandwidth->on_feedback(feedback, std::span(transport_cc_scratch_.data(), count),
                                       now_ns);
              t.counters->available_bitrate_bps.set(t.bandwidth->available_bitrate_bps());
            }
          }
          return;
        }
        if (type != wire::kRtcpTypePayloadFeedback) return;
        if (fmt == wire::kPsfbFormatApplicationLayer) {
          wire::RtcpReceiverEstimatedMaxBitrateView remb;
          if (!wire::RtcpReceiverEstimatedMaxBitrateView::parse(p, size, remb)) return;
          t.counters->remb_bps.set(remb.bitrate_bps());
          if (t.bandwidth) {
            t.bandwidth->on_remb(remb.bitrate_bps());
            t.counters->available_bitrate_bps.set(t.bandwidth->available_bitrate_bps());
          } else {
            // Without transport-cc the endpoint's own estimate is all there is.
            t.counters->available_bitrate_bps.set(remb.bitrate_bps());
          }
          return;
        }
        if (fmt == wire::kPsfbFormatPli) {
          wire::RtcpPictureLossIndicationView pli;
          if (!wire::RtcpPictureLossIndicationView::parse(p, size, pli)) return;
          if (ConsumerState* c = consumer_by_ssrc(t, pli.media_ssrc())) {
            c->counters->keyframe_requests.add();
            if (c->producer != nullptr) request_keyframe(*c->producer, keyframe_stream(*c), now_ns);
          }
        } else if (fmt == wire::kPsfbFormatFir) {
          wire::RtcpFullIntraRequestView fir;
          if (!wire::RtcpFullIntraRequestView::parse(p, size, fir)) return;
          for (size_t i = 0; i < fir.entry_count(); ++i) {
            if (ConsumerState* c = consumer_by_ssrc(t, fir.entry(i).ssrc)) {
              c->counters->keyframe_requests.add();
              if (c->producer != nullptr)
                request_keyframe(*c->producer, keyframe_stream(*c), now_ns);
            }
          }
        }
      });
}

void ForwardingTables::request_keyframe(ProducerState& p, uint8_t stream, uint64_t now_ns) {
  if (p.piped) {
    request_piped_keyframe(p, stream, now_ns);
    return;
  }
  if (p.keyframe_request == KeyFrameRequest::none || p.transport == nullptr ||
      stream >= p.stream_count) {
    return;
  }
  ProducerStream& s = p.streams[stream];
  if (s.ssrc == 0) return;  // not received yet: nothing to name in the request
  if (s.last_keyframe_request_ns != 0 &&
      now_ns - s.last_keyframe_request_ns < options_.keyframe_request_interval_ns) {
    p.counters->keyframe_requests_throttled.add();
    return;
  }
  TransportState& t = *p.transport;
  PacketBuffer* buf = pool_.alloc();
  if (buf == nullptr) return;
  size_t n = 0;
  if (p.keyframe_request == KeyFrameRequest::pli) {
    n = wire::write_rtcp_picture_loss_indication(buf->data(), buf->room(), kRtcpSenderSsrc, s.ssrc);
  } else {
    const wire::FirEntry entry{s.ssrc, s.fir_sequence++};
    n = wire::write_rtcp_full_intra_request(buf->data(), buf->room(), kRtcpSenderSsrc,
                                            std::span<const wire::FirEntry>(&entry, 1));
  }
  buf->len = static_cast<uint16_t>(n);
  if (n == 0 || !send_rtcp(t, buf)) return;
  s.last_keyframe_request_ns = now_ns;
  p.counters->keyframe_requests.add();
}

bool ForwardingTables::send_rtcp(TransportState& t, PacketBuffer* buf) {
  // RTCP goes to the RTCP remote on its own socket, or beside the RTP with rtcp-mux.
  const bool own_socket = t.rtcp_socket >= 0;
  const SocketAddress& to = own_socket ? t.remote_rtcp : t.remote_rtp;
  if (!to.valid() || (t.srtp_required && !t.srtp_out)) {
    pool_.release(buf);
    return false;
  }
  if (t.srtp_out) {
    size_t len = buf->len;
    if (t.srtp_out->protect_rtcp(buf->data(), len, buf->room()) != SrtpStatus::ok) {
      pool_.release(buf);
      return false;
    }
    buf->len = static_cast<uint16_t>(len);
  }
  t.counters->rtcp_packets_out.add();
  t.counters->bytes_out.add(buf->len);
  worker_counters_.tx_packets.add();
  worker_counters_.tx_bytes.add(buf->len);
  const int socket = own_socket ? t.rtcp_socket : t.rtp_socket;
  tx_.push(TxPacket{buf, static_cast<uint32_t>(socket), to});
  return true;
}

}  // namespace weir::dp
