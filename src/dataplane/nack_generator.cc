#include "dataplane/nack_generator.h"

#include <algorithm>

namespace weir::dp {

void NackGenerator::remove_at(size_t i) {
  std::copy(entries_.begin() + static_cast<ptrdiff_t>(i) + 1,
            entries_.begin() + static_cast<ptrdiff_t>(count_),
            entries_.begin() + static_cast<ptrdiff_t>(i));
  --count_;
}

void NackGenerator::on_packet(uint16_t seq, uint16_t gap, uint64_t now_ns) {
  // A packet that moved the maximum forward was never missing, so only a packet that did
  // not (a retransmission, a late one) can be in the table.
  if (gap == 0) {
    for (size_t i = 0; i < count_; ++i) {
      if (entries_[i].seq == seq) {
        remove_at(i);
        break;
      }
    }
    return;
  }
  if (gap > options_.max_gap) return;

  // Only the newest kCapacity of a long gap can be tracked; the ones before are lost for
  // good, and so are the oldest entries that make room for the rest.
  const size_t add = std::min<size_t>(gap, kCapacity);
  given_up_ += gap - add;
  if (count_ + add > kCapacity) {
    const size_t drop = count_ + add - kCapacity;
    std::copy(entries_.begin() + static_cast<ptrdiff_t>(drop),
              entries_.begin() + static_cast<ptrdiff_t>(count_), entries_.begin());
    count_ -= drop;
    given_up_ += drop;
  }
  for (size_t k = add; k > 0; --k)
    entries_[count_++] = Entry{static_cast<uint16_t>(seq - k), 0, now_ns, 0};
}

size_t NackGenerator::due(uint64_t now_ns, std::span<uint16_t> out) {
  // One stable compaction pass: expired entries are squeezed out while the rest keep
  // their order (oldest first), so a call costs O(pending) however many expire.
  size_t n = 0;
  size_t kept = 0;
  for (size_t i = 0; i < count_; ++i) {
    Entry e = entries_[i];
    if (now_ns - e.first_ns > options_.max_age_ns || e.retries >= options_.max_retries) {
      ++given_up_;
      continue;
    }
    if (n < out.size() &&
        (e.last_sent_ns == 0 || now_ns - e.last_sent_ns >= options_.retry_interval_ns)) {
      out[n++] = e.seq;
      ++e.retries;
      e.last_sent_ns = now_ns;
    }
    entries_[kept++] = e;
  }
  count_ = kept;
  return n;
}

}  // namespace weir::dp
