#include "signaling/protoo_message.h"

#include <cmath>
#include <utility>

namespace weir::signaling {

using nlohmann::json;

const char* protoo_drop_reason_name(ProtooDropReason reason) {
  switch (reason) {
    case ProtooDropReason::none: return "none";
    case ProtooDropReason::not_json: return "not JSON";
    case ProtooDropReason::too_deep: return "nested too deeply";
    case ProtooDropReason::not_object: return "not an object";
    case ProtooDropReason::no_kind: return "missing request/response/notification field";
    case ProtooDropReason::id_not_number: return "missing/invalid id field";
    case ProtooDropReason::method_not_string: return "missing/invalid method field";
  }
  return "?";
}

size_t json_nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > limit) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return deepest;
}

bool js_truthy(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
    case json::value_t::discarded: return false;
    case json::value_t::boolean: return value.get<bool>();
    case json::value_t::number_integer: return value.get<int64_t>() != 0;
    case json::value_t::number_unsigned: return value.get<uint64_t>() != 0;
    case json::value_t::number_float: {
      double d = value.get<double>();
      return d != 0.0 && !std::isnan(d);
    }
    case json::value_t::string: return !value.get_ref<const std::string&>().empty();
    default: return true;  // objects, arrays, binary: truthy even when empty
  }
}

namespace {

const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

bool is_truthy_member(const json& object, const char* key) {
  const json* v = member(object, key);
  return v != nullptr && js_truthy(*v);
}

json data_or_empty(const json& object) {
  const json* v = member(object, "data");
  if (v == nullptr || !js_truthy(*v)) return json::object();
  return *v;
}

int error_code_of(const json& object) {
  const json* v = member(object, "errorCode");
  if (v == nullptr || !v->is_number()) return 0;
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (!(d > -2147483648.0 && d < 2147483648.0)) return 0;
    return static_cast<int>(d);
  }
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    return u > 2147483647u ? 0 : static_cast<int>(u);
  }
  int64_t i = v->get<int64_t>();
  return (i < -2147483647 - 1 || i > 2147483647) ? 0 : static_cast<int>(i);
}

ProtooParse drop(ProtooDropReason reason, std::string detail = {}) {
  ProtooParse out;
  out.dropped = reason;
  out.detail = std::move(detail);
  return out;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

ProtooParse parse_protoo(std::string_view text) {
  if (json_nesting_depth(text, kProtooMaxDepth) > kProtooMaxDepth) {
    return drop(ProtooDropReason::too_deep);
  }
  json object;
  try {
    object = json::parse(text);
  } catch (const json::exception& e) {
    return drop(ProtooDropReason::not_json, e.what());
  }
  if (!object.is_object()) return drop(ProtooDropReason::not_object, object.type_name());

  ProtooMessage m;
  if (is_truthy_member(object, "request")) {
    m.kind = ProtooKind::request;
    const json* method = member(object, "method");
    if (method == nullptr || !method->is_string()) return drop(ProtooDropReason::method_not_string);
    const json* id = member(object, "id");
    if (id == nullptr || !id->is_number()) return drop(ProtooDropReason::id_not_number);
    m.id = *id;
    m.method = method->get<std::string>();
    m.data = data_or_empty(object);
  } else if (is_truthy_member(object, "response")) {
    m.kind = ProtooKind::response;
    const json* id = member(object, "id");
    if (id == nullptr || !id->is_number()) return drop(ProtooDropReason::id_not_number);
    m.id = *id;
    if (is_truthy_member(object, "ok")) {
      m.ok = true;
      m.data = data_or_empty(object);
    } else {
      m.ok = false;
      m.error_code = error_code_of(object);
      const json* reason = member(object, "errorReason");
      if (reason != nullptr && reason->is_string()) m.error_reason = reason->get<std::string>();
    }
  } else if (is_truthy_member(object, "notification")) {
    m.kind = ProtooKind::notification;
    const json* method = member(object, "method");
    if (method == nullptr || !method->is_string()) return drop(ProtooDropReason::method_not_string);
    m.method = method->get<std::string>();
    m.data = data_or_empty(object);
  } else {
    return drop(ProtooDropReason::no_kind);
  }
  ProtooParse out;
  out.message = std::move(m);
  return out;
}

std::string protoo_request_text(uint32_t id, const std::string& method, const json& data) {
  json j = {{"request", true}, {"id", id}, {"method", method},
            {"data", data.is_null() ? json::object() : data}};
  return dump(j);
}

std::string protoo_success_text(const json& id, const json& data) {
  json j = {{"response", true}, {"id", id}, {"ok", true},
            {"data", data.is_null() ? json::object() : data}};
  return dump(j);
}

std::string protoo_error_text(const json& id, int error_code, const std::string& error_reason) {
  json j = {{"response", true}, {"id", id}, {"ok", false}, {"errorCode", error_code},
            {"errorReason", error_reason}};
  return dump(j);
}

std::string protoo_notification_text(const std::string& method, const json& data) {
  json j = {{"notification", true}, {"method", method},
            {"data", data.is_null() ? json::object() : data}};
  return dump(j);
}

}  // namespace weir::signaling
