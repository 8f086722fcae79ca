// The receiver side of generic NACK (RFC 4585) for one producer stream: remembers the
// sequence numbers a gap skipped, asks for each again at most max_retries times, spaced
// by retry_interval, and forgets it when it arrives (retransmitted) or grows too old.
// A fixed table: no allocation after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace weir::dp {

class NackGenerator {
 public:
  static constexpr size_t kCapacity = 256;  // missing packets tracked at once

  struct Options {
    uint64_t retry_interval_ns = 100'000'000;  // between two requests for one packet
    uint8_t max_retries = 10;
    uint64_t max_age_ns = 1'000'000'000;  // then the packet is given up
    uint16_t max_gap = 1000;  // a larger jump is a stream restart, not loss: nothing asked
  };

  NackGenerator() : NackGenerator(Options{}) {}
  explicit NackGenerator(const Options& options) : options_(options) {}

  // A packet arrived. gap: how many sequence numbers before seq were skipped (0: none).
  // Missing ones are added (the oldest entries are dropped when the table is full).
  void on_packet(uint16_t seq, uint16_t gap, uint64_t now_ns);
  // Fills out with the sequence numbers to request now, oldest loss first, and
  // marks them requested. Returns how many.
  size_t due(uint64_t now_ns, std::span<uint16_t> out);
  size_t pending() const { return count_; }
  void clear() { count_ = 0; }
  uint64_t given_up() const { return given_up_; }  // packets never recovered

 private:
  struct Entry {
    uint16_t seq;
    uint8_t retries;
    uint64_t first_ns;
    uint64_t last_sent_ns;  // 0: not requested yet
  };
  void remove_at(size_t i);

  Options options_;
  std::array<Entry, kCapacity> entries_{};
  size_t count_ = 0;  // entries_[0..count_) in ascending order of first_ns
  uint64_t given_up_ = 0;
};

}  // namespace weir::dp
