// Per-connection flood control for protoo requests: a token bucket (rate per second, up to
// burst tokens) decides which requests are served, and a count of refusals per window
// decides when a connection is flooding rather than bursting and must be closed. Pure:
// the caller passes the time, so tests drive it without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace weir::signaling {

class RequestRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict { serve, refuse, close };

  // rate <= 0 disables the limit (every request is served).
  RequestRateLimiter(double rate_per_s, double burst, uint32_t close_after_refusals,
                     std::chrono::milliseconds window, Clock::time_point now)
      : rate_(rate_per_s), burst_(burst < 1 ? 1 : burst), close_after_(close_after_refusals),
        window_(window), tokens_(burst_), last_(now), window_start_(now) {}

  Verdict on_request(Clock::time_point now) {
    if (rate_ <= 0) return Verdict::serve;
    if (now > last_) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = tokens_ + elapsed * rate_;
      if (tokens_ > burst_) tokens_ = burst_;
      last_ = now;
    }
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return Verdict::serve;
    }
    if (now - window_start_ >= window_) {
      window_start_ = now;
      refusals_in_window_ = 0;
    }
    ++refused_total_;
    if (close_after_ != 0 && ++refusals_in_window_ >= close_after_) return Verdict::close;
    return Verdict::refuse;
  }

  uint64_t refused_total() const { return refused_total_; }

 private:
  double rate_;
  double burst_;
  uint32_t close_after_;
  std::chrono::milliseconds window_;
  double tokens_;
  Clock::time_point last_;
  Clock::time_point window_start_;
  uint32_t refusals_in_window_ = 0;
  uint64_t refused_total_ = 0;
};

}  // namespace weir::signaling
