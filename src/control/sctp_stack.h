// The process-wide usrsctp stack, single-threaded on the control thread: usrsctp is
// initialised without its own threads (usrsctp_init_nothreads) when the first association
// is created and finished when the last is gone; while any exists, one steady_timer on the
// control io_context drives usrsctp's timers every 10 ms. Only SctpAssociation uses this.
#pragma once

#include <boost/asio/io_context.hpp>

namespace weir::control {

class SctpAssociation;

namespace sctp_stack {

// Registers an association (its address is its AF_CONN address) and starts the stack and
// its timer if it is the first. All associations must share one io_context: the timer
// runs on the first one's.
void acquire(SctpAssociation* association, boost::asio::io_context& io);
// Unregisters it; the last one stops the timer and finishes usrsctp.
void release(SctpAssociation* association);
// The association behind an AF_CONN address usrsctp hands back, or nullptr.
SctpAssociation* find(void* address);
// How many associations exist (tests check that none leak).
size_t association_count();

}  // namespace sctp_stack
}  // namespace weir::control
