// Two SctpAssociations back to back in memory: each one's packets are queued and fed into
// the other by the test (never from inside usrsctp), the control io_context drives
// usrsctp's timers. Connecting, ordered and unordered delivery, PR-SCTP giving up on a
// lost message, text/binary/empty PPIDs, sizes from 1 byte to the 256 KiB maximum, oversize
// refused on send and dropped on receive, a full send buffer, stream resets both ways,
// DCEP open -> ack, many messages, and a listener destroying its association.
#include "control/sctp_association.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "control/sctp_stack.h"
#include "wire/dcep_message.h"

namespace weir::control {
namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

struct Received {
  uint16_t stream_id;
  uint32_t ppid;
  Bytes data;
};

class Endpoint : public SctpAssociation::Listener {
 public:
  explicit Endpoint(std::deque<Bytes>& out) : out_(out) {}

  void on_sctp_packet(const uint8_t* data, size_t len) override {
    if (drop_outgoing > 0) {
      --drop_outgoing;
      ++dropped;
      return;
    }
    out_.emplace_back(data, data + len);
  }
  void on_sctp_state(SctpState state) override { states.push_back(state); }
  void on_sctp_message(const SctpMessage& m) override {
    messages.push_back({m.stream_id, m.ppid, Bytes(m.data, m.data + m.len)});
    if (on_message) on_message(m);
  }
  void on_sctp_data_channel_open(const SctpDataChannelOpen& open) override {
    opens.push_back(open);
  }
  void on_sctp_stream_closed(uint16_t stream_id) override { closed_streams.push_back(stream_id); }

  int drop_outgoing = 0;  // the next n packets are lost
  int dropped = 0;
  std::vector<SctpState> states;
  std::vector<Received> messages;
  std::vector<SctpDataChannelOpen> opens;
  std::vector<uint16_t> closed_streams;
  std::function<void(const SctpMessage&)> on_message;

 private:
  std::deque<Bytes>& out_;
};

class SctpPairTest : public ::testing::Test {
 protected:
  void make(SctpOptions a_options = {}, SctpOptions b_options = {}) {
    a_ = std::make_unique<SctpAssociation>(io_, ea_, a_options);
    b_ = std::make_unique<SctpAssociation>(io_, eb_, b_options);
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    EXPECT_EQ(sctp_stack::association_count(), 0u);
  }

  // Feeds queued packets across and runs the io_context (usrsctp's timers) until done()
  // or timeout_ms; false on timeout.
  bool pump(const std::function<bool()>& done, int timeout_ms = 5000) {
    const auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < end) {
      for (int i = 0; i < 10000 && (!to_b_.empty() || !to_a_.empty()); ++i) {
        if (!to_b_.empty()) {
          const Bytes p = std::move(to_b_.front());
          to_b_.pop_front();
          if (b_) b_->on_packet(p.data(), p.size());
        }
        if (!to_a_.empty()) {
          const Bytes p = std::move(to_a_.front());
          to_a_.pop_front();
          if (a_) a_->on_packet(p.data(), p.size());
        }
        if (done()) return true;
      }
      if (done()) return true;
      io_.run_for(std::chrono::milliseconds(1));
    }
    return done();
  }
  void connect() {
    a_->connect();
    b_->connect();
    ASSERT_TRUE(pump([&] {
      return a_->state() == SctpState::connected && b_->state() == SctpState::connected;
    })) << sctp_state_name(a_->state())
        << " " << sctp_state_name(b_->state());
  }
  static Bytes pattern(size_t n, uint32_t seed) {
    Bytes v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  }
  static SctpStreamParameters stream(uint16_t id, bool ordered = true) {
    SctpStreamParameters p;
    p.stream_id = id;
    p.ordered = ordered;
    return p;
  }

  boost::asio::io_context io_;
  std::deque<Bytes> to_a_, to_b_;
  Endpoint ea_{to_b_}, eb_{to_a_};
  std::unique_ptr<SctpAssociation> a_, b_;
};

TEST_F(SctpPairTest, ConnectsBothSendingInit) {
  make();
  EXPECT_EQ(a_->state(), SctpState::fresh);
  connect();
  EXPECT_EQ(ea_.states, (std::vector<SctpState>{SctpState::connecting, SctpState::connected}));
  EXPECT_EQ(eb_.states, (std::vector<SctpState>{SctpState::connecting, SctpState::connected}));
  EXPECT_GT(a_->counters().packets_sent, 0u);
  EXPECT_GT(b_->counters().packets_received, 0u);
}

