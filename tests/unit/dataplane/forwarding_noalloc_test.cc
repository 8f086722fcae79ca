// Proof that the packet path does not touch the heap: after a warm-up, a worker forwards
// SRTP packets to several SRTP consumers while every malloc and operator new in the
// process is counted. The test thread only makes raw send/recv system calls meanwhile.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "forwarding_harness.h"
#include "counting_allocator.h"


namespace weir::dp::testing {
namespace {

class NoAllocation : public WorkerFixture {
 protected:
  // Forwards kPackets packets from one producer to kConsumers consumers, SRTP on both legs
  // or on neither, and returns how many heap allocations the process made meanwhile.
  // simulcast: the producer sends three RID-only encodings in turn (their SSRCs learned in
  // the warm-up) and consumer i prefers layer i % 3, so every layer is forwarded to some
  // consumers and skipped by the others.
  uint64_t forward_and_count(bool srtp, uint64_t* forwarded,
                             SrtpBackend backend = SrtpBackend::openssl, bool simulcast = false) {
    constexpr int kConsumers = 8;
    const std::vector<uint8_t> key_in(30, 0x11), key_out(30, 0x22);
    std::string error;
    Endpoint sender;
    std::vector<std::unique_ptr<Endpoint>> receivers;
    const SocketAddress in = add_transport(1, true, {}, srtp);
    if (srtp) {
      run(SetTransportSrtp{1,
                           SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                               SrtpSession::Direction::inbound, key_in, &error, backend)
                               .release(),
                           nullptr});
    }
    AddProducer producer =
        producer_command(10, 1, simulcast ? 0 : 1111, wire::CodecKind::vp8, identity_pt_map(),
                         no_extensions());
    if (simulcast) {
      producer.encoding_count = 3;
      for (size_t e = 0; e < 3; ++e) {
        producer.encodings[e].rid = {'r', static_cast<char>('0' + e)};
        producer.encodings[e].rid_len = 2;
      }
      producer.mid = {'v'};
      producer.mid_len = 1;
      producer.mid_ext_id = 1;
      producer.rid_ext_id = 2;
      producer.retransmission_packets = 128;
    }
    add_producer(producer);
    // Which packets receiver r gets: all of them, or (simulcast) its layer's.
    auto gets = [&](int r, int i) { return !simulcast || r % 3 == i % 3; };
    for (int i = 0; i < kConsumers; ++i) {
      receivers.push_back(std::make_unique<Endpoint>());
      add_transport(100 + i, false, receivers.back()->address(), srtp);
      if (srtp) {
        run(SetTransportSrtp{static_cast<TransportId>(100 + i), nullptr,
                             SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                                 SrtpSession::Direction::outbound, key_out,
                                                 &error, backend)
                                 .release()});
      }
      AddConsumer consumer =
          consumer_command(200 + i, 10, 100 + i, 7000 + i, true, identity_pt_map(), no_extensions());
      consumer.preferred_spatial_layer = static_cast<uint8_t>(i % 3);
      add_consumer(consumer);
    }
    auto endpoint = SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                        SrtpSession::Direction::outbound, key_in, &error);
    // Protect everything up front: the test thread must not allocate inside the window.
    std::vector<std::vector<uint8_t>> packets;
    for (int i = 0; i < kPackets + 10; ++i) {
      RtpSpec s;
      s.seq = static_cast<uint16_t>(i + 1);
      s.payload = vp8_payload(i % 30 == 0, 1100);
      if (simulcast) {  // round robin over the layers, each its own SSRC and numbering
        s.ssrc = 100u + static_cast<uint32_t>(i % 3);
        s.seq = static_cast<uint16_t>(i / 3 + 1);
        s.payload = vp8_payload((i / 3) % 10 == 0, 1100);
        if (i < 3) s.extensions = {{1, {'v'}}, {2, {'r', static_cast<uint8_t>('0' + i)}}};
      }
      auto p = make_rtp(s);
      size_t len = p.size();
      if (srtp) {
        p.resize(len + SrtpSession::kMaxTrailer);
        EXPECT_EQ(endpoint->protect_rtp(p.data(), len, p.size()), SrtpStatus::ok);
        p.resize(len);
      }
      packets.push_back(std::move(p));
    }
    std::vector<uint8_t> sink(2048);
    // Receives what each receiver gets of packets [from, to).
    auto drain = [&](int from, int to) {
      for (size_t r = 0; r < receivers.size(); ++r)
        for (int k = from; k < to; ++k) {
          if (!gets(static_cast<int>(r), k)) continue;
          while (::recv(receivers[r]->fd(), sink.data(), sink.size(), 0) < 0 && errno == EINTR) {
          }
        }
    };
    // Warm-up: let every lazy path (comedia learning, first key frame) run once.
    for (int i = 0; i < 10; ++i) {
      const auto& p = packets[static_cast<size_t>(i)];
      ::sendto(sender.fd(), p.data(), p.size(), 0, in.sockaddr_ptr(), in.length());
    }
    drain(0, 10);
    uint64_t before = 0;
    for (auto& c : consumers_) before += c->packets.get();

