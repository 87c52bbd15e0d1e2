// The container commands of `ctr`, for real, as the unprivileged user on a
// fresh store per test with the busybox fixture imported: run (detached,
// foreground, error codes), ps, logs, stop/kill/rm/wait, the process flags,
// and the seed scenario of issue 4 (a detached container outlives a killed
// launcher and keeps logging without a gap).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

using namespace std::chrono_literals;

// Issue 4's seed scenario: the launcher (a shell around `ctr run -d`) is
// SIGKILLed with its whole process group right after ctr returns; the
// container keeps running and logging, and its log has every line in order.
TEST_F(CtrContainerTest, DetachedContainerOutlivesKilledLauncher) {
  std::string done = path("launched");
  std::string script = shell_quote(ctr_binary()) + " --root " + shell_quote(root_) +
                       " run -d --name seed busybox sh -c 'i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; "
                       "done' > " +
                       shell_quote(done) + ".tmp && mv " + shell_quote(done) + ".tmp " + shell_quote(done) +
                       "; sleep 100";
  SpawnOptions options;
  Result<ChildProcess> launcher = make_error("not started");
  {
    auto lock = spawn_lock();
    launcher = spawn_process({"setsid", "/bin/sh", "-c", script}, options);
    if (launcher) track_child(launcher->pid());
  }
  ASSERT_TRUE(launcher.ok()) << launcher.error().message;
  pid_t group = launcher->pid();
  bool launched = eventually([&] { return path_exists(done); }, 30s);
  ::kill(-group, SIGKILL);
  (void)launcher->wait(10s);
  untrack_child(group);
  ASSERT_TRUE(launched) << "ctr run -d did not return";
  auto id = read_file(done);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(std::regex_match(std::string(trim(*id)), std::regex("[0-9a-f]{64}"))) << *id;

  std::string logs;
  ASSERT_TRUE(eventually([&] {
    logs = ctr({"logs", "seed"}).out;
    return std::count(logs.begin(), logs.end(), '\n') >= 15;
  })) << logs;
  EXPECT_TRUE(has_state("seed", "running")) << state_of("seed");
  auto lines = split(trim(logs), '\n');
  for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(lines[i], "line " + std::to_string(i)) << logs;
}

TEST_F(CtrContainerTest, CreateErrorsGivePodmanExitCodes) {
  auto missing = ctr({"run", "busybox", "bahs"});
  EXPECT_EQ(missing.code, 127) << missing.describe();
  EXPECT_NE(missing.err.find("bahs"), std::string::npos) << missing.describe();
  auto not_executable = ctr({"run", "-d", "busybox", "/etc/passwd"});
  EXPECT_EQ(not_executable.code, 126) << not_executable.describe();
  auto no_image = ctr({"run", "nosuchimage", "true"});
  EXPECT_EQ(no_image.code, 125) << no_image.describe();
}

TEST_F(CtrContainerTest, ForegroundRunReturnsStatusAndRmRemoves) {
  auto out = ctr({"run", "--rm", "busybox", "sh", "-c", "echo hi; echo oops >&2; exit 3"});
  EXPECT_EQ(out.code, 3) << out.describe();
  EXPECT_EQ(out.out, "hi\n");
  EXPECT_EQ(out.err, "oops\n");
  EXPECT_EQ(trim(ctr({"ps", "-a", "-q"}).out), "") << "--rm left a container";
  auto kept = ctr({"run", "--name", "kept", "busybox", "true"});
  EXPECT_EQ(kept.code, 0) << kept.describe();
  EXPECT_TRUE(has_state("kept", "exited")) << state_of("kept");
}