TEST_F(SctpPairTest, APeerStartingLateMeetsOurPendingInit) {
  make();
  // a's INITs go nowhere: the peer has no SCTP yet (had b's socket got them before its
  // connect, it would have answered ABORT).
  ea_.drop_outgoing = 1000;
  a_->connect();
  pump([] { return false; }, 200);
  EXPECT_EQ(a_->state(), SctpState::connecting);
  ea_.drop_outgoing = 0;
  b_->connect();  // b's INIT is answered by a, still in COOKIE-WAIT
  ASSERT_TRUE(pump(
      [&] { return a_->state() == SctpState::connected && b_->state() == SctpState::connected; },
      2000));
}

TEST_F(SctpPairTest, RefusesToSendBeforeConnected) {
  make();
  const Bytes m = pattern(10, 1);
  EXPECT_EQ(a_->send(stream(0), wire::kPpidBinary, m.data(), m.size()),
            SctpAssociation::SendResult::not_connected);
  EXPECT_EQ(a_->counters().send_refused, 1u);
}

TEST_F(SctpPairTest, TextBinaryAndEmptyMessagesKeepStreamAndPpid) {
  make();
  connect();
  const std::string text = "hello";
  const Bytes bin = pattern(7, 2);
  ASSERT_EQ(a_->send(stream(1), wire::kPpidString, reinterpret_cast<const uint8_t*>(text.data()),
                     text.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_EQ(a_->send(stream(2), wire::kPpidBinary, bin.data(), bin.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_EQ(a_->send(stream(1), wire::kPpidString, nullptr, 0), SctpAssociation::SendResult::sent);
  ASSERT_EQ(a_->send(stream(2), wire::kPpidBinaryEmpty, nullptr, 0),
            SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return eb_.messages.size() == 4; }));
  EXPECT_EQ(eb_.messages[0].stream_id, 1);
  EXPECT_EQ(eb_.messages[0].ppid, wire::kPpidString);
  EXPECT_EQ(std::string(eb_.messages[0].data.begin(), eb_.messages[0].data.end()), text);
  EXPECT_EQ(eb_.messages[1].stream_id, 2);
  EXPECT_EQ(eb_.messages[1].ppid, wire::kPpidBinary);
  EXPECT_EQ(eb_.messages[1].data, bin);
  EXPECT_EQ(eb_.messages[2].ppid, wire::kPpidStringEmpty);
  EXPECT_TRUE(eb_.messages[2].data.empty());
  EXPECT_EQ(eb_.messages[3].ppid, wire::kPpidBinaryEmpty);
  EXPECT_TRUE(eb_.messages[3].data.empty());
  EXPECT_EQ(a_->counters().messages_sent, 4u);
  EXPECT_EQ(a_->counters().bytes_sent, text.size() + bin.size());
  EXPECT_EQ(b_->counters().messages_received, 4u);
  EXPECT_EQ(b_->counters().bytes_received, text.size() + bin.size());
  // And the other way.
  ASSERT_EQ(b_->send(stream(1), wire::kPpidString, reinterpret_cast<const uint8_t*>(text.data()),
                     text.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return ea_.messages.size() == 1; }));
  EXPECT_EQ(ea_.messages[0].data, Bytes(text.begin(), text.end()));
}

TEST_F(SctpPairTest, SizesFromOneByteToTheMaximumArriveWhole) {
  make();
  connect();
  const std::vector<size_t> sizes = {1,     2,     100,    1000,   1149,   1150,   1151,  4096,
                                     65535, 65536, 100000, 131072, 200000, 262143, 262144};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Bytes m = pattern(sizes[i], static_cast<uint32_t>(i));
    const uint32_t ppid = i % 2 == 0 ? wire::kPpidBinary : wire::kPpidString;
    ASSERT_EQ(a_->send(stream(static_cast<uint16_t>(i)), ppid, m.data(), m.size()),
              SctpAssociation::SendResult::sent)
        << sizes[i];
    ASSERT_TRUE(pump([&] { return eb_.messages.size() == i + 1; }, 10000)) << sizes[i];
    EXPECT_EQ(eb_.messages[i].data, m) << sizes[i];
    EXPECT_EQ(eb_.messages[i].ppid, ppid);
    EXPECT_EQ(eb_.messages[i].stream_id, i);
  }
  EXPECT_EQ(b_->counters().oversize_dropped, 0u);
  // The largest ones exceed usrsctp's partial delivery point: they came in parts.
  EXPECT_GT(b_->counters().messages_reassembled, 0u);
}

