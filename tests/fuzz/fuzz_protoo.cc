// protoo framing (signaling/protoo_message) on arbitrary text: parse must never throw or
// crash, and whatever parses must serialise back into a frame that parses to the same
// kind, id, method and data.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "signaling/protoo_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir::signaling;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ProtooParse p = parse_protoo(text);
  if (!p.message) {
    if (p.dropped == ProtooDropReason::none) __builtin_trap();  // a drop always says why
    return 0;
  }
  const ProtooMessage& m = *p.message;
  if (json_nesting_depth(text, kProtooMaxDepth) > kProtooMaxDepth) __builtin_trap();

  std::string again;
  switch (m.kind) {
    case ProtooKind::request:
      if (!m.id.is_number()) __builtin_trap();
      // What the server would answer, and the request as a server would send it.
      again = protoo_success_text(m.id, m.data);
      (void)protoo_error_text(m.id, 500, m.method);
      break;
    case ProtooKind::response:
      if (!m.id.is_number()) __builtin_trap();
      again = m.ok ? protoo_success_text(m.id, m.data)
                   : protoo_error_text(m.id, m.error_code, m.error_reason);
      break;
    case ProtooKind::notification: again = protoo_notification_text(m.method, m.data); break;
  }
  ProtooParse back = parse_protoo(again);
  // Invalid UTF-8 cannot have parsed, so nothing was replaced: the round trip is exact.
  if (!back.message) __builtin_trap();
  const ProtooMessage& b = *back.message;
  if (m.kind == ProtooKind::notification) {
    if (b.kind != ProtooKind::notification || b.method != m.method) __builtin_trap();
  } else {
    if (b.kind != ProtooKind::response || b.id != m.id) __builtin_trap();
    if (m.kind == ProtooKind::response && b.ok != m.ok) __builtin_trap();
  }
  if ((m.kind != ProtooKind::response || m.ok) && b.data != m.data) __builtin_trap();
  return 0;
}
