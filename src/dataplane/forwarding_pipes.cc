// ForwardingTables: pipes to and from the other workers. On the producer's worker each
// packet of a piped producer is copied once into the pipe of every worker that has
// consumers of it; on such a worker the packet is taken out into a pool buffer and goes
// through the same forward() as a local producer's, to the consumers there. Key-frame
// requests of those consumers go back through the reverse pipe.
#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "dataplane/forwarding.h"

namespace weir::dp {

namespace {
// Packets taken from one pipe per drain: bounds the time one busy pipe holds the loop, so
// its own sockets and commands are served in between.
constexpr size_t kPipeDrainBudget = 256;
}  // namespace

void ForwardingTables::on_add_piped_producer(const AddPipedProducer& c) {
  const AddProducer& a = c.producer;
  if (pipes_ == nullptr || c.from_worker >= pipes_->worker_count() || c.from_worker == self_ ||
      producers_.count(a.id) != 0) {
    LOG_ERROR("worker", "piped producer %u from worker %u: no such pipe, or exists; ignored", a.id,
              c.from_worker);
    return;
  }
  auto p = std::make_unique<ProducerState>();
  p->id = a.id;
  p->piped = true;
  p->piped_from = c.from_worker;
  p->clock_rate = a.clock_rate;
  p->codec = a.codec;
  p->paused = a.paused;
  p->keyframe_request = a.keyframe_request;
  p->pt_map = a.pt_map;
  p->ext_map = a.ext_map;
  p->own_counters = std::make_unique<ProducerCounters>();
  p->counters = p->own_counters.get();
  p->stream_count =
      a.encoding_count >= 2
          ? static_cast<uint8_t>(std::min<size_t>(a.encoding_count, kMaxSimulcastEncodings))
          : 1;
  // The consumers here answer their NACKs from a history of their own worker's buffers.
  for (uint8_t i = 0; i < p->stream_count; ++i) {
    p->streams[i].stats = RtpReceiveStats(a.clock_rate);
    if (a.retransmission_packets != 0) {
      p->streams[i].history =
          std::make_unique<RetransmissionBuffer>(pool_, a.retransmission_packets);
    }
  }
  piped_producers_.push_back(p.get());
  producers_.emplace(a.id, std::move(p));
}

void ForwardingTables::on_add_producer_pipe(const AddProducerPipe& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end() || it->second->piped || pipes_ == nullptr ||
      c.to_worker >= pipes_->worker_count() || c.to_worker == self_) {
    return;
  }
  std::vector<uint32_t>& to = it->second->pipes_to;
  if (std::find(to.begin(), to.end(), c.to_worker) == to.end()) to.push_back(c.to_worker);
}

void ForwardingTables::on_remove_producer_pipe(const RemoveProducerPipe& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end()) return;
  std::erase(it->second->pipes_to, c.to_worker);
}

void ForwardingTables::pipe_out(ProducerState& p, uint8_t stream, const wire::RtpPacketView& rtp,
                                bool keyframe, uint64_t now_ns) {
  if (rtp.size() > PipedPacket::kMaxSize) {  // larger than any pool buffer's room
    p.counters->dropped.add(DropReason::too_large);
    return;
  }
  for (const uint32_t to : p.pipes_to) {
    PipeRing& ring = pipes_->media(self_, to);
    PipedPacket* slot = ring.reserve();
    if (slot == nullptr) {
      // The other worker is behind: its consumers lose this packet (and NACK it), ours not.
      worker_counters_.pipe_full.add();
      continue;
    }
    slot->producer = p.id;
    slot->stream = stream;
    slot->keyframe = keyframe;
    slot->len = static_cast<uint16_t>(rtp.size());
    slot->arrival_ns = now_ns;
    std::memcpy(slot->data, rtp.data(), rtp.size());
    ring.commit();
    worker_counters_.piped_out.add();
    pipe_wakes_ |= uint64_t{1} << to;
  }
}