TEST_F(SctpPairTest, OversizeIsRefusedOnSendAndDroppedOnReceive) {
  SctpOptions big;
  big.max_message_size = 400000;  // a peer that ignores our advertised maximum
  make(SctpOptions{}, big);
  connect();
  const Bytes too_big = pattern(262145, 3);
  EXPECT_EQ(a_->send(stream(0), wire::kPpidBinary, too_big.data(), too_big.size()),
            SctpAssociation::SendResult::too_large);
  EXPECT_EQ(a_->counters().send_refused, 1u);

  const Bytes huge = pattern(300000, 4);
  ASSERT_EQ(b_->send(stream(0), wire::kPpidBinary, huge.data(), huge.size()),
            SctpAssociation::SendResult::sent);
  const Bytes after = pattern(10, 5);
  ASSERT_EQ(b_->send(stream(0), wire::kPpidBinary, after.data(), after.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return !ea_.messages.empty(); }, 10000));
  EXPECT_EQ(a_->counters().oversize_dropped, 1u);
  ASSERT_EQ(ea_.messages.size(), 1u);  // only the one that fits
  EXPECT_EQ(ea_.messages[0].data, after);
}

TEST_F(SctpPairTest, UnorderedMessagesOvertakeALostOneOrderedOnesWait) {
  make();
  connect();
  for (const bool ordered : {false, true}) {
    SCOPED_TRACE(ordered ? "ordered" : "unordered");
    eb_.messages.clear();
    ea_.dropped = 0;
    const uint16_t sid = ordered ? 4 : 3;
    uint8_t first = 1;
    ea_.drop_outgoing = 1;  // the packet carrying the first message is lost
    ASSERT_EQ(a_->send(stream(sid, ordered), wire::kPpidBinary, &first, 1),
              SctpAssociation::SendResult::sent);
    ASSERT_EQ(ea_.dropped, 1);
    ASSERT_TRUE(eb_.messages.empty());
    for (uint8_t i = 2; i <= 6; ++i) {
      ASSERT_EQ(a_->send(stream(sid, ordered), wire::kPpidBinary, &i, 1),
                SctpAssociation::SendResult::sent);
      ASSERT_TRUE(pump([&] { return to_b_.empty() && to_a_.empty(); }, 1000));
    }
    ASSERT_TRUE(pump([&] { return eb_.messages.size() == 6; }, 8000));
    std::vector<uint8_t> order;
    for (const Received& r : eb_.messages) order.push_back(r.data.at(0));
    if (ordered) {
      EXPECT_EQ(order, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
    } else {
      // The retransmission (after three SACKs reporting the gap) comes after later ones.
      EXPECT_NE(order.front(), 1);
      std::sort(order.begin(), order.end());
      EXPECT_EQ(order, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
    }
  }
}

TEST_F(SctpPairTest, PartialReliabilityGivesUpOnALostMessage) {
  make();
  connect();
  struct Case {
    const char* name;
    std::optional<uint32_t> rtx, ttl;
  };
  uint16_t sid = 5;
  for (const Case& c : {Case{"maxRetransmits 0", 0u, std::nullopt},
                        Case{"maxPacketLifeTime 1 ms", std::nullopt, 1u}}) {
    SCOPED_TRACE(c.name);
    eb_.messages.clear();
    SctpStreamParameters p = stream(sid++, false);
    p.max_retransmits = c.rtx;
    p.max_packet_life_time_ms = c.ttl;
    uint8_t lost = 1;
    ea_.drop_outgoing = 1;
    ASSERT_EQ(a_->send(p, wire::kPpidBinary, &lost, 1), SctpAssociation::SendResult::sent);
    io_.run_for(std::chrono::milliseconds(5));  // the lifetime runs out
    for (uint8_t i = 2; i <= 6; ++i) {
      ASSERT_EQ(a_->send(p, wire::kPpidBinary, &i, 1), SctpAssociation::SendResult::sent);
      ASSERT_TRUE(pump([&] { return to_b_.empty() && to_a_.empty(); }, 1000));
    }
    // Reliable traffic after it still flows: the receiver was told to skip the lost one.
    uint8_t last = 7;
    ASSERT_EQ(a_->send(stream(0), wire::kPpidBinary, &last, 1), SctpAssociation::SendResult::sent);
    ASSERT_TRUE(pump([&] { return eb_.messages.size() >= 6; }, 8000));
    pump([] { return false; }, 300);  // a retransmission would show up by now
    std::vector<uint8_t> got;
    for (const Received& r : eb_.messages) got.push_back(r.data.at(0));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<uint8_t>{2, 3, 4, 5, 6, 7}));
  }
  EXPECT_GE(a_->counters().messages_abandoned, 2u);
}

