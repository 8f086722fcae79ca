#include "dataplane/worker_pipes.h"

#include "dataplane/udp_engine.h"

namespace weir::dp {

WorkerPipes::WorkerPipes(uint32_t workers, size_t media_slots, size_t keyframe_slots)
    : workers_(workers),
      media_(static_cast<size_t>(workers) * workers),
      keyframes_(static_cast<size_t>(workers) * workers),
      engines_(std::make_unique<std::atomic<UdpEngine*>[]>(workers)),
      sleeping_(std::make_unique<std::atomic<bool>[]>(workers)) {
  for (uint32_t from = 0; from < workers; ++from) {
    for (uint32_t to = 0; to < workers; ++to) {
      if (from == to) continue;
      media_[from * workers + to] = std::make_unique<PipeRing>(media_slots);
      keyframes_[from * workers + to] =
          std::make_unique<SpscRing<PipedKeyFrameRequest>>(keyframe_slots);
    }
  }
  for (uint32_t i = 0; i < workers; ++i) {
    engines_[i].store(nullptr, std::memory_order_relaxed);
    sleeping_[i].store(false, std::memory_order_relaxed);
  }
}

void WorkerPipes::wake(uint32_t worker) const {
  if (worker >= workers_) return;
  if (UdpEngine* engine = engines_[worker].load(std::memory_order_acquire)) engine->wake();
}

}  // namespace weir::dp
