// The worker's neighbor cache: learning, expiry, static entries, request rate limiting,
// eviction order at capacity, and the hash table staying consistent through heavy churn
// (checked against a simple model).
#include "dataplane/arp_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace weir::dp {
namespace {

using wire::MacAddress;

constexpr uint64_t kSecond = 1'000'000'000;

MacAddress mac(uint8_t last) { return MacAddress{{0x02, 0, 0, 0, 0, last}}; }

TEST(ArpCache, LearnsAndLooksUp) {
  ArpCache cache;
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.lookup(0xC0000201, 0), nullptr);
  cache.learn(0xC0000201, mac(1), 10);
  ASSERT_NE(cache.lookup(0xC0000201, 10), nullptr);
  EXPECT_EQ(*cache.lookup(0xC0000201, 10), mac(1));
  EXPECT_EQ(cache.lookup(0xC0000202, 10), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  // Relearning refreshes, and a new MAC replaces the old.
  cache.learn(0xC0000201, mac(9), 20);
  EXPECT_EQ(*cache.lookup(0xC0000201, 20), mac(9));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.evictions(), 0u);
  EXPECT_EQ(cache.capacity(), 1024u);
}

TEST(ArpCache, EntriesExpireAfterReachableTime) {
  ArpCache cache(16, 300 * kSecond, kSecond);
  cache.learn(1, mac(1), 100 * kSecond);
  EXPECT_NE(cache.lookup(1, 399 * kSecond), nullptr);
  EXPECT_EQ(cache.lookup(1, 400 * kSecond), nullptr);
  EXPECT_EQ(cache.size(), 1u);  // kept (expired) until reused
  // A clock read a little behind the learning time is not an expiry.
  EXPECT_NE(cache.lookup(1, 99 * kSecond), nullptr);
  cache.learn(1, mac(1), 400 * kSecond);
  EXPECT_NE(cache.lookup(1, 699 * kSecond), nullptr);
}

TEST(ArpCache, StaticEntriesNeverExpireNorYieldToLearning) {
  ArpCache cache(4);
  cache.learn(7, mac(1), 0);
  cache.add_static(7, mac(2));  // replaces the learned one
  cache.learn(7, mac(3), 5);    // ignored: static wins
  EXPECT_EQ(*cache.lookup(7, UINT64_MAX), mac(2));
  EXPECT_FALSE(cache.should_request(7, UINT64_MAX));
  EXPECT_EQ(cache.size(), 1u);
  cache.add_static(7, mac(4));  // a static entry can be redefined
  EXPECT_EQ(*cache.lookup(7, 0), mac(4));
  EXPECT_TRUE(cache.remove(7));
  EXPECT_FALSE(cache.remove(7));
  EXPECT_EQ(cache.lookup(7, 0), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ArpCache, RequestsAreRateLimited) {
  ArpCache cache(16, 300 * kSecond, kSecond);
  EXPECT_TRUE(cache.should_request(5, 0));
  EXPECT_FALSE(cache.should_request(5, 1));
  EXPECT_FALSE(cache.should_request(5, kSecond - 1));
  EXPECT_TRUE(cache.should_request(5, kSecond));
  EXPECT_FALSE(cache.should_request(5, kSecond + 10));
  EXPECT_EQ(cache.lookup(5, kSecond), nullptr);  // pending is not usable
  EXPECT_EQ(cache.size(), 1u);
  // Another address has its own timer.
  EXPECT_TRUE(cache.should_request(6, kSecond + 10));
  // The answer arrives: no more requests while it is fresh.
  cache.learn(5, mac(5), 2 * kSecond);
  EXPECT_FALSE(cache.should_request(5, 2 * kSecond));
  EXPECT_FALSE(cache.should_request(5, 301 * kSecond));
  // Expired: ask again (once per retry interval).
  EXPECT_TRUE(cache.should_request(5, 302 * kSecond));
  EXPECT_FALSE(cache.should_request(5, 302 * kSecond + 1));
  EXPECT_EQ(cache.lookup(5, 302 * kSecond), nullptr);
}

TEST(ArpCache, FullCacheEvictsTheOldestNonStaticEntry) {
  ArpCache cache(4);
  cache.add_static(100, mac(100));
  cache.learn(1, mac(1), 10);
  cache.learn(2, mac(2), 20);
  cache.learn(3, mac(3), 30);
  EXPECT_EQ(cache.size(), 4u);
  cache.learn(1, mac(1), 40);  // refresh: 2 is now the oldest
  cache.learn(4, mac(4), 50);
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.lookup(2, 50), nullptr);
  EXPECT_NE(cache.lookup(1, 50), nullptr);
  EXPECT_NE(cache.lookup(3, 50), nullptr);
  EXPECT_NE(cache.lookup(4, 50), nullptr);
  EXPECT_NE(cache.lookup(100, 50), nullptr);
  // A pending request takes an entry too, evicting the oldest (3).
  EXPECT_TRUE(cache.should_request(5, 60));
  EXPECT_EQ(cache.evictions(), 2u);
  EXPECT_EQ(cache.lookup(3, 60), nullptr);
  // Statics are never evicted.
  for (uint32_t ip = 200; ip < 210; ++ip) cache.learn(ip, mac(static_cast<uint8_t>(ip)), 70 + ip);
  EXPECT_NE(cache.lookup(100, 1000), nullptr);
  EXPECT_EQ(cache.size(), 4u);
}

