// Container lifecycle commands beyond run/start: stop/kill/rm with -a,
// podman's answers for a stopped or running container, restart, --restart
// policies applied by the exit command, logs --since/--until, and prune.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using namespace std::chrono_literals;

std::string first_line(const std::string& text) {
  return std::string(trim(text.substr(0, text.find('\n'))));
}

size_t count_of(const std::string& text, const std::string& word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + word.size())) ++n;
  return n;
}

TEST_F(CtrContainerTest, StopOfStoppedAndRmOfRunningAsPodman) {
  ASSERT_EQ(ctr({"create", "--name", "idle", "busybox", "true"}).code, 0);
  auto stopped = ctr({"stop", "idle"});  // podman: prints the name, exit 0
  EXPECT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(first_line(stopped.out), "idle");
  ASSERT_EQ(ctr({"run", "-d", "--name", "busy", "busybox", "sleep", "100"}).code, 0);
  auto rm = ctr({"rm", "busy"});
  EXPECT_EQ(rm.code, 2) << rm.describe();
  EXPECT_NE(rm.err.find("as it is running"), std::string::npos) << rm.err;
  auto killed_stopped = ctr({"kill", "idle"});
  EXPECT_EQ(killed_stopped.code, 125);
  EXPECT_NE(killed_stopped.err.find("can only kill running containers"), std::string::npos) << killed_stopped.err;
  EXPECT_EQ(ctr({"rm", "nosuch"}).code, 1);
}

TEST_F(CtrContainerTest, AllFlagsOfStopKillRm) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "a", "busybox", "sleep", "100"}).code, 0);
  ASSERT_EQ(ctr({"run", "-d", "--name", "b", "busybox", "sleep", "100"}).code, 0);
  auto stop = ctr({"stop", "-a", "-t", "0"});
  EXPECT_EQ(stop.code, 0) << stop.describe();
  EXPECT_EQ(count_of(stop.out, "\n"), 2u) << stop.out;
  EXPECT_TRUE(has_state("a", "exited") && has_state("b", "exited"));
  ASSERT_EQ(ctr({"start", "a"}).code, 0);
  auto kill = ctr({"kill", "-a"});
  EXPECT_EQ(kill.code, 0) << kill.describe();
  EXPECT_TRUE(eventually([&] { return has_state("a", "exited"); }));
  ASSERT_EQ(ctr({"run", "-d", "--name", "c", "busybox", "sleep", "100"}).code, 0);
  EXPECT_EQ(ctr({"rm", "-a"}).code, 2);  // c runs: needs -f, the others go
  auto rm = ctr({"rm", "-a", "-f", "-v"});
  EXPECT_EQ(rm.code, 0) << rm.describe();
  EXPECT_EQ(first_line(ctr({"ps", "-a", "-q"}).out), "");
  EXPECT_EQ(ctr({"stop"}).code, 125);
  EXPECT_EQ(ctr({"stop", "-a", "x"}).code, 125);
}

TEST_F(CtrContainerTest, RestartKeepsIdAndLogs) {
  auto run = ctr({"run", "-d", "--name", "r", "busybox", "sh", "-c", "echo hello; sleep 100"});
  ASSERT_EQ(run.code, 0) << run.describe();
  ASSERT_TRUE(eventually([&] { return ctr({"logs", "r"}).out == "hello\n"; }));
  std::string pid = first_line(ctr({"inspect", "--format", "{{.State.Pid}}", "r"}).out);
  auto restarted = ctr({"restart", "-t", "0", "r"});
  EXPECT_EQ(restarted.code, 0) << restarted.describe();
  EXPECT_EQ(first_line(restarted.out), "r");
  auto after = ctr({"inspect", "--format", "{{.Id}} {{.State.Status}} {{.State.Pid}}", "r"});
  auto words = split(first_line(after.out), ' ');
  ASSERT_EQ(words.size(), 3u) << after.out;
  EXPECT_EQ(words[0], first_line(run.out));
  EXPECT_EQ(words[1], "running");
  EXPECT_NE(words[2], pid);
  EXPECT_TRUE(eventually([&] { return ctr({"logs", "r"}).out == "hello\nhello\n"; }));
  // A stopped container is just started.
  ASSERT_EQ(ctr({"stop", "-t", "0", "r"}).code, 0);
  EXPECT_EQ(ctr({"restart", "r"}).code, 0);
  EXPECT_TRUE(has_state("r", "running"));
  EXPECT_EQ(ctr({"restart", "nosuch"}).code, 125);
}

