// --runroot / the state root, and the create flags --pull, --replace and
// --cidfile (cmd/create_options.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/create_options.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(CmdRunroot, RunrootOverridesTheStateRoot) {
  ScopedEnv runroot("CTR_RUNROOT", "/tmp/some-runroot");
  EXPECT_EQ(runtime_state_root(), "/tmp/some-runroot");
  EXPECT_EQ(shim_state_dir("abc"), "/tmp/some-runroot/containers/abc");
  EXPECT_EQ(oci_runtime_root(), "/tmp/some-runroot/runtime");
}

TEST(CmdRunroot, RootlessDefaultIsTheSessionRuntimeDir) {
  if (::geteuid() == 0) GTEST_SKIP() << "RUNS-AS-ROOT: the rootless default needs an ordinary user";
  ScopedEnv runroot("CTR_RUNROOT", nullptr);
  ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/4242");
  EXPECT_EQ(runtime_state_root(), "/run/user/4242/ctr");
}

TEST(CmdRunroot, FlagIsExportedAbsolute) {
  ScopedEnv runroot("CTR_RUNROOT", nullptr);
  auto cli = build_cli();
  std::vector<const char*> argv{"ctr", "--runroot", "rel/state"};
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  try {
    cli->app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  } catch (const CLI::ParseError& error) {
    FAIL() << error.what();
  }
  ASSERT_NE(std::getenv("CTR_RUNROOT"), nullptr);
  EXPECT_EQ(std::string(std::getenv("CTR_RUNROOT")), std::string(cwd) + "/rel/state");
  EXPECT_EQ(runtime_state_root(), std::string(cwd) + "/rel/state");
}

TEST(CmdCreateOptions, PullPolicies) {
  EXPECT_TRUE(check_pull_policy("missing").ok());
  EXPECT_TRUE(check_pull_policy("never").ok());
  for (const char* later : {"always", "newer"}) {
    auto status = check_pull_policy(later);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, ENOTSUP);
    EXPECT_NE(status.error().message.find("not supported yet"), std::string::npos) << status.error().message;
  }
  auto bad = check_pull_policy("sometimes");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unsupported pull policy \"sometimes\""), std::string::npos);
}

TEST(CmdCreateOptions, ReplaceNeedsAName) {
  auto status = check_replace_and_cidfile(true, "", "");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "cannot replace container without --name being set");
  EXPECT_TRUE(check_replace_and_cidfile(true, "web", "").ok());
  EXPECT_TRUE(check_replace_and_cidfile(false, "", "").ok());
}

TEST(CmdCreateOptions, CidfileIsWrittenOnceAndAtomically) {
  auto dir = TempDir::create("ctr-cidfile-test-");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  std::string file = dir->path() + "/cid";
  EXPECT_TRUE(check_replace_and_cidfile(false, "", file).ok());
  ASSERT_TRUE(write_cidfile(file, "abc123").ok());
  auto text = read_file(file);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "abc123");
  // No temporary left beside it.
  auto names = read_file(dir->path() + "/.ctr-cidfile-" + std::to_string(::getpid()));
  EXPECT_FALSE(names.ok());

  auto exists = check_replace_and_cidfile(false, "", file);
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.error().message,
            "container id file exists. Ensure another container is not using it or delete " + file);
  auto again = write_cidfile(file, "def456");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST);
  EXPECT_EQ(*read_file(file), "abc123");
}

}  // namespace
}  // namespace ctr::cmd
