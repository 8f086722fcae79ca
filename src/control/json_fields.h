// Typed access to fields of untrusted JSON objects. Every failure throws an ControlError
// (kind invalid) that names the field by its full path, e.g. "missing field
// body.device.name" or "invalid field body.port (must be an integer)", so the client can
// tell exactly what to fix whatever depth the field sits at.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace weir::control {

std::string field_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t index);

[[noreturn]] void throw_missing(const std::string& path);
[[noreturn]] void throw_wrong_type(const std::string& path, std::string_view expected);

// obj must be an object (else the error names parent). nullptr when the key is absent.
// A JSON null counts as absent: JS clients serialise undefined that way at times.
const nlohmann::json* find_field(const nlohmann::json& obj, std::string_view parent,
                                 std::string_view key);
nlohmann::json* find_field(nlohmann::json& obj, std::string_view parent, std::string_view key);

std::string require_string(const nlohmann::json& obj, std::string_view parent,
                           std::string_view key);
std::optional<std::string> optional_string(const nlohmann::json& obj, std::string_view parent,
                                           std::string_view key);
// Integers only: 1.5 and "1" are refused. [min, max] inclusive.
int64_t require_integer(const nlohmann::json& obj, std::string_view parent, std::string_view key,
                        int64_t min, int64_t max);
std::optional<int64_t> optional_integer(const nlohmann::json& obj, std::string_view parent,
                                        std::string_view key, int64_t min, int64_t max);
bool optional_bool(const nlohmann::json& obj, std::string_view parent, std::string_view key,
                   bool fallback);
const nlohmann::json& require_object(const nlohmann::json& obj, std::string_view parent,
                                     std::string_view key);

}  // namespace weir::control
