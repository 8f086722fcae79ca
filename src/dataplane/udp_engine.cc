// Engine choice: io_uring where the kernel allows it, recvmmsg/sendmmsg otherwise.
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "dataplane/udp_engine.h"

namespace weir::dp {

std::unique_ptr<UdpEngine> make_udp_engine(PacketPool& pool, const EngineConfig& config,
                                           bool prefer_mmsg, std::string* error) {
  if (!prefer_mmsg) {
    std::string why;
    std::unique_ptr<UdpEngine> engine;
    const char* disable = std::getenv("WEIR_DISABLE_IO_URING");
    // Lets tests and operators exercise the fallback exactly as a refusing kernel would.
    if (disable != nullptr && std::strcmp(disable, "1") == 0) {
      why = "disabled by WEIR_DISABLE_IO_URING=1";
    } else {
      engine = make_uring_engine(pool, config, &why);
    }
    if (engine) {
      LOG_INFO("io", "packet I/O engine: io_uring");
      return engine;
    }
    LOG_WARN("io", "io_uring unavailable (%s); falling back to recvmmsg/sendmmsg", why.c_str());
  }
  auto engine = make_mmsg_engine(pool, config, error);
  if (engine) LOG_INFO("io", "packet I/O engine: recvmmsg/sendmmsg");
  return engine;
}

}  // namespace weir::dp
