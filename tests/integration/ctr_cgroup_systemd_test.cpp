// Cgroups under a real systemd user manager (labelled needs-systemd:
// scripts/test.sh runs this binary in a transient service of a manager it
// starts). There the v2 tree has no controllers enabled, so the tests check
// the scope's unit properties and where processes sit; the enforcement
// tests run only where the controller is delegated.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <future>

#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

class CtrCgroupSystemdTest : public CtrContainerTest {
 protected:
  void SetUp() override {
    const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
    if (!bus || !*bus)
      GTEST_SKIP() << "NO-USER-MANAGER: no systemd user bus (DBUS_SESSION_BUS_ADDRESS); scripts/test.sh runs these "
                      "tests inside a systemd --user it starts";
    auto state = systemctl({"is-system-running"});
    if (trim(state.out).empty() || trim(state.out) == "offline")
      GTEST_SKIP() << "NO-USER-MANAGER: systemctl --user does not reach a manager: " << state.describe();
    CtrContainerTest::SetUp();
  }

  static CommandOutput systemctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"systemctl", "--user"});
    return run_tracked(args);
  }
  static std::string property(const std::string& unit, const std::string& name) {
    return std::string(trim(systemctl({"show", "-P", name, unit}).out));
  }
  // The v2 line of /proc/PID/cgroup.
  static std::string cgroup_of(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text) return "";
    for (const auto& line : split(*text, '\n'))
      if (starts_with(line, "0::")) return line.substr(3);
    return "";
  }
  pid_t payload_pid(const std::string& name) {
    auto pid = parse_u64(trim(ctr({"inspect", "-f", "{{.State.Pid}}", name}).out));
    return pid ? static_cast<pid_t>(*pid) : 0;
  }
  static pid_t shim_pid(const std::string& id) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    auto text = read_file(std::string(runtime ? runtime : "") + "/ctr/containers/" + id + "/shim.pid");
    if (!text) return 0;
    auto pid = parse_u64(split(std::string(trim(*text)), ' ')[0]);
    return pid ? static_cast<pid_t>(*pid) : 0;
  }
  static std::vector<std::string> own_controllers() {
    std::string own = "/sys/fs/cgroup" + cgroup_of(::getpid());
    auto text = read_file(own + "/cgroup.controllers");
    return text ? split(std::string(trim(*text)), ' ') : std::vector<std::string>{};
  }
  static bool has_controller(const std::string& name) {
    for (const auto& c : own_controllers())
      if (c == name) return true;
    return false;
  }
};

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

