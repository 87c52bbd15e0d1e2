// `ctr run --rm` in the foreground removes the container itself as soon as
// it exits (not waiting for the shim's exit command), with everything the
// exit command's --rm removes: anonymous volumes too, named ones kept. When
// `ctr run` is killed first, the exit command still removes it. And the
// narrowed command tree (cmd/command_filter.h) answers like the whole one.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

using namespace std::chrono_literals;

TEST_F(CtrContainerTest, RunRmRemovesAnonymousVolumesKeepsNamedOnes) {
  auto out = ctr({"run", "--rm", "-v", "/data", "-v", "keep:/kept", "busybox", "sh", "-c",
                  "echo x > /data/f && echo y > /kept/f"});
  ASSERT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(trim(ctr({"ps", "-a", "-q"}).out), "") << "--rm left a container";
  EXPECT_EQ(trim(ctr({"volume", "ls", "-q"}).out), "keep") << "--rm must remove anonymous volumes only";
  auto status = ctr({"run", "--rm", "-v", "/data", "busybox", "sh", "-c", "exit 7"});
  EXPECT_EQ(status.code, 7) << status.describe();
  EXPECT_EQ(trim(ctr({"volume", "ls", "-q"}).out), "keep");
}

TEST_F(CtrContainerTest, RunRmKilledStillRemovedByExitCommand) {
  auto null_fd = open_fd("/dev/null", O_RDWR);
  ASSERT_TRUE(null_fd.ok());
  SpawnOptions options;
  options.stdin_fd = options.stdout_fd = options.stderr_fd = null_fd->get();
  Result<ChildProcess> run = make_error("not started");
  {
    auto lock = spawn_lock();
    run = spawn_process(
        {ctr_binary(), "--root", root_, "run", "--rm", "--name", "victim", "busybox", "sh", "-c", "echo up; sleep 1000"},
        options);
    if (run) track_child(run->pid());
  }
  ASSERT_TRUE(run.ok()) << run.error().message;
  // Started, not only created: the foreground run starts it after attaching.
  bool started = eventually([&] { return ctr({"logs", "victim"}).out == "up\n"; }, 30s);
  ::kill(run->pid(), SIGKILL);
  (void)run->wait(10s);
  untrack_child(run->pid());
  ASSERT_TRUE(started) << state_of("victim");
  auto killed = ctr({"kill", "victim"});
  EXPECT_EQ(killed.code, 0) << killed.describe();
  EXPECT_TRUE(eventually([&] { return trim(ctr({"ps", "-a", "-q"}).out).empty(); }, 30s))
      << "the exit command did not remove the --rm container: " << state_of("victim");
}

TEST_F(CtrContainerTest, NarrowedCommandTreeAnswersLikeTheWholeOne) {
  // Unknown commands and aliases go to the whole tree: same messages as ever.
  auto unknown = ctr({"runn"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_NE(unknown.err.find("unrecognized command `ctr runn`"), std::string::npos) << unknown.describe();
  auto unknown_sub = ctr({"container", "lss"});
  EXPECT_EQ(unknown_sub.code, 125);
  EXPECT_NE(unknown_sub.err.find("unrecognized command `ctr container lss`"), std::string::npos)
      << unknown_sub.describe();
  auto alias = ctr({"container", "list", "-a", "-q"});
  EXPECT_EQ(alias.code, 0) << alias.describe();
  auto bad_flag = ctr({"ps", "--bogus"});
  EXPECT_EQ(bad_flag.code, 125);
  EXPECT_NE(bad_flag.err.find("unknown flag: --bogus"), std::string::npos) << bad_flag.describe();
  auto cleanup_unknown = ctr({"container", "cleanup", "0123456789ab"});
  EXPECT_EQ(cleanup_unknown.code, 0) << "the exit command of a removed container has nothing to do: "
                                     << cleanup_unknown.describe();
}

}  // namespace
}  // namespace ctr::itest