bool ForwardingTables::pipes_pending() const {
  if (pipes_ == nullptr) return false;
  for (uint32_t from = 0; from < pipes_->worker_count(); ++from) {
    if (from == self_) continue;
    if (!pipes_->media(from, self_).empty() || !pipes_->keyframes(from, self_).empty()) return true;
  }
  return false;
}

void ForwardingTables::drain_pipes(uint64_t now_ns) {
  if (pipes_ == nullptr) return;
  for (uint32_t from = 0; from < pipes_->worker_count(); ++from) {
    if (from == self_) continue;
    PipeRing& media = pipes_->media(from, self_);
    for (size_t n = 0; n < kPipeDrainBudget; ++n) {
      const PipedPacket* in = media.front();
      if (in == nullptr) break;
      on_piped_packet(*in, now_ns);
      media.pop();
    }
    SpscRing<PipedKeyFrameRequest>& keyframes = pipes_->keyframes(from, self_);
    while (auto request = keyframes.pop()) {
      auto it = producers_.find(request->producer);
      if (it == producers_.end() || it->second->piped) {
        worker_counters_.pipe_unknown_producer.add();
        continue;
      }
      request_keyframe(*it->second, request->stream, now_ns);
    }
  }
  tx_.flush();
}

void ForwardingTables::on_piped_packet(const PipedPacket& in, uint64_t now_ns) {
  auto it = producers_.find(in.producer);
  if (it == producers_.end() || !it->second->piped || in.stream >= it->second->stream_count) {
    worker_counters_.pipe_unknown_producer.add();  // removed while its packets were on the way
    return;
  }
  worker_counters_.piped_in.add();
  ProducerState& p = *it->second;
  // Drops here are the worker's: the copy's own counters are shown nowhere.
  PacketBuffer* buf = pool_.alloc();
  if (buf == nullptr) {
    worker_counters_.dropped.add(DropReason::no_buffer);
    return;
  }
  if (in.len > buf->room()) {
    pool_.release(buf);
    worker_counters_.dropped.add(DropReason::too_large);
    return;
  }
  std::memcpy(buf->data(), in.data, in.len);
  buf->len = in.len;
  wire::RtpPacketView rtp;
  if (!wire::RtpPacketView::parse(buf->data(), buf->len, rtp)) {  // validated at the source
    pool_.release(buf);
    worker_counters_.dropped.add(DropReason::malformed_rtp);
    return;
  }
  ProducerStream& s = p.streams[in.stream];
  // Active since it arrived at the producer's worker; never later than this burst's time,
  // which the tick subtracts it from.
  s.last_packet_ns = std::min(in.arrival_ns, now_ns);
  p.counters->packets.add();
  p.counters->bytes.add(in.len);
  s.stats.on_packet(rtp.sequence_number(), rtp.timestamp(), now_ns);
  if (s.history) s.history->store(rtp.sequence_number(), buf, now_ns);
  // Paused: the producer's worker stopped piping it already; this is one in flight.
  if (!p.paused) forward(p, in.stream, rtp, in.keyframe, now_ns);
  pool_.release(buf);
}

void ForwardingTables::request_piped_keyframe(ProducerState& p, uint8_t stream, uint64_t now_ns) {
  if (p.keyframe_request == KeyFrameRequest::none || stream >= p.stream_count) return;
  ProducerStream& s = p.streams[stream];
  // Throttled here as on the producer's worker, so a crowd of consumers here sends one
  // request per interval through the pipe, not one each.
  if (s.last_keyframe_request_ns != 0 &&
      now_ns - s.last_keyframe_request_ns < options_.keyframe_request_interval_ns) {
    p.counters->keyframe_requests_throttled.add();
    return;
  }
  if (!pipes_->keyframes(self_, p.piped_from).push(PipedKeyFrameRequest{p.id, stream})) {
    worker_counters_.pipe_full.add();
    return;
  }
  s.last_keyframe_request_ns = now_ns;
  p.counters->keyframe_requests.add();
  pipe_wakes_ |= uint64_t{1} << p.piped_from;
}

}  // namespace weir::dp
