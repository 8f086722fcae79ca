#include "wire/dcep_message.h"

#include <cstring>

#include "wire/byte_io.h"

namespace weir::wire {

namespace {

bool known_channel_type(uint8_t type) {
  switch (type) {
    case 0x00:
    case 0x80:
    case 0x01:
    case 0x81:
    case 0x02:
    case 0x82:
      return true;
    default:
      return false;
  }
}

}  // namespace

uint8_t dcep_message_type(const uint8_t* data, size_t len) {
  return data != nullptr && len > 0 ? data[0] : 0;
}

bool parse_dcep_open(const uint8_t* data, size_t len, DcepOpen& out) {
  if (data == nullptr || len < kDcepOpenHeaderSize || data[0] != kDcepMessageOpen) return false;
  if (!known_channel_type(data[1])) return false;
  const size_t label_len = load_be16(data + 8);
  const size_t protocol_len = load_be16(data + 10);
  // Exactly: trailing bytes mean a sender that disagrees with us about the format.
  if (len - kDcepOpenHeaderSize != label_len + protocol_len) return false;
  const char* text = reinterpret_cast<const char*>(data + kDcepOpenHeaderSize);
  out.channel_type = static_cast<DcepChannelType>(data[1]);
  out.priority = load_be16(data + 2);
  out.reliability_parameter = load_be32(data + 4);
  out.label = std::string_view(text, label_len);
  out.protocol = std::string_view(text + label_len, protocol_len);
  return true;
}

bool is_dcep_ack(const uint8_t* data, size_t len) {
  return data != nullptr && len == 1 && data[0] == kDcepMessageAck;
}

size_t dcep_open_size(const DcepOpen& open) {
  if (open.label.size() > 0xffff || open.protocol.size() > 0xffff) return 0;
  return kDcepOpenHeaderSize + open.label.size() + open.protocol.size();
}

size_t write_dcep_open(const DcepOpen& open, uint8_t* out, size_t cap) {
  const size_t size = dcep_open_size(open);
  if (size == 0 || out == nullptr || cap < size) return 0;
  out[0] = kDcepMessageOpen;
  out[1] = static_cast<uint8_t>(open.channel_type);
  store_be16(out + 2, open.priority);
  store_be32(out + 4, open.reliability_parameter);
  store_be16(out + 8, static_cast<uint16_t>(open.label.size()));
  store_be16(out + 10, static_cast<uint16_t>(open.protocol.size()));
  if (!open.label.empty())
    std::memcpy(out + kDcepOpenHeaderSize, open.label.data(), open.label.size());
  if (!open.protocol.empty()) {
    std::memcpy(out + kDcepOpenHeaderSize + open.label.size(), open.protocol.data(),
                open.protocol.size());
  }
  return size;
}

size_t write_dcep_ack(uint8_t* out, size_t cap) {
  if (out == nullptr || cap == 0) return 0;
  out[0] = kDcepMessageAck;
  return 1;
}

}  // namespace weir::wire