TEST(ArpCache, AllStaticMeansNewKeysAreNotStored) {
  ArpCache cache(2);
  cache.add_static(1, mac(1));
  cache.add_static(2, mac(2));
  cache.learn(3, mac(3), 0);
  cache.add_static(4, mac(4));
  EXPECT_EQ(cache.lookup(3, 0), nullptr);
  EXPECT_EQ(cache.lookup(4, 0), nullptr);
  EXPECT_EQ(cache.size(), 2u);
  // Nowhere to remember a request: every call says to send one.
  EXPECT_TRUE(cache.should_request(3, 0));
  EXPECT_TRUE(cache.should_request(3, 1));
  EXPECT_EQ(cache.evictions(), 0u);
}

TEST(ArpCache, CapacityZeroStillHoldsOne) {
  ArpCache cache(0);
  EXPECT_EQ(cache.capacity(), 1u);
  cache.learn(1, mac(1), 0);
  cache.learn(2, mac(2), 1);
  EXPECT_EQ(cache.lookup(1, 1), nullptr);
  EXPECT_NE(cache.lookup(2, 1), nullptr);
}

// Random learn/static/request/remove against a map that models the same rules; checks
// every key after every step, which exercises backward-shift deletion in crowded clusters.
TEST(ArpCache, MatchesAModelUnderChurn) {
  constexpr size_t kCapacity = 64;
  ArpCache cache(kCapacity, 1000, 10);
  struct Model {
    MacAddress mac;
    bool has_mac = false, is_static = false, requested = false;
    uint64_t learned = 0, requested_at = 0, touched = 0;
  };
  std::map<uint32_t, Model> model;
  std::mt19937 rng(826);
  uint64_t now = 0;
  uint64_t order = 0;  // insertion/refresh order for the model's LRU
  auto make_room = [&]() {
    if (model.size() < kCapacity) return true;
    auto oldest = model.end();
    for (auto it = model.begin(); it != model.end(); ++it) {
      if (!it->second.is_static &&
          (oldest == model.end() || it->second.touched < oldest->second.touched)) {
        oldest = it;
      }
    }
    if (oldest == model.end()) return false;
    model.erase(oldest);
    return true;
  };
  for (int step = 0; step < 20000; ++step) {
    now += rng() % 5;
    // Keys from a small range (lots of hits) with low bits that collide in the table.
    const uint32_t ip = 0x0A000000 + (rng() % 200) * 256;
    const MacAddress m = mac(static_cast<uint8_t>(rng()));
    const unsigned op = rng() % 100;
    auto it = model.find(ip);
    if (op < 50) {
      cache.learn(ip, m, now);
      const bool is_static = it != model.end() && it->second.is_static;
      if (!is_static && (it != model.end() || make_room())) {
        Model& e = model[ip];
        e.mac = m;
        e.has_mac = true;
        e.learned = now;
        e.requested = false;
        e.touched = ++order;
      }
    } else if (op < 53) {
      cache.add_static(ip, m);
      if (it != model.end() || make_room()) {
        Model& e = model[ip];
        e.mac = m;
        e.has_mac = e.is_static = true;
        e.requested = false;
      }
    } else if (op < 85) {
      bool want;
      if (it != model.end()) {
        Model& e = it->second;
        const bool usable = e.is_static || (e.has_mac && now - e.learned < 1000);
        want = !usable && !(e.requested && now - e.requested_at < 10);
        if (want) {
          e.requested = true;
          e.requested_at = now;
          e.touched = ++order;
        }
      } else {
        want = true;
        if (make_room()) {
          Model& e = model[ip];
          e.requested = true;
          e.requested_at = now;
          e.touched = ++order;
        }
      }
      ASSERT_EQ(cache.should_request(ip, now), want) << step;
    } else {
      ASSERT_EQ(cache.remove(ip), it != model.end()) << step;
      model.erase(ip);
    }
    ASSERT_EQ(cache.size(), model.size()) << step;
    for (uint32_t k = 0; k < 200; ++k) {
      const uint32_t key = 0x0A000000 + k * 256;
      auto mt = model.find(key);
      const MacAddress* got = cache.lookup(key, now);
      const bool usable =
          mt != model.end() &&
          (mt->second.is_static || (mt->second.has_mac && now - mt->second.learned < 1000));
      ASSERT_EQ(got != nullptr, usable) << step << " " << k;
      if (got) {
        ASSERT_EQ(*got, mt->second.mac);
      }
    }
  }
  EXPECT_GT(cache.evictions(), 0u);
}

TEST(NeighborCache6, KeysByIpv6Address) {
  NeighborCache6 cache(2);
  const auto a = *wire::parse_ipv6_address("2001:db8::1");
  const auto b = *wire::parse_ipv6_address("2001:db8::2");
  const auto c = *wire::parse_ipv6_address("fe80::1");
  cache.learn(a, mac(1), 0);
  EXPECT_TRUE(cache.should_request(b, 0));
  EXPECT_FALSE(cache.should_request(b, 1));
  cache.learn(b, mac(2), 2);
  EXPECT_EQ(*cache.lookup(a, 3), mac(1));
  EXPECT_EQ(*cache.lookup(b, 3), mac(2));
  cache.learn(c, mac(3), 4);  // evicts a
  EXPECT_EQ(cache.lookup(a, 4), nullptr);
  EXPECT_EQ(*cache.lookup(c, 4), mac(3));
  EXPECT_EQ(cache.evictions(), 1u);
}

}  // namespace
}  // namespace weir::dp
