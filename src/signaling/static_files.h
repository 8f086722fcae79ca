// The demo web app's files (web/dist), served read-only over HTTPS. Mapping a request
// target to a file is pure (resolve_static_target) so that every traversal trick can be
// unit-tested without a filesystem; read_static_file then opens it, refusing anything that
// is not a regular file under the root (symlinks that lead out included).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weir::signaling {

struct StaticTarget {
  int status = 200;        // 200, or 400 (bad encoding), 403 (traversal), 404
  std::string relative;    // for 200: "index.html", "assets/app.js" (no leading '/')
  std::string reason;      // otherwise, for the log and the answer
};

// target: the request-target as received ("/", "/app.js?v=2"). "/" and a trailing '/'
// mean index.html. ".." or "." segments (also percent-encoded), backslashes, NULs and
// dotfiles are refused.
StaticTarget resolve_static_target(std::string_view target);

// The Content-Type for a file name, by extension; application/octet-stream otherwise.
const char* static_content_type(std::string_view name);

struct StaticFile {
  int status = 200;  // 200, 403, 404 or 500 (read failed)
  std::string body;
  std::string reason;
};

// Reads root/relative. Files larger than max_bytes are refused (500): the demo's bundle
// is a few hundred kB, and the I/O thread reads the file whole.
StaticFile read_static_file(const std::string& root, const std::string& relative,
                            uint64_t max_bytes);

}  // namespace weir::signaling
