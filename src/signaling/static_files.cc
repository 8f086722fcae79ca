#include "signaling/static_files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>

#include "signaling/broadcaster_routes.h"

namespace weir::signaling {

namespace fs = std::filesystem;

namespace {

StaticTarget refuse(int status, std::string reason) {
  StaticTarget t;
  t.status = status;
  t.reason = std::move(reason);
  return t;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

StaticTarget resolve_static_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path[0] != '/') return refuse(400, "request target must start with '/'");
  std::optional<std::string> decoded = percent_decode(path, false);
  if (!decoded) return refuse(400, "invalid percent-encoding in path");
  std::string p = std::move(*decoded);
  if (p.find('\0') != std::string::npos || p.find('\\') != std::string::npos) {
    return refuse(403, "path contains a NUL or a backslash");
  }
  if (p.back() == '/') p += "index.html";

  std::string relative;
  std::string_view rest = std::string_view(p).substr(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment == "." || segment == "..") return refuse(403, "path traversal refused");
    if (segment.empty()) return refuse(404, "empty path segment");
    if (segment[0] == '.') return refuse(404, "hidden files are not served");
    if (!relative.empty()) relative += '/';
    relative += segment;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  StaticTarget t;
  t.relative = std::move(relative);
  return t;
}

const char* static_content_type(std::string_view name) {
  struct Type {
    std::string_view ext;
    const char* type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".png", "image/png"},
      {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  for (const Type& t : kTypes) {
    if (ends_with(name, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

StaticFile read_static_file(const std::string& root, const std::string& relative,
                            uint64_t max_bytes) {
  StaticFile out;
  std::error_code ec;
  fs::path canonical_root = fs::canonical(root, ec);
  if (ec) {
    out.status = 404;
    out.reason = "web root " + root + " not found (build web/dist or set --web-root)";
    return out;
  }
  fs::path file = fs::canonical(canonical_root / relative, ec);
  if (ec) {
    out.status = 404;
    out.reason = "no such file: " + relative;
    return out;
  }
  // canonical() resolved symlinks: the file must still be inside the root.
  auto [root_end, file_it] = std::mismatch(canonical_root.begin(), canonical_root.end(),
                                           file.begin(), file.end());
  if (root_end != canonical_root.end()) {
    out.status = 403;
    out.reason = "path leads outside the web root";
    return out;
  }
  if (!fs::is_regular_file(file, ec)) {
    out.status = 404;
    out.reason = "not a regular file: " + relative;
    return out;
  }
  uint64_t size = fs::file_size(file, ec);
  if (ec || size > max_bytes) {
    out.status = 500;
    out.reason = ec ? "cannot stat " + relative : relative + " is larger than " +
                                                      std::to_string(max_bytes) + " bytes";
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    out.status = 500;
    out.reason = "cannot open " + relative + ": " + std::strerror(errno);
    return out;
  }
  out.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    out.status = 500;
    out.reason = "cannot read " + relative;
    out.body.clear();
  }
  return out;
}

}  // namespace weir::signaling
