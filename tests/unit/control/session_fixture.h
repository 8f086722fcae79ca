// Reads one recorded signaling session (tests/fixtures/real-sessions/*.jsonl) and finds
// its messages by direction, method and peer.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace weir::control::testing {

class RecordedSession {
 public:
  explicit RecordedSession(const std::string& name) {
    const std::string path = std::string(WEIR_FIXTURES_DIR) + "/" + name;
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) messages_.push_back(nlohmann::json::parse(line));
    }
  }

  // Every message's data for which dir and method match (and peer, when not empty).
  std::vector<nlohmann::json> all(const std::string& dir, const std::string& method,
                                  const std::string& peer = "") const {
    std::vector<nlohmann::json> found;
    for (const auto& m : messages_) {
      if (m["dir"] == dir && m["method"] == method && (peer.empty() || m["peer"] == peer)) {
        found.push_back(m["data"]);
      }
    }
    return found;
  }

  nlohmann::json first(const std::string& dir, const std::string& method,
                       const std::string& peer = "") const {
    auto found = all(dir, method, peer);
    EXPECT_FALSE(found.empty()) << dir << " " << method << " " << peer;
    return found.empty() ? nlohmann::json() : found.front();
  }

  // The peers in order of appearance.
  std::vector<std::string> peers() const {
    std::vector<std::string> ids;
    for (const auto& m : messages_) {
      const std::string id = m["peer"];
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    return ids;
  }

 private:
  std::vector<nlohmann::json> messages_;
};

}  // namespace weir::control::testing