TEST_F(CtrCgroupSystemdTest, ScopeHasDelegateLimitsAndTwoLeaves) {
  auto info = ctr({"info", "--format", "{{.host.cgroupManager}}"});
  EXPECT_EQ(trim(info.out), "systemd") << info.describe();
  auto run = ctr({"run", "-d", "--name", "limited", "-m", "64m", "--memory-swap", "128m", "--memory-reservation",
                  "32m", "--cpus", "1.5", "--cpu-shares", "512", "--pids-limit", "50", "--blkio-weight", "500",
                  "busybox", "sh", "-c", "cat /proc/self/cgroup; exec sleep 100"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  std::string unit = "ctr-" + id + ".scope";
  EXPECT_EQ(property(unit, "Delegate"), "yes");
  EXPECT_EQ(property(unit, "Slice"), "user.slice");
  EXPECT_EQ(property(unit, "MemoryMax"), std::to_string(64 << 20));
  EXPECT_EQ(property(unit, "MemorySwapMax"), std::to_string(64 << 20));  // swap alone: 128m - 64m
  EXPECT_EQ(property(unit, "MemoryLow"), std::to_string(32 << 20));
  EXPECT_EQ(property(unit, "CPUQuotaPerSecUSec"), "1.500000s");
  EXPECT_EQ(property(unit, "CPUWeight"), "20");  // shares 512, crun's conversion
  EXPECT_EQ(property(unit, "TasksMax"), "50");
  EXPECT_EQ(property(unit, "IOWeight"), "4950");
  std::string scope = property(unit, "ControlGroup");
  ASSERT_FALSE(scope.empty());
  pid_t payload = payload_pid("limited");
  pid_t shim = shim_pid(id);
  ASSERT_GT(payload, 0);
  ASSERT_GT(shim, 0);
  EXPECT_EQ(cgroup_of(payload), scope + "/container");
  EXPECT_EQ(cgroup_of(shim), scope + "/supervisor");
  // The container's cgroup namespace: its own cgroup is `/`.
  ASSERT_TRUE(eventually([&] { return ctr({"logs", "limited"}).out.find("0::") != std::string::npos; }));
  EXPECT_NE(ctr({"logs", "limited"}).out.find("0::/\n"), std::string::npos) << ctr({"logs", "limited"}).out;

  // An exec'd process joins the container's cgroup (and namespace).
  auto exec = ctr({"exec", "limited", "cat", "/proc/self/cgroup"});
  EXPECT_EQ(exec.code, 0) << exec.describe();
  EXPECT_NE(exec.out.find("0::/\n"), std::string::npos) << exec.out;

  auto removed = ctr({"rm", "-f", "limited"});
  EXPECT_EQ(removed.code, 0) << removed.describe();
  EXPECT_NE(::kill(payload, 0), 0) << "the payload outlived rm -f";
  EXPECT_TRUE(eventually([&] { return ::kill(shim, 0) != 0; }, std::chrono::seconds(10))) << "the shim outlived rm -f";
  EXPECT_TRUE(eventually([&] { return property(unit, "LoadState") == "not-found"; }, std::chrono::seconds(10)))
      << property(unit, "ActiveState");
  EXPECT_FALSE(path_exists("/sys/fs/cgroup" + scope));
}

TEST_F(CtrCgroupSystemdTest, RmForceLeavesNoProcessBehind) {
  // A daemonised grandchild leaves the init's tree; cgroup.kill still finds it.
  auto run = ctr({"run", "-d", "--name", "forked", "busybox", "sh", "-c", "setsid sleep 300 & exec sleep 300"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  std::string scope = property("ctr-" + id + ".scope", "ControlGroup");
  std::string procs = "/sys/fs/cgroup" + scope + "/container/cgroup.procs";
  ASSERT_TRUE(eventually([&] {
    auto text = read_file(procs);
    return text && split(std::string(trim(*text)), '\n').size() >= 2;
  }));
  auto pids = split(std::string(trim(*read_file(procs))), '\n');
  EXPECT_EQ(ctr({"rm", "-f", "forked"}).code, 0);
  for (const auto& pid : pids) EXPECT_NE(::kill(static_cast<pid_t>(*parse_u64(pid)), 0), 0) << "pid " << pid;
  EXPECT_FALSE(path_exists("/sys/fs/cgroup" + scope));
}

TEST_F(CtrCgroupSystemdTest, RestartPolicyRelaunchesInTheSameScope) {
  // The relaunch comes from the old shim's exit command, inside the scope.
  auto run = ctr({"run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c",
                  "cat /proc/self/cgroup; exit 1"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  bool done = eventually([&] {
    return trim(ctr({"inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "flaky"}).out) == "2 exited";
  });
  EXPECT_TRUE(done) << ctr({"inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "flaky"}).out
                    << ctr({"logs", "flaky"}).out;
  auto logs = ctr({"logs", "flaky"}).out;
  size_t runs = 0;
  for (size_t at = logs.find("0::/\n"); at != std::string::npos; at = logs.find("0::/\n", at + 1)) ++runs;
  EXPECT_EQ(runs, 3u) << logs;
  EXPECT_EQ(ctr({"rm", "-f", "flaky"}).code, 0);
  EXPECT_TRUE(eventually([&] { return property("ctr-" + id + ".scope", "LoadState") == "not-found"; },
                         std::chrono::seconds(10)));
}

TEST_F(CtrCgroupSystemdTest, CgroupParentAndBadSlice) {
  auto run = ctr({"run", "--rm", "--cgroup-parent", "ctrtest.slice", "busybox", "true"});
  EXPECT_EQ(run.code, 0) << run.describe();
  auto bad = ctr({"run", "--rm", "--cgroup-parent", "/not/a/slice", "busybox", "true"});
  EXPECT_EQ(bad.code, 125) << bad.describe();
  EXPECT_NE(bad.err.find("slice"), std::string::npos) << bad.err;
}

TEST_F(CtrCgroupSystemdTest, SplitGoesBelowOwnUnit) {
  std::string own = cgroup_of(::getpid());
  auto run = ctr({"run", "-d", "--name", "split", "--cgroups=split", "busybox", "sleep", "100"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  pid_t payload = payload_pid("split");
  ASSERT_GT(payload, 0);
  std::string cgroup = cgroup_of(payload);
  EXPECT_TRUE(starts_with(cgroup, own + "/")) << cgroup << " not below " << own;
  EXPECT_TRUE(ends_with(cgroup, "/ctr-" + id + "/container")) << cgroup;
  EXPECT_EQ(property("ctr-" + id + ".scope", "LoadState"), "not-found");
  EXPECT_EQ(ctr({"rm", "-f", "split"}).code, 0);
  EXPECT_FALSE(path_exists("/sys/fs/cgroup" + cgroup));
}

TEST_F(CtrCgroupSystemdTest, ManagerNoneRunsWithoutCgroup) {
  std::string own = cgroup_of(::getpid());
  auto run = ctr({"--cgroup-manager", "none", "run", "-d", "--name", "plain", "busybox", "sleep", "100"});
  ASSERT_EQ(run.code, 0) << run.describe();
  EXPECT_EQ(run.err, "") << "no warning when none was asked for";
  pid_t payload = payload_pid("plain");
  ASSERT_GT(payload, 0);
  EXPECT_EQ(cgroup_of(payload), own);
  auto limited = ctr({"--cgroup-manager", "none", "run", "--rm", "-m", "64m", "busybox", "true"});
  EXPECT_EQ(limited.code, 125);
  EXPECT_NE(limited.err.find("memory controller"), std::string::npos) << limited.err;
}

// "key value" lines (cgroup.events): the value of `key`.
std::string flat_value(const std::string& text, const std::string& key) {
  for (const auto& line : split(text, '\n'))
    if (starts_with(line, key + " ")) return line.substr(key.size() + 1);
  return "";
}

// The lines a counting container has logged so far.
size_t logged_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(CtrCgroupSystemdTest, PauseFreezesAndUnpauseThaws) {
  auto run = ctr({"run", "-d", "--name", "counter", "busybox", "sh", "-c",
                  "i=0; while :; do i=$((i+1)); echo $i; usleep 20000; done"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  std::string events = "/sys/fs/cgroup" + property("ctr-" + id + ".scope", "ControlGroup") + "/container/cgroup.events";
  auto lines = [&] { return logged_lines(ctr({"logs", "counter"}).out); };
  auto frozen = [&] {
    auto text = read_file(events);
    return text ? std::string(trim(flat_value(*text, "frozen"))) : std::string("unreadable");
  };
  ASSERT_TRUE(eventually([&] { return lines() >= 3; })) << ctr({"logs", "counter"}).describe();

  auto paused = ctr({"pause", "counter"});
  ASSERT_EQ(paused.code, 0) << paused.describe();
  EXPECT_EQ(paused.out, "counter\n");
  EXPECT_EQ(frozen(), "1");
  EXPECT_EQ(trim(ctr({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "counter"}).out), "paused true");
  EXPECT_EQ(trim(ctr({"ps", "--format", "{{.Status}}"}).out), "Paused");
  // Frozen: the counter stops (what was in the pipe has drained by now).
  usleep(200 * 1000);
  size_t frozen_at = lines();
  usleep(500 * 1000);
  EXPECT_EQ(lines(), frozen_at) << "the container ran while paused";
  auto again = ctr({"pause", "counter"});
  EXPECT_EQ(again.code, 125);
  EXPECT_NE(again.err.find("already paused"), std::string::npos) << again.err;

  auto thawed = ctr({"unpause", "counter"});
  ASSERT_EQ(thawed.code, 0) << thawed.describe();
  EXPECT_EQ(thawed.out, "counter\n");
  EXPECT_EQ(frozen(), "0");
  EXPECT_TRUE(eventually([&] { return lines() > frozen_at; })) << "the counter did not resume";
  EXPECT_EQ(trim(ctr({"inspect", "-f", "{{.State.Status}}", "counter"}).out), "running");
  auto not_paused = ctr({"unpause", "counter"});
  EXPECT_EQ(not_paused.code, 125);
  EXPECT_NE(not_paused.err.find("is not paused"), std::string::npos) << not_paused.err;

  // A paused container is removed with rm -f, nothing left behind.
  ASSERT_EQ(ctr({"pause", "-a"}).code, 0);
  pid_t payload = payload_pid("counter");
  auto removed = ctr({"rm", "-f", "counter"});
  EXPECT_EQ(removed.code, 0) << removed.describe();
  ASSERT_GT(payload, 0);
  EXPECT_NE(::kill(payload, 0), 0) << "the paused payload outlived rm -f";
}

TEST_F(CtrCgroupSystemdTest, StopAndKillOfAPausedContainer) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "sleeper", "busybox", "sh", "-c",
                 "trap 'exit 3' TERM; while :; do usleep 20000; done"})
                .code,
            0);
  ASSERT_EQ(ctr({"pause", "sleeper"}).code, 0);
  // The SIGTERM is handled once stop thaws the container: exit 3, not a
  // SIGKILL (137) after the timeout.
  auto stopped = ctr({"stop", "-t", "60", "sleeper"});
  EXPECT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(trim(ctr({"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "sleeper"}).out), "exited 3");
  ASSERT_EQ(ctr({"start", "sleeper"}).code, 0);
  ASSERT_EQ(ctr({"pause", "sleeper"}).code, 0);
  EXPECT_EQ(ctr({"kill", "sleeper"}).code, 0);
  auto waited = ctr({"wait", "sleeper"});
  EXPECT_EQ(trim(waited.out), "137") << waited.describe();
  EXPECT_EQ(ctr({"rm", "sleeper"}).code, 0);
}

TEST_F(CtrCgroupSystemdTest, UpdateSetsTheScopeProperties) {
  auto run = ctr({"run", "-d", "--name", "grow", "--pids-limit", "50", "-m", "64m", "busybox", "sleep", "300"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  std::string unit = "ctr-" + id + ".scope";
  auto updated = ctr({"update", "--pids-limit", "80", "--memory", "128m", "--cpus", "0.5", "grow"});
  ASSERT_EQ(updated.code, 0) << updated.describe();
  EXPECT_EQ(trim(updated.out), id);
  EXPECT_EQ(property(unit, "TasksMax"), "80");
  EXPECT_EQ(property(unit, "MemoryMax"), std::to_string(128 << 20));
  EXPECT_EQ(property(unit, "CPUQuotaPerSecUSec"), "500ms");
  auto none = ctr({"update", "grow"});
  EXPECT_EQ(none.code, 125);
  EXPECT_NE(none.err.find("at least one resource flag"), std::string::npos) << none.err;
  auto bad = ctr({"update", "--memory", "lots", "grow"});
  EXPECT_EQ(bad.code, 125);
  EXPECT_NE(bad.err.find("lots"), std::string::npos) << bad.err;
  EXPECT_EQ(ctr({"rm", "-f", "grow"}).code, 0);
}

// inspect's HostConfig limits as podman shows them, and `ctr update`
// changes reflected there (it rewrites the record).
TEST_F(CtrCgroupSystemdTest, InspectShowsTheLimitsAndUpdates) {
  auto run = ctr({"run", "-d", "--name", "limited", "-m", "64m", "--memory-reservation", "32m", "--memory-swap",
                  "128m", "--cpus", "1.5", "--cpu-shares", "512", "--pids-limit", "50", "--blkio-weight", "300",
                  "--oom-score-adj", "200", "busybox", "sleep", "300"});
  ASSERT_EQ(run.code, 0) << run.describe();
  const std::string format =
      "{{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwap}} "
      "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuShares}} "
      "{{.HostConfig.PidsLimit}} {{.HostConfig.BlkioWeight}} {{.HostConfig.OomScoreAdj}} "
      "[{{.HostConfig.CpusetCpus}}]";
  auto before = ctr({"inspect", "--format", format, "limited"});
  ASSERT_EQ(before.code, 0) << before.describe();
  EXPECT_EQ(trim(before.out), "67108864 33554432 134217728 1500000000 150000 100000 512 50 300 200 []");
  auto updated = ctr({"update", "--memory", "96m", "--memory-swap", "192m", "--cpus", "0.5", "--pids-limit", "80",
                      "limited"});
  ASSERT_EQ(updated.code, 0) << updated.describe();
  auto after = ctr({"inspect", "--format", format, "limited"});
  EXPECT_EQ(trim(after.out), "100663296 33554432 201326592 500000000 50000 100000 512 80 300 200 []");
  EXPECT_EQ(ctr({"rm", "-f", "limited"}).code, 0);
}

TEST_F(CtrCgroupSystemdTest, StatsReportsFromTheCgroup) {
  ASSERT_EQ(ctr({"run", "-d", "--name", "busy", "busybox", "sleep", "300"}).code, 0);
  auto stats = ctr({"stats", "--no-stream", "--format", "json", "busy"});
  ASSERT_EQ(stats.code, 0) << stats.describe();
  auto rows = nlohmann::json::parse(stats.out, nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1) << stats.out;
  EXPECT_EQ(rows[0].value("name", ""), "busy");
  // cpu.stat is a core file: CPU is known even without the cpu controller.
  EXPECT_NE(rows[0].value("cpu_percent", "--"), "--") << stats.out;
  std::string pids = rows[0].value("pids", "");
  EXPECT_EQ(pids, has_controller("pids") ? "1" : "--") << stats.out;
  auto table = ctr({"stats", "--no-stream"});
  EXPECT_EQ(table.code, 0);
  EXPECT_EQ(table.out.rfind("ID ", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("busy"), std::string::npos) << table.out;
  EXPECT_EQ(ctr({"rm", "-f", "busy"}).code, 0);
}

// ctr-runtime events reads the same cgroup files, in runc's JSON shape.
TEST_F(CtrCgroupSystemdTest, RuntimeEventsReportStats) {
  auto run = ctr({"run", "-d", "--name", "ev", "busybox", "sleep", "300"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id(trim(run.out));
  const char* runroot = std::getenv("CTR_RUNROOT");
  std::string root = (runroot && *runroot ? std::string(runroot) : std::string(std::getenv("XDG_RUNTIME_DIR")) + "/ctr") +
                     "/runtime";
  auto once = run_command({runtime_binary(), "--root", root, "events", "--stats", id});
  ASSERT_EQ(once.code, 0) << once.describe();
  auto event = nlohmann::json::parse(once.out, nullptr, false);
  ASSERT_TRUE(event.is_object()) << once.out;
  EXPECT_EQ(event.value("type", ""), "stats");
  EXPECT_EQ(event.value("id", ""), id);
  // cpu.stat is a core file: CPU time is known even without the cpu controller.
  EXPECT_TRUE(event["data"]["cpu"]["usage"]["total"].is_number()) << once.out;
  // The streaming form prints every interval and ends when the container does.
  std::string lines_file = path("events");
  auto streamed = std::async(std::launch::async, [&] {
    return run_shell(shell_quote(runtime_binary()) + " --root " + shell_quote(root) + " events --interval 100ms " + id +
                         " > " + shell_quote(lines_file),
                     60);
  });
  ASSERT_TRUE(eventually([&] {
    auto text = read_file(lines_file);
    return text && std::count(text->begin(), text->end(), '\n') >= 2;
  })) << "no stats events every 100ms";
  EXPECT_EQ(ctr({"rm", "-f", "ev"}).code, 0);
  auto stream = streamed.get();
  EXPECT_EQ(stream.code, 0) << stream.describe();
  auto bad = run_command({runtime_binary(), "--root", root, "events", "--interval", "soon", id});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("invalid --interval `soon`"), std::string::npos) << bad.describe();
}

TEST_F(CtrCgroupSystemdTest, MemoryLimitOomKills) {
  if (!has_controller("memory"))
    GTEST_SKIP() << "NO-CGROUP-CONTROLLERS: the memory controller is not delegated to this user's cgroup v2 tree "
                    "(cgroup.controllers is empty), so a limit cannot be enforced here";
  auto run = ctr({"run", "--rm", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                  "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"});
  EXPECT_EQ(run.code, 137) << run.describe();
}

TEST_F(CtrCgroupSystemdTest, OomKillShowsInInspect) {
  if (!has_controller("memory"))
    GTEST_SKIP() << "NO-CGROUP-CONTROLLERS: the memory controller is not delegated to this user's cgroup v2 tree "
                    "(cgroup.controllers is empty), so no OOM kill can happen here";
  auto run = ctr({"run", "-d", "--name", "hog", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                  "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"});
  ASSERT_EQ(run.code, 0) << run.describe();
  auto waited = ctr({"wait", "hog"});
  EXPECT_EQ(trim(waited.out), "137") << waited.describe();
  EXPECT_EQ(trim(ctr({"inspect", "-f", "{{.State.OOMKilled}}", "hog"}).out), "true");
  EXPECT_EQ(ctr({"rm", "-f", "hog"}).code, 0);
}

TEST_F(CtrCgroupSystemdTest, PidsLimitIsHit) {
  if (!has_controller("pids"))
    GTEST_SKIP() << "NO-CGROUP-CONTROLLERS: the pids controller is not delegated to this user's cgroup v2 tree "
                    "(cgroup.controllers is empty), so a limit cannot be enforced here";
  auto run = ctr({"run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c",
                  "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>/dev/null; wait; echo done"});
  EXPECT_NE(run.err.find("fork"), std::string::npos) << run.describe();
}

}  // namespace
}  // namespace ctr::itest
