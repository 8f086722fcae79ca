#include "signaling/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace weir::signaling {
namespace {

TEST(StaticFiles, ResolvesTargets) {
  EXPECT_EQ(resolve_static_target("/").relative, "index.html");
  EXPECT_EQ(resolve_static_target("/?roomId=a&peerId=b").relative, "index.html");
  EXPECT_EQ(resolve_static_target("/app.js").relative, "app.js");
  EXPECT_EQ(resolve_static_target("/assets/app.js#x").relative, "assets/app.js");
  EXPECT_EQ(resolve_static_target("/assets/").relative, "assets/index.html");
  EXPECT_EQ(resolve_static_target("/a%20b.png").relative, "a b.png");
  EXPECT_EQ(resolve_static_target("/a..b.js").relative, "a..b.js");
}

TEST(StaticFiles, RefusesTraversalInEveryEncoding) {
  for (const char* t : {"/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/%2E%2E/x",
                        "/.%2e/x", "/a/%2e%2e%2fb", "/a/..%2f..%2fb", "/./index.html",
                        "/a\\..\\b", "/a%5c..%5cb", "/a%00.js"}) {
    StaticTarget r = resolve_static_target(t);
    EXPECT_EQ(r.status, 403) << t << " -> " << r.relative;
  }
  EXPECT_EQ(resolve_static_target("/%zz").status, 400);
  EXPECT_EQ(resolve_static_target("index.html").status, 400);
  EXPECT_EQ(resolve_static_target("/.git/config").status, 404);
  EXPECT_EQ(resolve_static_target("//etc/passwd").status, 404);
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_STREQ(static_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_STREQ(static_content_type("a/app.js"), "text/javascript; charset=utf-8");
  EXPECT_STREQ(static_content_type("app.css"), "text/css; charset=utf-8");
  EXPECT_STREQ(static_content_type("logo.png"), "image/png");
  EXPECT_STREQ(static_content_type("logo.svg"), "image/svg+xml");
  EXPECT_STREQ(static_content_type("app.js.map"), "application/json");
  EXPECT_STREQ(static_content_type("data.json"), "application/json");
  EXPECT_STREQ(static_content_type("README"), "application/octet-stream");
}

TEST(StaticFiles, ReadsOnlyRegularFilesInsideTheRoot) {
  namespace fs = std::filesystem;
  fs::path base = fs::temp_directory_path() / ("weir-static-" + std::to_string(::getpid()));
  fs::path root = base / "root";
  fs::create_directories(root / "dir");
  std::ofstream(root / "a.js") << "js";
  std::ofstream(base / "outside.txt") << "secret";
  fs::create_symlink(base / "outside.txt", root / "link.txt");

  StaticFile f = read_static_file(root.string(), "a.js", 1024);
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body, "js");
  EXPECT_EQ(read_static_file(root.string(), "missing.js", 1024).status, 404);
  EXPECT_EQ(read_static_file(root.string(), "dir", 1024).status, 404);
  f = read_static_file(root.string(), "link.txt", 1024);
  EXPECT_EQ(f.status, 403);
  EXPECT_TRUE(f.body.empty());
  EXPECT_EQ(read_static_file(root.string(), "a.js", 1).status, 500);
  EXPECT_EQ(read_static_file((base / "nope").string(), "a.js", 1024).status, 404);
  fs::remove_all(base);
}

}  // namespace
}  // namespace weir::signaling