TEST_F(CtrContainerTest, PsShowsStates) {
  ASSERT_EQ(ctr({"create", "--name", "c1", "busybox", "true"}).code, 0);
  ASSERT_EQ(ctr({"run", "-d", "--name", "r1", "busybox", "sleep", "100"}).code, 0);
  ASSERT_EQ(ctr({"run", "-d", "--name", "e1", "busybox", "sh", "-c", "exit 4"}).code, 0);
  auto waited = ctr({"wait", "e1"});
  EXPECT_EQ(waited.code, 0) << waited.describe();
  EXPECT_EQ(trim(waited.out), "4");

  auto table = ctr({"ps", "-a"});
  ASSERT_EQ(table.code, 0) << table.describe();
  EXPECT_TRUE(
      std::regex_search(table.out, std::regex("^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n")))
      << table.out;
  EXPECT_TRUE(
      std::regex_search(table.out, std::regex("[0-9a-f]{12}  localhost/busybox:latest +true +.* Created +c1\n")))
      << table.out;
  EXPECT_TRUE(std::regex_search(table.out, std::regex("sleep 100 +.* Up .* r1\n"))) << table.out;
  EXPECT_TRUE(std::regex_search(table.out, std::regex("Exited \\(4\\) .* e1\n"))) << table.out;

  EXPECT_EQ(trim(ctr({"ps", "--format", "{{.Names}}"}).out), "r1");
  EXPECT_EQ(trim(ctr({"ps", "-a", "--format", "{{.Names}} {{.State}}"}).out), "e1 exited\nr1 running\nc1 created");
  auto quiet = split(trim(ctr({"ps", "-a", "-q"}).out), '\n');
  ASSERT_EQ(quiet.size(), 3u);
  for (const auto& id : quiet) EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{12}"))) << id;
  EXPECT_EQ(trim(ctr({"container", "ls", "-q"}).out), quiet[1]) << "newest first: e1, r1, c1";

  ASSERT_EQ(ctr({"start", "c1"}).code, 0);
  EXPECT_EQ(trim(ctr({"wait", "c1"}).out), "0");
}

TEST_F(CtrContainerTest, StopKillRm) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "stubborn", "busybox", "sh", "-c",
                 "trap '' TERM; echo ready; while :; do sleep 0.1; done"})
                .code,
            0);
  ASSERT_TRUE(eventually([&] { return ctr({"logs", "stubborn"}).out == "ready\n"; }));
  auto started = std::chrono::steady_clock::now();
  auto stopped = ctr({"stop", "-t", "1", "stubborn"});
  EXPECT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(stopped.out, "stubborn\n");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms) << "SIGTERM should have been ignored";
  EXPECT_EQ(trim(ctr({"wait", "stubborn"}).out), "137");

  ASSERT_EQ(
      ctr({"run", "-d", "--name", "victim", "busybox", "sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.1; done"})
          .code,
      0);
  ASSERT_TRUE(eventually([&] { return has_state("victim", "running"); }));
  // The trap is set once sh runs its loop; signal until it takes.
  EXPECT_TRUE(eventually([&] {
    (void)ctr({"kill", "-s", "USR1", "victim"});
    return has_state("victim", "exited");
  }));
  EXPECT_EQ(trim(ctr({"wait", "victim"}).out), "42");
  auto dead = ctr({"kill", "victim"});
  EXPECT_EQ(dead.code, 125) << dead.describe();
  EXPECT_NE(dead.err.find("state improper"), std::string::npos) << dead.describe();

  ASSERT_EQ(ctr({"run", "-d", "--name", "busy", "busybox", "sleep", "100"}).code, 0);
  auto refused = ctr({"rm", "busy"});
  EXPECT_EQ(refused.code, 2) << refused.describe();
  EXPECT_NE(refused.err.find("is running"), std::string::npos) << refused.describe();
  auto forced = ctr({"rm", "-f", "busy"});
  EXPECT_EQ(forced.code, 0) << forced.describe();
  EXPECT_EQ(state_of("busy").find("busy "), std::string::npos);

  auto unknown = ctr({"rm", "nosuch"});
  EXPECT_EQ(unknown.code, 1) << unknown.describe();
  EXPECT_NE(unknown.err.find("no container with name or ID `nosuch`"), std::string::npos) << unknown.describe();
  EXPECT_EQ(ctr({"stop", "nosuch"}).code, 125);
  auto conflict = ctr({"create", "--name", "stubborn", "busybox", "true"});
  EXPECT_EQ(conflict.code, 125) << conflict.describe();
  EXPECT_NE(conflict.err.find("already in use"), std::string::npos) << conflict.describe();

  // 17 IDs over 16 hex digits: two share their first digit.
  std::map<char, int> first_digits;
  for (int i = 0; i < 17; ++i) {
    auto made = ctr({"create", "busybox", "true"});
    ASSERT_EQ(made.code, 0) << made.describe();
    first_digits[made.out[0]]++;
  }
  for (const auto& [digit, count] : first_digits) {
    if (count < 2) continue;
    auto ambiguous = ctr({"rm", std::string(1, digit)});
    EXPECT_EQ(ambiguous.code, 125) << ambiguous.describe();
    EXPECT_NE(ambiguous.err.find("more than one container matches"), std::string::npos) << ambiguous.describe();
    break;
  }
}

