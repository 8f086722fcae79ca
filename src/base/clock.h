#pragma once

#include <cstdint>
#include <ctime>

namespace weir {

// Monotonic nanoseconds; one vDSO call, no syscall.
inline uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace weir
