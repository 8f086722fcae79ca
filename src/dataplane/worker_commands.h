// Commands the control thread sends to a dataplane worker. They travel by value through
// an SPSC ring and are applied by the worker between bursts, so the worker's tables are
// only ever touched by the worker. Objects that outlive a command (counters, SRTP
// sessions) are handed over by pointer; see each field for who frees what.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include "dataplane/counters.h"
#include "dataplane/socket_address.h"
#include "dataplane/srtp_session.h"
#include "wire/codec_payload.h"

namespace weir::dp {

using TransportId = uint32_t;
using ProducerId = uint32_t;
using ConsumerId = uint32_t;

constexpr uint8_t kNoMapping = 0xFF;
// Payload-type map: index = incoming PT (0..127), value = outgoing PT or kNoMapping.
using PayloadTypeMap = std::array<uint8_t, 128>;
// Header-extension id map: index = incoming id (1..255), value = outgoing id or 0 (drop).
using ExtensionIdMap = std::array<uint8_t, 256>;

struct AddPlainTransport {
  TransportId id;
  int rtp_fd;   // bound socket; the worker's engine adopts and later closes it
  int rtcp_fd;  // -1 with rtcp-mux
  bool comedia;
  bool srtp;    // SRTP required: packets are dropped until SetTransportSrtp arrives
  SocketAddress remote_rtp;   // invalid until connect or comedia learns it
  SocketAddress remote_rtcp;
  TransportCounters* counters;  // owned by control; freed only after RemoveTransport applied
};

struct ConnectTransport {
  TransportId id;
  SocketAddress remote_rtp;
  SocketAddress remote_rtcp;  // invalid: RTCP goes to remote_rtp (mux) or rtp port + 1
};

// Installs SRTP: inbound decrypts what the remote sends, outbound encrypts what we send.
// The worker takes ownership of both sessions.
struct SetTransportSrtp {
  TransportId id;
  SrtpSession* inbound;
  SrtpSession* outbound;
};

struct RemoveTransport {
  TransportId id;
};

struct AddProducer {
  ProducerId id;
  TransportId transport;
  uint32_t ssrc;          // the SSRC the endpoint sends
  uint32_t rtx_ssrc;      // 0 when none
  uint32_t clock_rate;
  wire::CodecKind codec;
  bool paused;
  PayloadTypeMap pt_map;       // producer PT -> router PT
  ExtensionIdMap ext_map;      // producer ext id -> router ext id
  ProducerCounters* counters;  // owned by control; freed only after RemoveProducer applied
};

struct SetProducerPaused {
  ProducerId id;
  bool paused;
};

struct RemoveProducer {
  ProducerId id;  // also detaches (but does not remove) its consumers
};

struct AddConsumer {
  ConsumerId id;
  ProducerId producer;
  TransportId transport;
  uint32_t ssrc;
  uint32_t clock_rate;
  bool paused;
  bool keyframe_sync;          // video: after (re)start forward only from a key frame
  PayloadTypeMap pt_map;       // router PT -> consumer PT
  ExtensionIdMap ext_map;      // router ext id -> consumer ext id
  ConsumerCounters* counters;  // owned by control; freed only after RemoveConsumer applied
};

struct SetConsumerPaused {
  ConsumerId id;
  bool paused;
};

struct RemoveConsumer {
  ConsumerId id;
};

using Command = std::variant<AddPlainTransport, ConnectTransport, SetTransportSrtp,
                             RemoveTransport, AddProducer, SetProducerPaused, RemoveProducer,
                             AddConsumer, SetConsumerPaused, RemoveConsumer>;

}  // namespace weir::dp
