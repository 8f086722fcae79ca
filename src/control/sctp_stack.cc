#include "control/sctp_stack.h"

#include <usrsctp.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "base/log.h"
#include "control/sctp_association.h"

namespace weir::control {

// Friend of SctpAssociation: the usrsctp callbacks reach its private entry points.
struct SctpAssociationAccess {
  static int on_output(SctpAssociation& a, const void* data, size_t len) {
    a.on_usrsctp_output(static_cast<const uint8_t*>(data), len);
    return 0;
  }
  static void after_timers(SctpAssociation& a) { a.dispatch_pending(); }
};

namespace sctp_stack {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(10);

struct Stack {
  bool initialized = false;  // usrsctp_finish may refuse while sockets linger: kept then
  std::unordered_set<SctpAssociation*> associations;
  std::unique_ptr<boost::asio::steady_timer> timer;
  boost::asio::io_context* io = nullptr;
  Clock::time_point last_tick;
  uint64_t generation = 0;  // a new timer each start; a stale completion is ignored
};

Stack& stack() {
  static Stack s;
  return s;
}

// usrsctp's output for every AF_CONN association: addr is the association itself.
int conn_output(void* addr, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
  SctpAssociation* a = find(addr);
  if (a == nullptr) return -1;  // a packet for an association already gone
  return SctpAssociationAccess::on_output(*a, buffer, length);
}

void arm_timer();

void on_tick() {
  Stack& s = stack();
  const Clock::time_point now = Clock::now();
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - s.last_tick).count();
  if (elapsed > 0) {
    // Advance by whole milliseconds only, so fractions are not lost tick after tick.
    s.last_tick += std::chrono::milliseconds(elapsed);
    usrsctp_handle_timers(static_cast<uint32_t>(elapsed));
  }
  // Timers may have delivered notifications (retransmissions given up, a lost
  // association); each association hands them to its listener outside usrsctp. A
  // listener may destroy associations, so each is looked up again before its turn.
  const std::vector<SctpAssociation*> all(s.associations.begin(), s.associations.end());
  for (SctpAssociation* a : all) {
    if (s.associations.count(a) != 0) SctpAssociationAccess::after_timers(*a);
  }
  if (s.timer) arm_timer();  // gone if the last association was destroyed meanwhile
}

void arm_timer() {
  Stack& s = stack();
  s.timer->expires_after(kTick);
  s.timer->async_wait([generation = s.generation](const boost::system::error_code& ec) {
    // Cancelled, or completed just before the stack stopped (and maybe restarted).
    if (ec || generation != stack().generation || !stack().timer) return;
    on_tick();
  });
}

}  // namespace

void acquire(SctpAssociation* association, boost::asio::io_context& io) {
  Stack& s = stack();
  if (!s.initialized) {
    // No UDP encapsulation port: packets go only through conn_output (DTLS).
    usrsctp_init_nothreads(0, conn_output, nullptr);
    // As mediasoup and browsers do: no ECN (there is no IP header under DTLS to carry it).
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    s.initialized = true;
  }
  if (!s.timer) {
    s.io = &io;
    s.timer = std::make_unique<boost::asio::steady_timer>(io);
    ++s.generation;
    s.last_tick = Clock::now();
    arm_timer();
  } else if (s.io != &io) {
    LOG_WARN("control", "SCTP association on a second io_context: its timers run on the first");
  }
  s.associations.insert(association);
}

void release(SctpAssociation* association) {
  Stack& s = stack();
  s.associations.erase(association);
  if (!s.associations.empty()) return;
  s.timer.reset();  // cancels the wait; its handler sees operation_aborted
  s.io = nullptr;
  if (usrsctp_finish() == 0) {
    s.initialized = false;
  } else {
    LOG_DEBUG("control", "usrsctp still has sockets: stays initialised");
  }
}

SctpAssociation* find(void* address) {
  Stack& s = stack();
  auto* a = static_cast<SctpAssociation*>(address);
  return s.associations.count(a) != 0 ? a : nullptr;
}

size_t association_count() { return stack().associations.size(); }

}  // namespace sctp_stack
}  // namespace weir::control
