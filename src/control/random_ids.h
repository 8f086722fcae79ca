// Random identifiers of the control plane, all from OpenSSL's CSPRNG: ids are handed to
// clients and SSRCs/keys must not be guessable by other endpoints.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace weir::control {

// Fills out; aborts the request with ControlError(refused) if the CSPRNG fails.
void random_bytes(std::span<uint8_t> out);
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RFC 9562 version 4, lowercase).
std::string generate_uuid_v4();
// mediasoup's range for SSRCs it picks: 100000000..999999999.
uint32_t generate_random_ssrc();
// 8 alphanumeric characters, as mediasoup's generated CNAMEs.
std::string generate_cname();

}  // namespace weir::control
