// Cgroups without a systemd user bus (as under su or cron, and in the
// regular integration phase): the manager that applies, the one warning
// when containers get no cgroup, limits refused with the fix, bad values.
// The systemd side is ctr_cgroup_systemd_test.cpp (needs-systemd).
#include <unistd.h>

#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

class CtrCgroupTest : public CtrContainerTest {
 protected:
  std::string manager() { return std::string(trim(ctr({"info", "--format", "{{.host.cgroupManager}}"}).out)); }
  // ctr with a runtime dir of its own, so the once-per-session warning is fresh.
  CommandOutput ctr_fresh_session(std::vector<std::string> args) {
    args.insert(args.begin(), {"--runroot", path("run")});
    return ctr(std::move(args));
  }
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(CtrCgroupTest, InfoSaysWhichManagerAndWhy) {
  auto info = ctr({"info", "--format", "json"});
  ASSERT_EQ(info.code, 0) << info.describe();
  EXPECT_NE(info.out.find("\"cgroupManager\""), std::string::npos);
  EXPECT_NE(info.out.find("\"cgroupManagerReason\""), std::string::npos);
  auto none = ctr({"--cgroup-manager", "none", "info", "--format", "{{.host.cgroupManager}}"});
  EXPECT_EQ(trim(none.out), "none");
  auto bad = ctr({"--cgroup-manager", "cgroupv1", "info"});
  EXPECT_EQ(bad.code, 125) << bad.describe();
}

TEST_F(CtrCgroupTest, NoCgroupIsSaidOncePerSession) {
  if (manager() != "none") {
    // Some cgroup applies here: nothing to warn about.
    auto run = ctr_fresh_session({"run", "--rm", "busybox", "true"});
    EXPECT_EQ(run.code, 0) << run.describe();
    EXPECT_EQ(run.err, "");
    return;
  }
  auto first = ctr_fresh_session({"run", "--rm", "busybox", "echo", "one"});
  EXPECT_EQ(first.code, 0) << first.describe();
  EXPECT_EQ(first.out, "one\n");
  EXPECT_EQ(count(first.err, "without a cgroup"), 1u) << first.err;
  auto second = ctr_fresh_session({"run", "--rm", "busybox", "echo", "two"});
  EXPECT_EQ(second.code, 0) << second.describe();
  EXPECT_EQ(second.err, "") << "the warning came twice";
  // Asked for explicitly: no warning at all.
  auto asked = ctr({"--runroot", path("run2"), "--cgroup-manager", "none", "run", "--rm", "busybox", "true"});
  EXPECT_EQ(asked.code, 0) << asked.describe();
  EXPECT_EQ(asked.err, "");
  auto disabled = ctr({"--runroot", path("run3"), "run", "--rm", "--cgroups=disabled", "busybox", "true"});
  EXPECT_EQ(disabled.code, 0) << disabled.describe();
  EXPECT_EQ(disabled.err, "");
}

TEST_F(CtrCgroupTest, LimitsWithoutCgroupAreRefused) {
  auto memory = ctr({"--cgroup-manager", "none", "run", "--rm", "--memory", "64m", "busybox", "true"});
  EXPECT_EQ(memory.code, 125) << memory.describe();
  EXPECT_NE(memory.err.find("memory controller"), std::string::npos) << memory.err;
  EXPECT_NE(memory.err.find("delegate.conf"), std::string::npos) << memory.err;
  EXPECT_NE(memory.err.find("Delegate=cpu cpuset io memory pids"), std::string::npos) << memory.err;
  auto pids = ctr({"create", "--cgroups=disabled", "--pids-limit", "10", "busybox", "true"});
  EXPECT_EQ(pids.code, 125) << pids.describe();
  EXPECT_NE(pids.err.find("pids controller"), std::string::npos) << pids.err;
  EXPECT_EQ(trim(ctr({"ps", "-a", "-q"}).out), "") << "a refused create left a container";
  if (manager() == "none") {
    auto automatic = ctr({"run", "--rm", "--cpus", "1", "busybox", "true"});
    EXPECT_EQ(automatic.code, 125) << automatic.describe();
    EXPECT_NE(automatic.err.find("cpu controller"), std::string::npos) << automatic.err;
  }
  // --oom-score-adj needs no cgroup.
  auto oom = ctr({"--cgroup-manager", "none", "run", "--rm", "--oom-score-adj", "500", "busybox", "cat",
                  "/proc/self/oom_score_adj"});
  EXPECT_EQ(oom.code, 0) << oom.describe();
  EXPECT_EQ(oom.out, "500\n");
}

TEST_F(CtrCgroupTest, BadValuesAreErrors) {
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--memory", "lots"}, "invalid size `lots` for --memory"},
      {{"--memory", "1m"}, "minimum memory limit allowed is 6MB"},
      {{"--memory-swap", "1g"}, "you must provide a memory limit"},
      {{"--cpus", "-1"}, "--cpus"},
      {{"--cpus", "1", "--cpu-quota", "50000"}, "cannot be set together"},
      {{"--cpu-shares", "1"}, "--cpu-shares"},
      {{"--cpuset-cpus", "3-1"}, "--cpuset-cpus"},
      {{"--blkio-weight", "5"}, "--blkio-weight"},
      {{"--device-read-bps", "/nonexistent:1mb"}, "/nonexistent"},
      {{"--oom-score-adj", "2000"}, "--oom-score-adj"},
      {{"--cgroups", "no-conmon"}, "no-conmon"},
      {{"--cgroups", "maybe"}, "--cgroups"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"create"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"busybox", "true"});
    auto out = ctr(args);
    EXPECT_EQ(out.code, 125) << join(c.flags, " ") << ": " << out.describe();
    EXPECT_NE(out.err.find(c.message), std::string::npos) << join(c.flags, " ") << ": " << out.err;
  }
  EXPECT_EQ(trim(ctr({"ps", "-a", "-q"}).out), "");
}

TEST_F(CtrCgroupTest, UnavailableManagersAreErrors) {
  if (::getenv("DBUS_SESSION_BUS_ADDRESS") == nullptr && manager() != "systemd") {
    auto systemd = ctr({"--cgroup-manager", "systemd", "run", "--rm", "busybox", "true"});
    EXPECT_EQ(systemd.code, 125) << systemd.describe();
    EXPECT_NE(systemd.err.find("user bus"), std::string::npos) << systemd.err;
  }
  if (manager() == "none") {
    auto split = ctr({"run", "--rm", "--cgroups=split", "busybox", "true"});
    EXPECT_EQ(split.code, 125) << split.describe();
    EXPECT_NE(split.err.find("--cgroups=split"), std::string::npos) << split.err;
  }
}

}  // namespace
}  // namespace ctr::itest
