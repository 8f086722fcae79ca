#include "control/json_fields.h"

#include "control/control_error.h"

namespace weir::control {

using nlohmann::json;

std::string field_path(std::string_view parent, std::string_view key) {
  std::string path(parent);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string index_path(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

void throw_missing(const std::string& path) { throw_invalid("missing field " + path); }

void throw_wrong_type(const std::string& path, std::string_view expected) {
  throw_invalid("invalid field " + path + " (must be " + std::string(expected) + ")");
}

namespace {
template <typename Json>
Json* find_in(Json& obj, std::string_view parent, std::string_view key) {
  if (!obj.is_object()) throw_wrong_type(std::string(parent), "an object");
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}
}  // namespace

const json* find_field(const json& obj, std::string_view parent, std::string_view key) {
  return find_in(obj, parent, key);
}

json* find_field(json& obj, std::string_view parent, std::string_view key) {
  return find_in(obj, parent, key);
}

std::string require_string(const json& obj, std::string_view parent, std::string_view key) {
  auto value = optional_string(obj, parent, key);
  if (!value) throw_missing(field_path(parent, key));
  return *value;
}

std::optional<std::string> optional_string(const json& obj, std::string_view parent,
                                           std::string_view key) {
  const json* v = find_field(obj, parent, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw_wrong_type(field_path(parent, key), "a string");
  return v->get<std::string>();
}

int64_t require_integer(const json& obj, std::string_view parent, std::string_view key, int64_t min,
                        int64_t max) {
  auto value = optional_integer(obj, parent, key, min, max);
  if (!value) throw_missing(field_path(parent, key));
  return *value;
}

std::optional<int64_t> optional_integer(const json& obj, std::string_view parent,
                                        std::string_view key, int64_t min, int64_t max) {
  const json* v = find_field(obj, parent, key);
  if (!v) return std::nullopt;
  const std::string path = field_path(parent, key);
  if (!v->is_number_integer()) throw_wrong_type(path, "an integer");
  // Unsigned values above INT64_MAX are out of every range we accept.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    throw_invalid("invalid field " + path + " (out of range)");
  }
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    throw_invalid("invalid field " + path + " (must be in " + std::to_string(min) + ".." +
                  std::to_string(max) + ")");
  }
  return n;
}

bool optional_bool(const json& obj, std::string_view parent, std::string_view key, bool fallback) {
  const json* v = find_field(obj, parent, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw_wrong_type(field_path(parent, key), "a boolean");
  return v->get<bool>();
}

const json& require_object(const json& obj, std::string_view parent, std::string_view key) {
  const json* v = find_field(obj, parent, key);
  const std::string path = field_path(parent, key);
  if (!v) throw_missing(path);
  if (!v->is_object()) throw_wrong_type(path, "an object");
  return *v;
}

}  // namespace weir::control
