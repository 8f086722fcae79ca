#include "srtp_keys.h"

#include <gtest/gtest.h>

namespace weir::pktgen {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    const std::string p(plain);
    const std::vector<uint8_t> bytes(p.begin(), p.end());
    EXPECT_EQ(base64_encode(bytes), encoded);
    std::vector<uint8_t> back;
    ASSERT_TRUE(base64_decode(encoded, back)) << encoded;
    EXPECT_EQ(back, bytes) << encoded;
  }
}

TEST(Base64, SrtpMasterKeyLength) {
  // A 30-byte AES_CM master key+salt as mediasoup sends it is 40 characters.
  std::vector<uint8_t> key;
  ASSERT_TRUE(base64_decode("ZnQ3eWJraDg0d3ZoYzM5cXN1Y2pnaHU5NWxrZTVv", key));
  EXPECT_EQ(key.size(), 30u);
}

TEST(Base64, RejectsGarbage) {
  std::vector<uint8_t> out;
  EXPECT_FALSE(base64_decode("abc", out));
  EXPECT_FALSE(base64_decode("ab!d", out));
}

TEST(RandomBytes, DifferEachCall) {
  EXPECT_EQ(random_bytes(30).size(), 30u);
  EXPECT_NE(random_bytes(16), random_bytes(16));
}

}  // namespace
}  // namespace weir::pktgen