TEST_F(CtrContainerTest, RestartPolicyOnFailureRetriesThenStops) {
  auto run = ctr({"run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c",
                  "echo attempt; exit 1"});
  ASSERT_EQ(run.code, 0) << run.describe();
  bool done = eventually(
      [&] {
        return first_line(ctr({"inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "flaky"}).out) ==
                   "2 exited" &&
               count_of(ctr({"logs", "flaky"}).out, "attempt") == 3;
      },
      30s);
  EXPECT_TRUE(done) << ctr({"inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "flaky"}).out
                    << ctr({"logs", "flaky"}).out;
  std::this_thread::sleep_for(500ms);  // no fourth run
  EXPECT_EQ(count_of(ctr({"logs", "flaky"}).out, "attempt"), 3u);
  EXPECT_EQ(first_line(ctr({"inspect", "--format", "{{.State.ExitCode}} {{json .HostConfig.RestartPolicy}}",
                            "flaky"})
                           .out),
            "1 {\"Name\":\"on-failure\",\"MaximumRetryCount\":2}");
}

TEST_F(CtrContainerTest, RestartPolicyAlwaysStopsOnUserStop) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "again", "--restart", "always", "busybox", "sh", "-c", "sleep 0.3"}).code, 0);
  EXPECT_TRUE(eventually([&] {
    auto count = ctr({"inspect", "--format", "{{.RestartCount}}", "again"});
    return std::atoi(first_line(count.out).c_str()) >= 2;
  }));
  auto stop = ctr({"stop", "-t", "0", "again"});
  EXPECT_EQ(stop.code, 0) << stop.describe();
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(has_state("again", "exited"));
  auto count = first_line(ctr({"inspect", "--format", "{{.RestartCount}}", "again"}).out);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(first_line(ctr({"inspect", "--format", "{{.RestartCount}}", "again"}).out), count);
}

TEST_F(CtrContainerTest, RestartPolicyErrors) {
  auto with_rm = ctr({"run", "--rm", "--restart", "always", "busybox", "true"});
  EXPECT_EQ(with_rm.code, 125);
  EXPECT_NE(with_rm.err.find("--rm option conflicts with --restart"), std::string::npos) << with_rm.err;
  auto bad = ctr({"create", "--restart", "sometimes", "busybox", "true"});
  EXPECT_EQ(bad.code, 125);
  EXPECT_NE(bad.err.find("sometimes"), std::string::npos) << bad.err;
}

TEST_F(CtrContainerTest, LogsSinceAndUntil) {
  ASSERT_EQ(ctr({"run", "--name", "talk", "busybox", "echo", "old"}).code, 0);
  EXPECT_EQ(ctr({"logs", "--since", "10m", "talk"}).out, "old\n");
  EXPECT_EQ(ctr({"logs", "--until", "10m", "talk"}).out, "old\n");
  EXPECT_EQ(ctr({"logs", "--until", "2000-01-01T00:00:00Z", "talk"}).out, "");
  EXPECT_EQ(ctr({"logs", "--since", "4000000000", "talk"}).out, "");
  EXPECT_EQ(ctr({"logs", "--since", "2000-01-01", "talk"}).out, "old\n");
  auto bad = ctr({"logs", "--since", "bogus", "talk"});
  EXPECT_EQ(bad.code, 125);
  EXPECT_NE(bad.err.find("--since \"bogus\""), std::string::npos) << bad.err;
}

TEST_F(CtrContainerTest, ContainerAndSystemPrune) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "keep", "busybox", "sleep", "100"}).code, 0);
  auto gone = ctr({"create", "--name", "gone", "busybox", "true"});
  ASSERT_EQ(ctr({"run", "--name", "done", "busybox", "true"}).code, 0);
  auto refused = ctr({"container", "prune"});  // no terminal, no -f
  EXPECT_EQ(refused.code, 125);
  EXPECT_NE(refused.err.find("-f"), std::string::npos) << refused.err;
  auto pruned = ctr({"container", "prune", "-f"});
  EXPECT_EQ(pruned.code, 0) << pruned.describe();
  EXPECT_EQ(count_of(pruned.out, "\n"), 2u) << pruned.out;
  EXPECT_NE(pruned.out.find(first_line(gone.out)), std::string::npos);
  EXPECT_EQ(first_line(ctr({"ps", "-a", "--format", "{{.Names}}"}).out), "keep");
  ASSERT_EQ(ctr({"create", "--name", "late", "busybox", "true"}).code, 0);
  auto system = ctr({"system", "prune", "-f"});
  EXPECT_EQ(system.code, 0) << system.describe();
  EXPECT_NE(system.out.find("Deleted Containers"), std::string::npos) << system.out;
  EXPECT_NE(system.out.find("Total reclaimed space:"), std::string::npos) << system.out;
  // busybox is used by `keep`: even -a leaves it.
  EXPECT_EQ(ctr({"system", "prune", "-a", "-f"}).code, 0);
  EXPECT_EQ(ctr({"image", "inspect", "busybox"}).code, 0);
  EXPECT_EQ(ctr({"system", "prune"}).code, 125);
}

}  // namespace
}  // namespace ctr::itest
