#include "dataplane_options.h"

#include <cstdlib>
#include <string_view>

namespace weir::bench {

const char* const kDataplaneUsage =
    "weir_dataplane_bench: SRTP packets forwarded per second per core by one DPDK worker\n"
    "on an in-process net_ring port (1 producer -> N consumers), against the crypto bound.\n"
    "  --consumers N     consumer transports (1..9999, default 100)\n"
    "  --duration S      measured seconds (default 10)\n"
    "  --warmup S        seconds before the window (default 2)\n"
    "  --suite NAME      AES_CM_128_HMAC_SHA1_80 (default) or AEAD_AES_128_GCM, ...\n"
    "  --verify-every K  SRTP-verify 1 in K forwarded frames (default 1024)\n"
    "  --git REV         commit printed in the result line\n";

namespace {

bool parse_number(std::string_view text, double* out) {
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(v >= 0)) return false;
  *out = v;
  return true;
}

}  // namespace

std::optional<DataplaneOptions> parse_dataplane_options(int argc, char** argv, std::string* error,
                                                        bool* help) {
  DataplaneOptions o;
  *help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return std::nullopt;
    }
    if (i + 1 >= argc) {
      *error = "missing value for " + std::string(arg);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    double v = 0;
    if (arg == "--consumers") {
      if (!parse_number(value, &v) || v < 1 || v > 9999 || v != static_cast<uint32_t>(v)) {
        *error = "--consumers: a whole number of 1..9999";
        return std::nullopt;
      }
      o.consumers = static_cast<uint32_t>(v);
    } else if (arg == "--duration") {
      if (!parse_number(value, &v) || v <= 0) {
        *error = "--duration: seconds > 0";
        return std::nullopt;
      }
      o.duration_s = v;
    } else if (arg == "--warmup") {
      if (!parse_number(value, &v)) {
        *error = "--warmup: seconds >= 0";
        return std::nullopt;
      }
      o.warmup_s = v;
    } else if (arg == "--suite") {
      const auto suite = dp::srtp_suite_from_name(value);
      if (!suite) {
        *error = "--suite: unknown SRTP suite " + std::string(value);
        return std::nullopt;
      }
      o.suite = *suite;
    } else if (arg == "--verify-every") {
      if (!parse_number(value, &v) || v < 1 || v > 16384 || v != static_cast<uint32_t>(v)) {
        // Above 2^15 packets between two checks of one consumer the receiver could guess
        // the wrong rollover counter; 16384 keeps well inside.
        *error = "--verify-every: a whole number of 1..16384";
        return std::nullopt;
      }
      o.verify_every = static_cast<uint32_t>(v);
    } else if (arg == "--git") {
      o.git = std::string(value);
    } else {
      *error = "unknown option " + std::string(arg);
      return std::nullopt;
    }
  }
  return o;
}

}  // namespace weir::bench
