#include "options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "media_payload.h"

namespace weir::pktgen {
namespace {

bool parse_u32(std::string_view text, uint32_t min, uint32_t max, uint32_t& out) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return false;
  out = v;
  return true;
}

bool parse_seconds(std::string_view text, double min, double& out) {
  // strtod needs a terminated string; option values come from argv and are short.
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < min || v > 86400) {
    return false;
  }
  out = v;
  return true;
}

bool known_suite(std::string_view s) {
  return s == "AES_CM_128_HMAC_SHA1_80" || s == "AES_CM_128_HMAC_SHA1_32" ||
         s == "AEAD_AES_128_GCM" || s == "none";
}

}  // namespace

const char* usage_text() {
  return "usage: pktgen [options]\n"
         "Builds a fanout scenario on weir through its broadcaster HTTP API (1 VP8 producer ->\n"
         "N consumers, each on its own plain transport and local UDP socket), sends paced\n"
         "SRTP, verifies what every consumer receives and prints one JSON result line.\n"
         "\n"
         "  --api URL            weir's HTTP API (default http://127.0.0.1:4443)\n"
         "  --room ID            room id (default: random)\n"
         "  --consumers N        consumers, one transport and socket each (default 100)\n"
         "  --rate PPS           packets per second of the producer (default 100)\n"
         "  --duration S         measured window in seconds (default 10)\n"
         "  --warmup S           longest warm-up before the window (default 2); it ends early\n"
         "                       once every consumer has received a packet\n"
         "  --payload BYTES      RTP payload size incl. VP8 descriptor (default 1100, min 34)\n"
         "  --suite NAME         AES_CM_128_HMAC_SHA1_80 (default) | AES_CM_128_HMAC_SHA1_32 |\n"
         "                       AEAD_AES_128_GCM | none (plain RTP)\n"
         "  --server-pid PID     weir's pid: its CPU (utime+stime) and RSS over the window\n"
         "  --local-ip IP        address of pktgen's sockets (default 127.0.0.1)\n"
         "  --mode uring         socket mode on the io_uring engine; the only mode for now\n"
         "                       (DPDK mode comes later)\n"
         "  --git COMMIT         short commit written into the result (default \"unknown\")\n"
         "  --verify-sample K    SRTP-verify 1 in K packets of each consumer (default 1 = all);\n"
         "                       the others are counted by header only\n"
         "  --quiet              no progress line on stderr\n"
         "  --help               this text\n";
}

bool parse_options(int argc, const char* const* argv, Options& out, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") {
      *error = "unexpected argument " + std::string(arg);
      return false;
    }
    std::string_view name = arg;
    std::string_view value;
    bool has_value = false;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "--help" || name == "-h") {
      out.help = true;
      continue;
    }
    if (name == "--quiet") {
      out.quiet = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *error = "missing value for " + std::string(name);
        return false;
      }
      value = argv[++i];
    }
    bool ok = true;
    if (name == "--api") {
      out.api = value;
      ok = !value.empty();
    } else if (name == "--room") {
      out.room = value;
      ok = !value.empty();
    } else if (name == "--consumers") {
      ok = parse_u32(value, 1, 100000, out.consumers);
    } else if (name == "--rate") {
      ok = parse_u32(value, 1, 1000000, out.rate_pps);
    } else if (name == "--duration") {
      ok = parse_seconds(value, 0.1, out.duration_s);
    } else if (name == "--warmup") {
      ok = parse_seconds(value, 0, out.warmup_s);
    } else if (name == "--payload") {
      ok = parse_u32(value, static_cast<uint32_t>(kMinPayloadSize), kMaxPayloadSize,
                     out.payload_bytes);
    } else if (name == "--suite") {
      out.suite = value;
      ok = known_suite(value);
    } else if (name == "--server-pid") {
      uint32_t pid = 0;
      ok = parse_u32(value, 1, 0x7fffffff, pid);
      out.server_pid = static_cast<int>(pid);
    } else if (name == "--local-ip") {
      out.local_ip = value;
      ok = !value.empty();
    } else if (name == "--mode") {
      out.mode = value;
      ok = value == "uring";
    } else if (name == "--git") {
      out.git = value;
      ok = !value.empty();
    } else if (name == "--verify-sample") {
      ok = parse_u32(value, 1, 1000000, out.verify_sample);
    } else {
      *error = "unknown option " + std::string(name);
      return false;
    }
    if (!ok) {
      *error = "invalid value \"" + std::string(value) + "\" for " + std::string(name);
      return false;
    }
  }
  return true;
}

}  // namespace weir::pktgen
