// Command line of weir_dataplane_bench: the `dataplane` scenario (docs/benchmarks.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/srtp_session.h"

namespace weir::bench {

struct DataplaneOptions {
  uint32_t consumers = 100;
  double duration_s = 10;
  double warmup_s = 2;
  dp::SrtpSuite suite = dp::SrtpSuite::aes_cm_128_hmac_sha1_80;
  std::string git = "unknown";
  // 1 in verify_every forwarded frames is parsed and SRTP-unprotected by the generator.
  uint32_t verify_every = 1024;
};

// nullopt with *error on a bad or unknown option; *help set for --help.
std::optional<DataplaneOptions> parse_dataplane_options(int argc, char** argv, std::string* error,
                                                        bool* help);
extern const char* const kDataplaneUsage;

}  // namespace weir::bench
