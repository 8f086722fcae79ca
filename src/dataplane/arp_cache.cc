#include "dataplane/arp_cache.h"

#include <cstring>

namespace weir::dp {

namespace {

// MurmurHash3's finalizer: every input bit reaches every output bit, so addresses that
// differ only in their low byte (a subnet's hosts) spread over the whole table.
uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t hash_key(uint32_t key, uint64_t seed) { return mix(key ^ seed); }

uint64_t hash_key(const wire::Ipv6Address& key, uint64_t seed) {
  uint64_t hi, lo;
  std::memcpy(&hi, key.data(), 8);
  std::memcpy(&lo, key.data() + 8, 8);
  return mix(mix(hi ^ seed) ^ lo);
}

// Never going backwards: a clock read on another core a little behind counts as no time.
uint64_t elapsed(uint64_t now, uint64_t then) { return now >= then ? now - then : 0; }

}  // namespace

template <typename Key>
NeighborCache<Key>::NeighborCache(size_t capacity, uint64_t reachable_ns, uint64_t retry_ns)
    : entries_(capacity == 0 ? 1 : capacity), reachable_ns_(reachable_ns), retry_ns_(retry_ns) {
  size_t slots = 2;
  while (slots < 2 * entries_.size()) slots *= 2;
  slots_.assign(slots, kNone);
  slot_mask_ = slots - 1;
  // The keys come off the wire (ARP senders), so the hash is seeded per cache, from where it
  // landed in memory (ASLR): a neighbor cannot precompute addresses that all collide.
  seed_ = mix(reinterpret_cast<uintptr_t>(slots_.data()));
  for (size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].next = i + 1 < entries_.size() ? static_cast<uint32_t>(i + 1) : kNone;
  }
  free_head_ = 0;
}

template <typename Key>
size_t NeighborCache<Key>::home_slot(const Key& key) const noexcept {
  return static_cast<size_t>(hash_key(key, seed_)) & slot_mask_;
}

template <typename Key>
uint32_t NeighborCache<Key>::find(const Key& key) const noexcept {
  for (size_t s = home_slot(key);; s = (s + 1) & slot_mask_) {
    const uint32_t index = slots_[s];
    if (index == kNone) return kNone;
    if (entries_[index].key == key) return index;
  }
}

template <typename Key>
const wire::MacAddress* NeighborCache<Key>::lookup(const Key& key, uint64_t now_ns) const noexcept {
  const uint32_t index = find(key);
  if (index == kNone) return nullptr;
  const Entry& e = entries_[index];
  if (e.is_static) return &e.mac;
  if (e.has_mac && elapsed(now_ns, e.learned_ns) < reachable_ns_) return &e.mac;
  return nullptr;
}

template <typename Key>
void NeighborCache<Key>::learn(const Key& key, const wire::MacAddress& mac,
                               uint64_t now_ns) noexcept {
  uint32_t index = find(key);
  if (index != kNone) {
    if (entries_[index].is_static) return;
    lru_unlink(index);
  } else {
    index = insert(key);
    if (index == kNone) return;
  }
  Entry& e = entries_[index];
  e.mac = mac;
  e.has_mac = true;
  e.learned_ns = now_ns;
  e.requested = false;
  lru_push_back(index);
}

template <typename Key>
void NeighborCache<Key>::add_static(const Key& key, const wire::MacAddress& mac) noexcept {
  uint32_t index = find(key);
  if (index != kNone) {
    if (!entries_[index].is_static) lru_unlink(index);
  } else {
    index = insert(key);
    if (index == kNone) return;
  }
  Entry& e = entries_[index];
  e.mac = mac;
  e.has_mac = true;
  e.is_static = true;
  e.requested = false;
}

template <typename Key>
bool NeighborCache<Key>::should_request(const Key& key, uint64_t now_ns) noexcept {
  uint32_t index = find(key);
  if (index != kNone) {
    Entry& e = entries_[index];
    if (e.is_static) return false;
    if (e.has_mac && elapsed(now_ns, e.learned_ns) < reachable_ns_) return false;
    if (e.requested && elapsed(now_ns, e.requested_ns) < retry_ns_) return false;
    lru_unlink(index);
  } else {
    index = insert(key);
    // Nowhere to remember the request (every entry static): asking again is all that is left.
    if (index == kNone) return true;
  }
  Entry& e = entries_[index];
  e.requested = true;
  e.requested_ns = now_ns;
  lru_push_back(index);
  return true;
}

template <typename Key>
bool NeighborCache<Key>::remove(const Key& key) noexcept {
  const uint32_t index = find(key);
  if (index == kNone) return false;
  erase(index);
  return true;
}

template <typename Key>
uint32_t NeighborCache<Key>::insert(const Key& key) noexcept {
  if (free_head_ == kNone) {
    if (lru_head_ == kNone) return kNone;  // every entry is static
    erase(lru_head_);
    ++evictions_;
  }
  const uint32_t index = free_head_;
  free_head_ = entries_[index].next;
  entries_[index] = Entry{};
  entries_[index].key = key;
  size_t s = home_slot(key);
  while (slots_[s] != kNone) s = (s + 1) & slot_mask_;
  slots_[s] = index;
  ++size_;
  return index;
}

template <typename Key>
void NeighborCache<Key>::erase(uint32_t index) noexcept {
  Entry& e = entries_[index];
  if (!e.is_static) lru_unlink(index);
  // Backward-shift deletion (no tombstones, so probes stay short however many entries come
  // and go): pull each later entry of the cluster into the hole unless that would move it
  // before its home slot.
  size_t hole = home_slot(e.key);
  while (slots_[hole] != index) hole = (hole + 1) & slot_mask_;
  for (size_t s = (hole + 1) & slot_mask_; slots_[s] != kNone; s = (s + 1) & slot_mask_) {
    const size_t home = home_slot(entries_[slots_[s]].key);
    // Can the entry at s move to hole? Only if its home is not in (hole, s] cyclically.
    const bool home_in_between =
        hole <= s ? (hole < home && home <= s) : (hole < home || home <= s);
    if (!home_in_between) {
      slots_[hole] = slots_[s];
      hole = s;
    }
  }
  slots_[hole] = kNone;
  e = Entry{};
  e.next = free_head_;
  free_head_ = index;
  --size_;
}

template <typename Key>
void NeighborCache<Key>::lru_unlink(uint32_t index) noexcept {
  Entry& e = entries_[index];
  if (e.prev != kNone) {
    entries_[e.prev].next = e.next;
  } else {
    lru_head_ = e.next;
  }
  if (e.next != kNone) {
    entries_[e.next].prev = e.prev;
  } else {
    lru_tail_ = e.prev;
  }
  e.prev = e.next = kNone;
}

template <typename Key>
void NeighborCache<Key>::lru_push_back(uint32_t index) noexcept {
  Entry& e = entries_[index];
  e.prev = lru_tail_;
  e.next = kNone;
  if (lru_tail_ != kNone) {
    entries_[lru_tail_].next = index;
  } else {
    lru_head_ = index;
  }
  lru_tail_ = index;
}

template class NeighborCache<uint32_t>;
template class NeighborCache<wire::Ipv6Address>;

}  // namespace weir::dp