TEST_F(CtrContainerTest, LogsTimestampsTailFollow) {
  ASSERT_EQ(ctr({"run", "--name", "counted", "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo n$i; done"}).code, 0);
  EXPECT_EQ(ctr({"logs", "counted"}).out, "n1\nn2\nn3\nn4\nn5\n");
  EXPECT_EQ(ctr({"logs", "--tail", "2", "counted"}).out, "n4\nn5\n");
  EXPECT_EQ(ctr({"logs", "--tail", "0", "counted"}).out, "");
  auto stamped = ctr({"logs", "-t", "--tail", "1", "counted"});
  EXPECT_TRUE(
      std::regex_match(stamped.out, std::regex("20\\d\\d-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}\\+00:00 n5\n")))
      << stamped.out;

  ASSERT_EQ(ctr({"run", "-d", "--name", "slow", "busybox", "sh", "-c",
                 "for i in 1 2 3; do echo s$i; sleep 0.3; done; echo bye >&2"})
                .code,
            0);
  auto followed = ctr({"logs", "-f", "slow"}, 30);
  EXPECT_EQ(followed.code, 0) << followed.describe();
  EXPECT_EQ(followed.out, "s1\ns2\ns3\n");
  EXPECT_EQ(followed.err, "bye\n");
  EXPECT_TRUE(has_state("slow", "exited"));
}

TEST_F(CtrContainerTest, ProcessFlagsTakeEffect) {
  auto out = ctr({"run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "nobody", "--hostname", "myhost", "busybox", "sh",
                  "-c", "id; pwd; echo $FOO; hostname"});
  EXPECT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(out.out, "uid=65534(nobody) gid=65534(nogroup)\n/tmp\nbar\nmyhost\n");
  auto numeric = ctr({"run", "--rm", "-u", "1000:1000", "busybox", "id", "-u"});
  EXPECT_EQ(numeric.out, "1000\n") << numeric.describe();
  auto entry = ctr({"run", "--rm", "--entrypoint", "echo", "busybox", "hello", "there"});
  EXPECT_EQ(entry.out, "hello there\n") << entry.describe();
  auto env = ctr({"run", "--rm", "busybox", "env"});
  EXPECT_NE(env.out.find("PATH=/usr/local/sbin:"), std::string::npos) << env.describe();
  auto short_host = ctr({"run", "--name", "h", "busybox", "hostname"});
  auto id = ctr({"ps", "-a", "--format", "{{.ID}}"});
  EXPECT_EQ(short_host.out, id.out) << "the default host name is the short ID";
  auto bad_user = ctr({"run", "--rm", "-u", "nosuchuser", "busybox", "true"});
  EXPECT_EQ(bad_user.code, 125) << bad_user.describe();
  EXPECT_NE(bad_user.err.find("nosuchuser"), std::string::npos) << bad_user.describe();
}

TEST_F(CtrContainerTest, RmiForceKillsRunningContainers) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "user", "busybox", "sleep", "100"}).code, 0);
  auto refused = ctr({"rmi", "busybox"});
  EXPECT_EQ(refused.code, 2) << refused.describe();
  auto forced = ctr({"rmi", "-f", "busybox"});
  EXPECT_EQ(forced.code, 0) << forced.describe();
  EXPECT_EQ(trim(ctr({"ps", "-a", "-q"}).out), "");
  EXPECT_EQ(trim(ctr({"images", "-q"}).out), "");
}

}  // namespace
}  // namespace ctr::itest