    g_allocations = 0;
    g_counting = true;
    int drained = 10;
    for (int i = 10; i < kPackets + 10; ++i) {
      const auto& p = packets[static_cast<size_t>(i)];
      ::sendto(sender.fd(), p.data(), p.size(), 0, in.sockaddr_ptr(), in.length());
      if (i + 1 - drained == 16) {  // keep the receive queues short
        drain(drained, i + 1);
        drained = i + 1;
      }
    }
    drain(drained, kPackets + 10);
    g_counting = false;
    uint64_t total = 0;
    for (auto& c : consumers_) total += c->packets.get();
    *forwarded = total - before;
    return g_allocations.load();
  }

  static constexpr int kPackets = 1000;
};

TEST_F(NoAllocation, SrtpForwardingAllocatesNothing) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer owns malloc in this build";
#endif
  uint64_t forwarded = 0;
  EXPECT_EQ(forward_and_count(true, &forwarded, SrtpBackend::openssl), 0u);
  EXPECT_EQ(forwarded, 8u * kPackets);
}

TEST_F(NoAllocation, SimulcastForwardingAllocatesNothing) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer owns malloc in this build";
#endif
  uint64_t forwarded = 0;
  EXPECT_EQ(forward_and_count(true, &forwarded, SrtpBackend::openssl, /*simulcast=*/true), 0u);
  // Layers 0 and 1 reach 3 consumers each, layer 2 reaches 2: 8 of every 3 packets.
  uint64_t expected = 0;
  for (int i = 10; i < kPackets + 10; ++i) expected += i % 3 == 2 ? 2 : 3;
  EXPECT_EQ(forwarded, expected);
}

TEST_F(NoAllocation, PlainForwardingAllocatesNothing) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer owns malloc in this build";
#endif
  uint64_t forwarded = 0;
  EXPECT_EQ(forward_and_count(false, &forwarded), 0u);
  EXPECT_EQ(forwarded, 8u * kPackets);
}

// Debian's libsrtp2 is built on NSS, whose AES and HMAC contexts are created per call: it
// allocates on every protect and unprotect, which is why OpenSSL is the default backend.
// With libsrtp chosen, weir's own share must still be zero: the allocations seen while
// forwarding must be exactly libsrtp's, measured here per call.
TEST_F(NoAllocation, LibsrtpBackendAddsNoAllocationBeyondLibsrtpItself) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer owns malloc in this build";
#endif
  const std::vector<uint8_t> key(30, 0x33);
  auto out = SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                 SrtpSession::Direction::outbound, key, nullptr,
                                 SrtpBackend::libsrtp);
  auto in = SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                SrtpSession::Direction::inbound, key, nullptr,
                                SrtpBackend::libsrtp);
  // Per-call counts in steady state: the first call of a session takes a different path.
  constexpr int kCalls = 10;
  std::vector<std::vector<uint8_t>> pkts;
  for (int i = 0; i <= kCalls; ++i) {
    RtpSpec s;
    s.seq = static_cast<uint16_t>(i + 1);
    s.payload.assign(1100, 1);
    pkts.push_back(make_rtp(s));
    pkts.back().resize(pkts.back().size() + SrtpSession::kMaxTrailer);
  }
  std::vector<size_t> lens(pkts.size(), pkts[0].size() - SrtpSession::kMaxTrailer);
  out->protect_rtp(pkts[0].data(), lens[0], pkts[0].size());
  in->unprotect_rtp(pkts[0].data(), lens[0]);
  g_allocations = 0;
  g_counting = true;
  for (int i = 1; i <= kCalls; ++i) out->protect_rtp(pkts[i].data(), lens[i], pkts[i].size());
  const uint64_t per_protect = g_allocations.exchange(0) / kCalls;
  for (int i = 1; i <= kCalls; ++i) in->unprotect_rtp(pkts[i].data(), lens[i]);
  const uint64_t per_unprotect = g_allocations.exchange(0) / kCalls;
  g_counting = false;
  RecordProperty("libsrtp_allocations_per_protect", static_cast<int>(per_protect));

  uint64_t forwarded = 0;
  const uint64_t allocations = forward_and_count(true, &forwarded, SrtpBackend::libsrtp);
  EXPECT_EQ(forwarded, 8u * kPackets);
  EXPECT_EQ(allocations, kPackets * per_unprotect + forwarded * per_protect)
      << "libsrtp makes " << per_protect << " per protect and " << per_unprotect
      << " per unprotect";
}

}  // namespace
}  // namespace weir::dp::testing
