// The forwarding core of one worker: its tables of transports, producers and consumers,
// how commands change them, and what happens to a burst of received datagrams. Everything
// here belongs to the worker thread; nothing locks and nothing allocates per packet (tables
// grow only when a command adds something).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/packet_pool.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker_commands.h"
#include "wire/codec_payload.h"
#include "wire/rtp_packet.h"

namespace weir::dp {

struct ProducerState;
struct ConsumerState;

struct TransportState {
  TransportId id = 0;
  int rtp_socket = -1;   // engine socket index
  int rtcp_socket = -1;  // -1 with rtcp-mux
  bool comedia = false;
  bool srtp_required = false;
  SocketAddress remote_rtp;
  SocketAddress remote_rtcp;
  std::unique_ptr<SrtpSession> srtp_in;
  std::unique_ptr<SrtpSession> srtp_out;
  std::vector<ProducerState*> producers;  // a handful: searched linearly by SSRC
  TransportCounters* counters = nullptr;
};

// RFC 3550 appendix A.1 bookkeeping for the lost counter.
struct SequenceTracker {
  bool started = false;
  uint16_t max_seq = 0;
  uint32_t cycles = 0;
  uint32_t base_seq = 0;
  uint64_t received = 0;

  void update(uint16_t seq);
  uint64_t extended_max() const { return cycles + max_seq; }
  uint64_t lost() const;
};

struct ProducerState {
  ProducerId id = 0;
  TransportState* transport = nullptr;
  uint32_t ssrc = 0;
  uint32_t clock_rate = 90000;
  wire::CodecKind codec = wire::CodecKind::other;
  bool paused = false;
  PayloadTypeMap pt_map{};   // producer PT -> router PT
  ExtensionIdMap ext_map{};  // producer id -> router id
  SequenceTracker sequence;
  std::vector<ConsumerState*> consumers;
  ProducerCounters* counters = nullptr;
};

// Sequence-number and timestamp translation of one consumer. The offsets change only
// when the consumer resynchronises (start, resume), so its receivers see one continuous
// stream whatever the producer side did meanwhile.
struct RtpContinuity {
  bool started = false;
  uint16_t seq_offset = 0;
  uint32_t ts_offset = 0;
  uint16_t last_seq = 0;
  uint32_t last_ts = 0;
  uint64_t last_sent_ns = 0;

  // Makes in_seq/in_ts follow the last packet sent, allowing for the time that passed.
  void resync(uint16_t in_seq, uint32_t in_ts, uint64_t now_ns, uint32_t clock_rate);
  uint16_t map_seq(uint16_t in_seq) const { return static_cast<uint16_t>(in_seq - seq_offset); }
  uint32_t map_ts(uint32_t in_ts) const { return in_ts - ts_offset; }
  void sent(uint16_t out_seq, uint32_t out_ts, uint64_t now_ns);
};

struct ConsumerState {
  ConsumerId id = 0;
  ProducerState* producer = nullptr;
  TransportState* transport = nullptr;
  uint32_t ssrc = 0;
  uint32_t clock_rate = 90000;
  bool paused = false;
  bool keyframe_sync = false;
  bool sync_required = true;
  PayloadTypeMap router_pt_map{};   // router PT -> consumer PT (as commanded)
  ExtensionIdMap router_ext_map{};  // router id -> consumer id (as commanded)
  // Producer-side numbers mapped straight to this consumer's, so a packet needs one lookup.
  PayloadTypeMap pt_from_producer{};
  ExtensionIdMap ext_from_producer{};
  bool two_byte_extensions = false;  // some consumer id does not fit the one-byte form
  RtpContinuity continuity;
  ConsumerCounters* counters = nullptr;
};

// Collects outgoing datagrams and hands them to the engine in bursts.
class TxBatch {
 public:
  static constexpr size_t kCapacity = 1024;
  explicit TxBatch(UdpEngine* engine) : engine_(engine) {}
  void push(const TxPacket& p) {
    if (count_ == kCapacity) flush();
    packets_[count_++] = p;
  }
  void flush() {
    if (count_ > 0) engine_->tx_burst(packets_, count_);
    count_ = 0;
  }

 private:
  UdpEngine* engine_;
  size_t count_ = 0;
  TxPacket packets_[kCapacity];
};

class ForwardingTables {
 public:
  ForwardingTables(PacketPool& pool, UdpEngine& engine, WorkerCounters& counters);
  ~ForwardingTables();

  void apply(Command& command);
  // Processes a received burst; the caller keeps (and releases) the RX buffers.
  void process_burst(RxPacket* packets, size_t count, uint64_t now_ns);

  size_t transport_count() const { return transports_.size(); }
  size_t producer_count() const { return producers_.size(); }
  size_t consumer_count() const { return consumers_.size(); }

 private:
  struct SocketBinding {
    TransportState* transport = nullptr;
    bool rtcp = false;
  };

  void on_add_transport(AddPlainTransport& c);
  void on_connect(const ConnectTransport& c);
  void on_set_srtp(SetTransportSrtp& c);
  void on_remove_transport(const RemoveTransport& c);
  void on_add_producer(const AddProducer& c);
  void on_producer_paused(const SetProducerPaused& c);
  void on_remove_producer(const RemoveProducer& c);
  void on_add_consumer(const AddConsumer& c);
  void on_consumer_paused(const SetConsumerPaused& c);
  void on_remove_consumer(const RemoveConsumer& c);

  void bind_socket(int socket, TransportState* t, bool rtcp);
  void detach_consumer(ConsumerState* c);
  void detach_producer(ProducerState* p);
  static void map_through_producer(ConsumerState& c);

  void on_datagram(RxPacket& rx, uint64_t now_ns);
  // SRTP-decrypts in place when the transport requires it; false (counted) on failure.
  bool unprotect(TransportState& t, PacketBuffer* buf, bool rtcp);
  void on_rtp(TransportState& t, RxPacket& rx, uint64_t now_ns);
  void on_rtcp(TransportState& t, RxPacket& rx, bool on_rtcp_socket);
  void forward(ProducerState& p, const wire::RtpPacketView& rtp, bool keyframe, uint64_t now_ns);
  bool write_for_consumer(ConsumerState& c, const wire::RtpPacketView& in, PacketBuffer* out);

  PacketPool& pool_;
  UdpEngine& engine_;
  WorkerCounters& worker_counters_;
  TxBatch tx_;
  std::vector<SocketBinding> sockets_;
  std::unordered_map<TransportId, std::unique_ptr<TransportState>> transports_;
  std::unordered_map<ProducerId, std::unique_ptr<ProducerState>> producers_;
  std::unordered_map<ConsumerId, std::unique_ptr<ConsumerState>> consumers_;
};

}  // namespace weir::dp
