// Which consumers of a WebRTC run are impaired on purpose (a wrong fingerprint, or going
// silent), and which DTLS role pktgen takes on each transport. Deterministic, so a test
// can tell from the options alone, and spread over the N so that neither the first nor
// the last sockets are special.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/dtls_transport.h"

namespace weir::pktgen {

enum class ConsumerRole : uint8_t { measured, bad_fingerprint, silent };
const char* consumer_role_name(ConsumerRole role);

// consumers entries; bad_fingerprint + silent must be below consumers. The bad ones are
// spread over all indices, the silent ones over the rest.
std::vector<ConsumerRole> assign_consumer_roles(uint32_t consumers, uint32_t bad_fingerprint,
                                                uint32_t silent);

// "client", "server", or "mixed": the producer server, consumers alternating client,
// server, client... (so both of weir's DTLS roles run in one scenario).
dp::DtlsRole producer_dtls_role(std::string_view mode);
dp::DtlsRole consumer_dtls_role(std::string_view mode, uint32_t index);

}  // namespace weir::pktgen
