// The neighbor cache of one worker's userspace network stack: IPv4 -> MAC (ArpCache) and,
// the same code keyed by address, IPv6 -> MAC (NeighborCache6). Fixed capacity; all memory
// is taken at construction, so nothing on the packet path allocates. Times are passed in
// (nanoseconds of any monotonic clock), which keeps it deterministic under test. Not
// thread-safe: it belongs to one worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "wire/ethernet_frame.h"
#include "wire/ipv6_packet.h"

namespace weir::dp {

template <typename Key>
class NeighborCache {
 public:
  static constexpr uint64_t kDefaultReachableNs = 300'000'000'000;  // 5 min, as Linux's gc
  static constexpr uint64_t kDefaultRetryNs = 1'000'000'000;        // RFC 1122 2.3.2.1

  explicit NeighborCache(size_t capacity = 1024, uint64_t reachable_ns = kDefaultReachableNs,
                         uint64_t retry_ns = kDefaultRetryNs);

  // The MAC of a static entry, or of one learned less than reachable_ns before now_ns;
  // nullptr otherwise. The pointer stays valid until the next non-const call.
  const wire::MacAddress* lookup(const Key& key, uint64_t now_ns) const noexcept;

  // Inserts or refreshes a learned entry (a static one is left as it is). When the cache is
  // full a new key evicts the entry least recently learned or requested; static entries are
  // never evicted, and when every entry is static the new key is not stored.
  void learn(const Key& key, const wire::MacAddress& mac, uint64_t now_ns) noexcept;

  // An entry that never expires and is never evicted (replaces a learned one). Not stored
  // when every entry is already static and the cache is full.
  void add_static(const Key& key, const wire::MacAddress& mac) noexcept;

  // true, and remembers now_ns, when key has no usable entry and no request for it went out
  // within retry_ns: the caller then sends one ARP request / neighbor solicitation. The
  // pending request takes an entry (evicting like learn); learning the key clears it.
  bool should_request(const Key& key, uint64_t now_ns) noexcept;

  // Forgets key (static or not); false if it was not there.
  bool remove(const Key& key) noexcept;

  // Entries held: static, learned (expired ones too, until reused) and pending requests.
  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return entries_.size(); }
  // Entries dropped to make room for another key.
  uint64_t evictions() const noexcept { return evictions_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Entry {
    Key key{};
    wire::MacAddress mac;
    uint64_t learned_ns = 0;
    uint64_t requested_ns = 0;
    uint32_t prev = kNone, next = kNone;  // LRU list (non-static) or free list (next only)
    bool has_mac = false;
    bool is_static = false;
    bool requested = false;
  };

  size_t home_slot(const Key& key) const noexcept;
  uint32_t find(const Key& key) const noexcept;  // entry index or kNone
  // A fresh entry for key (evicting if full), linked nowhere; kNone if all are static.
  uint32_t insert(const Key& key) noexcept;
  void erase(uint32_t index) noexcept;  // from the index, the LRU list and into the free list
  void lru_unlink(uint32_t index) noexcept;
  void lru_push_back(uint32_t index) noexcept;  // most recent at the back

  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // open addressing with linear probing, load <= 1/2
  size_t slot_mask_ = 0;
  uint64_t seed_ = 0;
  uint64_t reachable_ns_;
  uint64_t retry_ns_;
  uint32_t free_head_ = kNone;
  uint32_t lru_head_ = kNone, lru_tail_ = kNone;
  size_t size_ = 0;
  uint64_t evictions_ = 0;
};

extern template class NeighborCache<uint32_t>;
extern template class NeighborCache<wire::Ipv6Address>;

// IPv4 addresses in host byte order, as everywhere in the network stack.
class ArpCache : public NeighborCache<uint32_t> {
 public:
  explicit ArpCache(size_t capacity = 1024, uint64_t reachable_ns = kDefaultReachableNs,
                    uint64_t retry_ns = kDefaultRetryNs)
      : NeighborCache(capacity, reachable_ns, retry_ns) {}
};

class NeighborCache6 : public NeighborCache<wire::Ipv6Address> {
 public:
  explicit NeighborCache6(size_t capacity = 1024, uint64_t reachable_ns = kDefaultReachableNs,
                          uint64_t retry_ns = kDefaultRetryNs)
      : NeighborCache(capacity, reachable_ns, retry_ns) {}
};

}  // namespace weir::dp
