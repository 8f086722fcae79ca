// A bounded single-producer/single-consumer ring. One thread pushes, one thread pops;
// neither ever blocks or takes a lock. Head and tail live on separate cache lines and each
// side caches the other's index, so the common case touches no shared line.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace weir::dp {

template <typename T>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity_pow2)
      : mask_(capacity_pow2 - 1), slots_(std::make_unique<Slot[]>(capacity_pow2)) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  ~SpscRing() {
    while (pop()) {
    }
  }

  // Producer side. false when full.
  bool push(T&& value) {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head - tail_cache_ > mask_) return false;
    }
    new (slots_[head & mask_].bytes) T(std::move(value));
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. nullopt when empty.
  std::optional<T> pop() {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return std::nullopt;
    }
    T* p = std::launder(reinterpret_cast<T*>(slots_[tail & mask_].bytes));
    std::optional<T> out(std::move(*p));
    p->~T();
    tail_.store(tail + 1, std::memory_order_release);
    return out;
  }

  bool empty() const {
    return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
  }
  size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
  };
  const size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;  // producer's view of tail
  alignas(64) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;  // consumer's view of head
};

}  // namespace weir::dp
