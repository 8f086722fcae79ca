// For the no-allocation tests: replaces the process's malloc, calloc, realloc, free and
// operator new/delete with versions that count every allocation while g_counting is set.
// Include it in exactly one file of a test executable (the replacements are definitions).
// AddressSanitizer owns malloc, so under it WEIR_ASAN is defined, nothing is replaced and
// the tests skip themselves.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#define WEIR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEIR_ASAN 1
#endif
#endif

inline std::atomic<bool> g_counting{false};
inline std::atomic<uint64_t> g_allocations{0};

#ifndef WEIR_ASAN
inline void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void __libc_free(void* p);

void* malloc(size_t size) {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  note_allocation();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  note_allocation();
  return __libc_realloc(p, size);
}
void free(void* p) { __libc_free(p); }
}

void* operator new(size_t size) {
  note_allocation();
  void* p = __libc_malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  note_allocation();
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& t) noexcept {
  return operator new(size, t);
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t) noexcept { __libc_free(p); }
#endif

// What the counter saw while a string and a malloc were made: at least 2, or a
// no-allocation test built on it could never fail. Each such test checks it.
inline uint64_t allocations_seen_by_the_counter() {
  g_allocations = 0;
  g_counting = true;
  auto* p = new std::string(100, 'x');
  void* m = std::malloc(64);
  g_counting = false;
  std::free(m);
  delete p;
  return g_allocations.load();
}
