// SRTP cost per packet: the crypto bound the forwarding figures are compared with (docs:
// benchmarks.md, "Crypto bound"). Names read SrtpProtect/<suite>/<payload>; the fan-out
// batch figures SrtpProtectBatch/<suite>/<batch> and SrtpProtectLoop/<suite>/<batch>.
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/srtp_session.h"

namespace weir::dp {
namespace {

constexpr size_t kHeader = 12;
constexpr std::array<SrtpSuite, 3> kSuites{SrtpSuite::aes_cm_128_hmac_sha1_80,
                                           SrtpSuite::aes_cm_128_hmac_sha1_32,
                                           SrtpSuite::aead_aes_128_gcm};

std::vector<uint8_t> master_for(SrtpSuite suite) {
  std::vector<uint8_t> m(srtp_master_length(suite));
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(0x5a ^ i);
  return m;
}

std::vector<uint8_t> plaintext(size_t payload) {
  std::vector<uint8_t> p(kHeader + payload);
  for (size_t i = kHeader; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 13);
  p[0] = 0x80;
  p[1] = 96;
  p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
  return p;
}

void set_seq(uint8_t* packet, uint16_t seq) {
  packet[2] = static_cast<uint8_t>(seq >> 8);
  packet[3] = static_cast<uint8_t>(seq);
}

void BM_SrtpProtect(benchmark::State& state, SrtpSuite suite, size_t payload,
                    SrtpBackend backend) {
  std::string error;
  auto tx = SrtpSession::create(suite, SrtpSession::Direction::outbound, master_for(suite),
                                &error, backend);
  if (!tx) {
    state.SkipWithError(error.c_str());
    return;
  }
  const std::vector<uint8_t> plain = plaintext(payload);
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxTrailer);
  uint16_t seq = 0;
  for (auto _ : state) {
    // The copy of the template into the TX buffer is part of the measured work: the
    // forwarder also writes each consumer's packet into a fresh buffer before protecting.
    std::memcpy(buf.data(), plain.data(), plain.size());
    set_seq(buf.data(), seq++);
    size_t len = plain.size();
    if (tx->protect_rtp(buf.data(), len, buf.size()) != SrtpStatus::ok) {
      state.SkipWithError("protect_rtp failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
}

// Protected packets are made before timing; each iteration copies one into the RX buffer
// (as a receive would have put it there) and unprotects it. The receiver's replay window
// would reject a repeat, so the pool is sized to outlast any plausible iteration count
// and a fresh receiver is created, untimed, when it wraps.
void BM_SrtpUnprotect(benchmark::State& state, SrtpSuite suite, size_t payload) {
  constexpr size_t kPool = 1 << 14;
  std::string error;
  const std::vector<uint8_t> master = master_for(suite);
  auto tx = SrtpSession::create(suite, SrtpSession::Direction::outbound, master, &error);
  auto rx = SrtpSession::create(suite, SrtpSession::Direction::inbound, master, &error);
  if (!tx || !rx) {
    state.SkipWithError(error.c_str());
    return;
  }
  const std::vector<uint8_t> plain = plaintext(payload);
  const size_t stride = plain.size() + SrtpSession::kMaxTrailer;
  std::vector<uint8_t> pool(kPool * stride);
  std::vector<size_t> lens(kPool);
  for (size_t i = 0; i < kPool; ++i) {
    uint8_t* p = pool.data() + i * stride;
    std::memcpy(p, plain.data(), plain.size());
    set_seq(p, static_cast<uint16_t>(i));
    lens[i] = plain.size();
    if (tx->protect_rtp(p, lens[i], stride) != SrtpStatus::ok) {
      state.SkipWithError("protect_rtp failed");
      return;
    }
  }
  std::vector<uint8_t> buf(stride);
  size_t next = 0;
  for (auto _ : state) {
    if (next == kPool) {
      state.PauseTiming();
      rx = SrtpSession::create(suite, SrtpSession::Direction::inbound, master, &error);
      next = 0;
      state.ResumeTiming();
    }
    size_t len = lens[next];
    std::memcpy(buf.data(), pool.data() + next * stride, len);
    ++next;
    if (rx->unprotect_rtp(buf.data(), len) != SrtpStatus::ok) {
      state.SkipWithError("unprotect_rtp failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
}

// One forward's fan-out: `batch` consumers, each on its own session (key) and SSRC, get
// a copy of the same 1,100-byte-payload packet protected. Reports per-packet figures
// (items = packets). `batched` runs srtp_protect_rtp_batch (ipsec-mb unless
// WEIR_SRTP_BATCH=loop); otherwise the loop of protect_rtp it replaces (whose lone GCM
// packets are on ipsec-mb too unless WEIR_SRTP_BATCH=loop: run so for all-OpenSSL figures).
void BM_SrtpProtectFanOut(benchmark::State& state, SrtpSuite suite, size_t batch, bool batched) {
  constexpr size_t kPayload = 1100;
  std::vector<std::unique_ptr<SrtpSession>> sessions;
  for (size_t i = 0; i < batch; ++i) {
    std::vector<uint8_t> master = master_for(suite);
    master[0] = static_cast<uint8_t>(i);
    master[1] = static_cast<uint8_t>(i >> 8);
    std::string error;
    sessions.push_back(
        SrtpSession::create(suite, SrtpSession::Direction::outbound, master, &error));
    if (!sessions.back()) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
  const std::vector<uint8_t> plain = plaintext(kPayload);
  const size_t stride = plain.size() + SrtpSession::kMaxTrailer;
  std::vector<uint8_t> buffers(batch * stride);
  std::vector<SrtpProtectRequest> requests(batch);
  uint16_t seq = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) {
      uint8_t* p = buffers.data() + i * stride;
      std::memcpy(p, plain.data(), plain.size());
      set_seq(p, seq);
      p[11] = static_cast<uint8_t>(i);  // the consumer's SSRC
      requests[i] = {sessions[i].get(), p, plain.size(), stride, SrtpStatus::other};
    }
    ++seq;
    if (batched) {
      srtp_protect_rtp_batch(requests);
    } else {
      for (SrtpProtectRequest& r : requests) {
        r.status = r.session->protect_rtp(r.packet, r.len, r.capacity);
      }
    }
    for (const SrtpProtectRequest& r : requests) {
      if (r.status != SrtpStatus::ok) state.SkipWithError("protect failed");
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch * plain.size()));
  state.SetLabel(batched ? srtp_batch_mode_name(srtp_batch_mode()) : "protect_rtp");
}

// Registered by hand so that the names carry the SDP suite name rather than an index.
const bool kRegistered = [] {
  for (SrtpSuite suite : kSuites) {
    for (size_t payload : {size_t{160}, size_t{1100}, size_t{1200}}) {
      const std::string name =
          std::string("SrtpProtect/") + srtp_suite_name(suite) + "/" + std::to_string(payload);
      benchmark::RegisterBenchmark(name.c_str(), BM_SrtpProtect, suite, payload,
                                   default_srtp_backend());
    }
    const std::string name = std::string("SrtpUnprotect/") + srtp_suite_name(suite) + "/1100";
    benchmark::RegisterBenchmark(name.c_str(), BM_SrtpUnprotect, suite, size_t{1100});
    // Debian's libsrtp2 (NSS) for comparison: the reason OpenSSL is the default backend.
    const std::string lib = std::string("SrtpProtectLibsrtp/") + srtp_suite_name(suite) + "/1100";
    benchmark::RegisterBenchmark(lib.c_str(), BM_SrtpProtect, suite, size_t{1100},
                                 SrtpBackend::libsrtp);
    for (size_t batch : {size_t{16}, size_t{64}, size_t{128}, size_t{256}}) {
      const std::string tail = std::string(srtp_suite_name(suite)) + "/" + std::to_string(batch);
      benchmark::RegisterBenchmark(("SrtpProtectBatch/" + tail).c_str(), BM_SrtpProtectFanOut,
                                   suite, batch, true);
      benchmark::RegisterBenchmark(("SrtpProtectLoop/" + tail).c_str(), BM_SrtpProtectFanOut, suite,
                                   batch, false);
    }
  }
  return true;
}();

}  // namespace
}  // namespace weir::dp
