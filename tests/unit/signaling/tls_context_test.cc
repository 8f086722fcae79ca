#include "signaling/tls_context.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace weir::signaling {
namespace {

namespace fs = std::filesystem;

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weir-tls-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TlsContextTest, GeneratesSavesAndReuses) {
  std::string error;
  TlsOptions o;
  o.state_dir = (dir_ / "state").string();
  TlsSetup first = make_tls_setup(o, &error);
  ASSERT_TRUE(first.context) << error;
  EXPECT_NE(first.description.find("generated and saved"), std::string::npos)
      << first.description;
  EXPECT_EQ(first.fingerprint_sha256.size(), 32u * 3 - 1);
  fs::path key = dir_ / "state" / kGeneratedPrivateKeyName;
  ASSERT_TRUE(fs::exists(key));
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  TlsSetup second = make_tls_setup(o, &error);
  ASSERT_TRUE(second.context) << error;
  EXPECT_NE(second.description.find("reused"), std::string::npos) << second.description;
  EXPECT_EQ(second.fingerprint_sha256, first.fingerprint_sha256);

  // The saved pair, given as files, is accepted as configured certificate and key.
  TlsOptions files;
  files.certificate_file = (dir_ / "state" / kGeneratedCertificateName).string();
  files.private_key_file = key.string();
  TlsSetup third = make_tls_setup(files, &error);
  ASSERT_TRUE(third.context) << error;
  EXPECT_EQ(third.fingerprint_sha256, first.fingerprint_sha256);
}

TEST_F(TlsContextTest, CorruptSavedPairIsReplaced) {
  std::string error;
  TlsOptions o;
  o.state_dir = dir_.string();
  fs::create_directories(dir_);
  std::ofstream(dir_ / kGeneratedCertificateName) << "not a certificate";
  std::ofstream(dir_ / kGeneratedPrivateKeyName) << "not a key";
  TlsSetup s = make_tls_setup(o, &error);
  ASSERT_TRUE(s.context) << error;
  EXPECT_NE(s.description.find("generated and saved"), std::string::npos) << s.description;
}

TEST_F(TlsContextTest, UnwritableStateDirStillGivesACertificate) {
  std::string error;
  TlsOptions o;
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  o.state_dir = (dir_ / "file" / "sub").string();  // below a regular file: cannot exist
  TlsSetup s = make_tls_setup(o, &error);
  ASSERT_TRUE(s.context) << error;
  EXPECT_NE(s.description.find("for this run only"), std::string::npos) << s.description;
}

TEST_F(TlsContextTest, BadConfiguredFilesAreAnError) {
  std::string error;
  TlsOptions o;
  o.certificate_file = (dir_ / "missing.pem").string();
  o.private_key_file = (dir_ / "missing-key.pem").string();
  EXPECT_FALSE(make_tls_setup(o, &error).context);
  EXPECT_NE(error.find("missing.pem"), std::string::npos) << error;

  // A key that is not the certificate's.
  TlsOptions a, b;
  a.state_dir = (dir_ / "a").string();
  b.state_dir = (dir_ / "b").string();
  ASSERT_TRUE(make_tls_setup(a, &error).context);
  ASSERT_TRUE(make_tls_setup(b, &error).context);
  TlsOptions mixed;
  mixed.certificate_file = (dir_ / "a" / kGeneratedCertificateName).string();
  mixed.private_key_file = (dir_ / "b" / kGeneratedPrivateKeyName).string();
  error.clear();
  EXPECT_FALSE(make_tls_setup(mixed, &error).context);
  EXPECT_NE(error.find("private key"), std::string::npos) << error;
}

TEST(TlsDefaults, StateDirFollowsXdg) {
  const char* old_xdg = std::getenv("XDG_STATE_HOME");
  std::string saved = old_xdg ? old_xdg : "";
  ::setenv("XDG_STATE_HOME", "/var/tmp/xdg", 1);
  EXPECT_EQ(default_state_dir(), "/var/tmp/xdg/weir");
  ::setenv("XDG_STATE_HOME", "relative", 1);  // not absolute: ignored, as the spec says
  EXPECT_NE(default_state_dir().find("/.local/state/weir"), std::string::npos);
  if (old_xdg) ::setenv("XDG_STATE_HOME", saved.c_str(), 1);
  else ::unsetenv("XDG_STATE_HOME");
}

}  // namespace
}  // namespace weir::signaling
