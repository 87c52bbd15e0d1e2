#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "runtime/base/files.h"
#include "runtime/hooks.h"

using namespace ctr;

namespace {

// A hook running `script` with /bin/sh; $1 is `arg`.
spec::Hook shell_hook(const std::string& script, const std::string& arg = "", std::vector<std::string> env = {},
                      std::optional<int> timeout = std::nullopt) {
  spec::Hook hook;
  hook.path = "/bin/sh";
  hook.args = {"hook-sh", "-c", script, "hook-sh", arg};
  hook.env = std::move(env);
  hook.timeout = timeout;
  return hook;
}

class Hooks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = TempDir::create("ctr-hooks-");
    ASSERT_TRUE(made) << made.error().message;
    dir_.emplace(std::move(*made));
  }
  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }
  std::optional<TempDir> dir_;
};

}  // namespace

TEST_F(Hooks, StateReachesStdinAndArgv0IsArgsZero) {
  std::string state = R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42})";
  auto status =
      run_hooks({shell_hook("cat > \"$1\"; echo \"$0\" > \"$1.argv0\"", path("state"))}, "createRuntime", state);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(*read_file(path("state")), state);
  EXPECT_EQ(*read_file(path("state.argv0")), "hook-sh\n");
}

TEST_F(Hooks, LargeStateDoesNotBlockAHookThatIgnoresStdin) {
  std::string state(1 << 20, 'x');  // far more than a pipe holds
  auto start = std::chrono::steady_clock::now();
  auto status = run_hooks({shell_hook("exit 0")}, "poststart", state);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(Hooks, EnvironmentIsExactlyTheHooks) {
  // /proc/$$/environ is what the shell was started with, before it adds PWD.
  std::string script = "tr '\\0' '\\n' < /proc/$$/environ > \"$1\"";
  ASSERT_TRUE(run_hooks({shell_hook(script, path("env"), {"A=1", "B=two words"})}, "prestart", "{}"));
  EXPECT_EQ(*read_file(path("env")), "A=1\nB=two words\n");

  ::setenv("CTR_HOOK_TEST_LEAK", "leaked", 1);
  ASSERT_TRUE(run_hooks({shell_hook(script, path("empty"))}, "prestart", "{}"));
  ::unsetenv("CTR_HOOK_TEST_LEAK");
  EXPECT_EQ(*read_file(path("empty")), "");
}

TEST_F(Hooks, FailureNamesKindIndexPathAndStderr) {
  auto status = run_hooks({shell_hook("exit 0"), shell_hook("echo first >&2; echo 'bad config' >&2; exit 3")},
                          "createRuntime", "{}");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "createRuntime hook #1 (/bin/sh): exited with status 3: first\nbad config");
}

TEST_F(Hooks, LongStderrIsCutToItsEnd) {
  auto status = run_hooks({shell_hook("i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done; exit 1")},
                          "poststop", "{}");
  ASSERT_FALSE(status);
  const std::string& message = status.error().message;
  EXPECT_LT(message.size(), 1200u);
  EXPECT_NE(message.find("line1999"), std::string::npos);
  EXPECT_EQ(message.find("line0\n"), std::string::npos);
}

TEST_F(Hooks, SignalledHookIsReported) {
  auto status = run_hooks({shell_hook("kill -TERM $$")}, "startContainer", "{}");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("startContainer hook #0 (/bin/sh): killed by signal 15"), std::string::npos)
      << status.error().message;
}

TEST_F(Hooks, TimeoutKillsTheHook) {
  // The background sleep keeps stderr open after the shell is killed; that
  // must not keep us waiting.
  auto start = std::chrono::steady_clock::now();
  auto status = run_hooks({shell_hook("echo starting >&2; sleep 5 & sleep 5", "", {}, 1)}, "prestart", "{}");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ETIMEDOUT);
  EXPECT_EQ(status.error().message, "prestart hook #0 (/bin/sh): timed out after 1s: starting");
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
}

TEST_F(Hooks, RunInOrderAndStopAtFirstFailure) {
  std::string log = path("log");
  auto status = run_hooks({shell_hook("echo one >> \"$1\"", log), shell_hook("echo two >> \"$1\"; exit 1", log),
                           shell_hook("echo three >> \"$1\"", log)},
                          "poststart", "{}");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("poststart hook #1"), std::string::npos);
  EXPECT_EQ(*read_file(log), "one\ntwo\n");
}

TEST_F(Hooks, MissingProgramIsAnError) {
  spec::Hook hook;
  hook.path = path("does-not-exist");
  auto status = run_hooks({hook}, "createContainer", "{}");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("createContainer hook #0 (" + hook.path + ")"), std::string::npos);
  EXPECT_EQ(status.error().code, ENOENT);
}
