// Leveled logging for every layer of weir. Messages are written whole, one line each, to
// stderr, so that concurrent threads never interleave within a line.
#pragma once

#include <cstdarg>
#include <string_view>

namespace weir::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

void set_level(Level level);
Level level();
// Accepts trace|debug|info|warn|error|off; false for anything else.
bool parse_level(std::string_view text, Level& out);
const char* level_name(Level level);

// component: a short lowercase word naming the subsystem ("uring", "api", "worker").
void write(Level level, const char* component, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

inline bool enabled(Level l) { return l >= level(); }

}  // namespace weir::log

// The macros skip formatting entirely when the level is disabled.
#define WEIR_LOG(lvl, component, ...)                                        \
  do {                                                                       \
    if (::weir::log::enabled(lvl)) ::weir::log::write(lvl, component, __VA_ARGS__); \
  } while (0)
#define LOG_TRACE(c, ...) WEIR_LOG(::weir::log::Level::trace, c, __VA_ARGS__)
#define LOG_DEBUG(c, ...) WEIR_LOG(::weir::log::Level::debug, c, __VA_ARGS__)
#define LOG_INFO(c, ...) WEIR_LOG(::weir::log::Level::info, c, __VA_ARGS__)
#define LOG_WARN(c, ...) WEIR_LOG(::weir::log::Level::warn, c, __VA_ARGS__)
#define LOG_ERROR(c, ...) WEIR_LOG(::weir::log::Level::error, c, __VA_ARGS__)