TEST_F(SctpPairTest, AFullSendBufferRefusesAndCountsThenDrains) {
  SctpOptions small;
  small.send_buffer_size = 64 * 1024;
  make(small, SctpOptions{});
  connect();
  const Bytes m = pattern(8000, 6);
  size_t accepted = 0;
  SctpAssociation::SendResult last = SctpAssociation::SendResult::sent;
  for (int i = 0; i < 1000 && last == SctpAssociation::SendResult::sent; ++i) {
    last = a_->send(stream(0), wire::kPpidBinary, m.data(), m.size());
    if (last == SctpAssociation::SendResult::sent) ++accepted;
  }
  EXPECT_EQ(last, SctpAssociation::SendResult::buffer_full);
  EXPECT_EQ(a_->counters().send_buffer_full, 1u);
  EXPECT_LT(accepted, 20u);  // bounded by the buffer, nothing queued beyond it
  ASSERT_TRUE(pump([&] { return eb_.messages.size() == accepted; }, 10000));
  EXPECT_EQ(a_->send(stream(0), wire::kPpidBinary, m.data(), m.size()),
            SctpAssociation::SendResult::sent);
}

TEST_F(SctpPairTest, ManyMessagesInOrderWithBackpressure) {
  make();
  connect();
  constexpr int kCount = 5000;
  int sent = 0, refusals = 0;
  const auto end = Clock::now() + std::chrono::seconds(30);
  while (sent < kCount && Clock::now() < end) {
    Bytes m(1000, static_cast<uint8_t>(sent));
    m[0] = static_cast<uint8_t>(sent >> 8);
    m[1] = static_cast<uint8_t>(sent);
    const auto r = a_->send(stream(7), wire::kPpidBinary, m.data(), m.size());
    if (r == SctpAssociation::SendResult::sent) {
      ++sent;
    } else {
      ASSERT_EQ(r, SctpAssociation::SendResult::buffer_full);
      ++refusals;
      pump([&] { return to_b_.empty() && to_a_.empty(); }, 100);
    }
  }
  ASSERT_EQ(sent, kCount);
  ASSERT_TRUE(pump([&] { return eb_.messages.size() == kCount; }, 20000)) << eb_.messages.size();
  for (int i = 0; i < kCount; ++i) {
    const Bytes& d = eb_.messages[static_cast<size_t>(i)].data;
    ASSERT_EQ((d[0] << 8) | d[1], i & 0xffff) << i;
  }
  EXPECT_EQ(a_->counters().send_buffer_full, static_cast<uint64_t>(refusals));
}

TEST_F(SctpPairTest, StreamResetClosesThePeersChannelAndTheStreamCanBeReused) {
  make();
  connect();
  uint8_t x = 42;
  ASSERT_EQ(a_->send(stream(9), wire::kPpidBinary, &x, 1), SctpAssociation::SendResult::sent);
  ASSERT_EQ(b_->send(stream(9), wire::kPpidBinary, &x, 1), SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return eb_.messages.size() == 1 && ea_.messages.size() == 1; }));
  a_->reset_stream(9);
  // b sees a's reset as the peer closing stream 9 and resets its own; a takes that as the
  // reply to its close, not as a new close.
  ASSERT_TRUE(pump(
      [&] { return !eb_.closed_streams.empty() && a_->counters().stream_resets_received == 1; }));
  pump([] { return false; }, 100);
  EXPECT_EQ(eb_.closed_streams, std::vector<uint16_t>{9});
  EXPECT_TRUE(ea_.closed_streams.empty());
  EXPECT_EQ(a_->counters().stream_resets_sent, 1u);
  EXPECT_EQ(b_->counters().stream_resets_sent, 1u);
  EXPECT_EQ(b_->counters().stream_resets_received, 1u);
  // Reused (a new channel on the same id) in both directions.
  x = 43;
  ASSERT_EQ(a_->send(stream(9), wire::kPpidBinary, &x, 1), SctpAssociation::SendResult::sent);
  ASSERT_EQ(b_->send(stream(9), wire::kPpidBinary, &x, 1), SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return eb_.messages.size() == 2 && ea_.messages.size() == 2; }));
  EXPECT_EQ(eb_.messages[1].data, Bytes{43});
  // The peer closing first: a is told.
  b_->reset_stream(9);
  ASSERT_TRUE(pump([&] { return !ea_.closed_streams.empty(); }));
  EXPECT_EQ(ea_.closed_streams, std::vector<uint16_t>{9});
}

TEST_F(SctpPairTest, DcepOpenIsAcknowledgedAndRemembered) {
  make();
  connect();
  wire::DcepOpen open;
  open.channel_type = wire::DcepChannelType::partial_reliable_rexmit_unordered;
  open.reliability_parameter = 2;
  open.label = "chat";
  open.protocol = "proto";
  uint8_t buf[64];
  const size_t n = wire::write_dcep_open(open, buf, sizeof buf);
  ASSERT_GT(n, 0u);
  SctpStreamParameters dcep = stream(6);
  ASSERT_EQ(b_->send(dcep, wire::kPpidDcep, buf, n), SctpAssociation::SendResult::sent);
  // A message right behind the OPEN, before any ACK: delivered as usual.
  const std::string hi = "hi";
  ASSERT_EQ(b_->send(stream(6, false), wire::kPpidString,
                     reinterpret_cast<const uint8_t*>(hi.data()), hi.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return !ea_.opens.empty() && ea_.messages.size() == 1; }));
  EXPECT_EQ(ea_.opens[0].label, "chat");
  EXPECT_EQ(ea_.opens[0].protocol, "proto");
  EXPECT_EQ(ea_.opens[0].params.stream_id, 6);
  EXPECT_FALSE(ea_.opens[0].params.ordered);
  EXPECT_EQ(ea_.opens[0].params.max_retransmits, 2u);
  EXPECT_FALSE(ea_.opens[0].params.max_packet_life_time_ms);
  ASSERT_NE(a_->data_channel(6), nullptr);
  EXPECT_EQ(a_->data_channel(6)->label, "chat");
  EXPECT_EQ(a_->data_channel(5), nullptr);
  EXPECT_EQ(a_->counters().dcep_opens, 1u);
  // The ACK reached b (it is no user message there: b's counter tells).
  ASSERT_TRUE(pump([&] { return b_->counters().dcep_acks_received == 1; }));
  EXPECT_TRUE(eb_.messages.empty());
  // Malformed DCEP: counted, dropped, nothing delivered.
  const uint8_t junk[] = {0x03, 0x00, 0x01};
  ASSERT_EQ(b_->send(dcep, wire::kPpidDcep, junk, sizeof junk), SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump([&] { return a_->counters().dcep_malformed == 1; }));
  EXPECT_EQ(ea_.opens.size(), 1u);
  EXPECT_EQ(ea_.messages.size(), 1u);
  // The peer closing the channel forgets it.
  b_->reset_stream(6);
  ASSERT_TRUE(pump([&] { return !ea_.closed_streams.empty(); }));
  EXPECT_EQ(a_->data_channel(6), nullptr);
}

TEST_F(SctpPairTest, CloseAbortsAndThePeerSeesIt) {
  make();
  connect();
  a_->close();
  EXPECT_EQ(a_->state(), SctpState::closed);
  EXPECT_EQ(ea_.states.back(), SctpState::closed);
  ASSERT_TRUE(pump([&] { return b_->state() != SctpState::connected; }));
  EXPECT_EQ(b_->state(), SctpState::failed);  // an ABORT: the association was lost
  uint8_t x = 1;
  EXPECT_EQ(a_->send(stream(0), wire::kPpidBinary, &x, 1),
            SctpAssociation::SendResult::not_connected);
}

TEST_F(SctpPairTest, AListenerMayDestroyItsAssociationFromAMessage) {
  make();
  connect();
  eb_.on_message = [&](const SctpMessage&) { b_.reset(); };
  uint8_t x[3] = {1, 2, 3};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(a_->send(stream(0), wire::kPpidBinary, &x[i], 1), SctpAssociation::SendResult::sent);
  }
  ASSERT_TRUE(pump([&] { return b_ == nullptr; }));
  EXPECT_EQ(eb_.messages.size(), 1u);
  pump([] { return false; }, 50);  // a's packets now go to no one
}

TEST_F(SctpPairTest, TheStackRestartsAfterTheLastAssociationIsGone) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    make();
    connect();
    uint8_t x = static_cast<uint8_t>(round);
    ASSERT_EQ(a_->send(stream(0), wire::kPpidBinary, &x, 1), SctpAssociation::SendResult::sent);
    ASSERT_TRUE(pump([&] { return eb_.messages.size() == static_cast<size_t>(round) + 1; }));
    a_.reset();
    b_.reset();
    to_a_.clear();
    to_b_.clear();
    EXPECT_EQ(sctp_stack::association_count(), 0u);
  }
}

}  // namespace
}  // namespace weir::control
