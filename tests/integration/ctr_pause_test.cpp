// ctr pause/unpause and update where containers have no cgroup (the regular phase:
// no user bus, nothing delegated): a clear error, exit 125. The freezing
// itself is tested under a systemd user manager (ctr_cgroup_systemd_test).
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

class CtrPauseTest : public CtrContainerTest {};

TEST_F(CtrPauseTest, WithoutCgroupIsAnErrorNamingWhy) {
  auto run = ctr({"--cgroup-manager", "none", "run", "-d", "--name", "plain", "busybox", "sleep", "100"});
  ASSERT_EQ(run.code, 0) << run.describe();
  auto paused = ctr({"--cgroup-manager", "none", "pause", "plain"});
  EXPECT_EQ(paused.code, 125) << paused.describe();
  EXPECT_NE(paused.err.find("has no cgroup"), std::string::npos) << paused.err;
  EXPECT_NE(paused.err.find("cgroup.freeze"), std::string::npos) << paused.err;
  EXPECT_EQ(paused.out, "");
  EXPECT_EQ(trim(ctr({"inspect", "-f", "{{.State.Status}}", "plain"}).out), "running");
  auto unpaused = ctr({"unpause", "plain"});
  EXPECT_EQ(unpaused.code, 125);
  EXPECT_NE(unpaused.err.find("is not paused, can't unpause: container state improper"), std::string::npos)
      << unpaused.err;
  EXPECT_EQ(ctr({"rm", "-f", "plain"}).code, 0);
}

TEST_F(CtrPauseTest, BadArguments) {
  auto unknown = ctr({"pause", "nosuch"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;
  auto none = ctr({"container", "unpause"});
  EXPECT_EQ(none.code, 125);
  EXPECT_NE(none.err.find("at least one container"), std::string::npos) << none.err;
  auto both = ctr({"pause", "-a", "x"});
  EXPECT_EQ(both.code, 125) << both.describe();
  ASSERT_EQ(ctr({"create", "--name", "made", "busybox", "true"}).code, 0);
  auto created = ctr({"pause", "made"});
  EXPECT_EQ(created.code, 125);
  EXPECT_NE(created.err.find("\"created\" is not running, can't pause: container state improper"), std::string::npos)
      << created.err;
  EXPECT_EQ(ctr({"pause", "-a"}).code, 0) << "nothing running: nothing to pause";
}

TEST_F(CtrPauseTest, UpdateWithoutCgroupNamesTheController) {
  ASSERT_EQ(ctr({"--cgroup-manager", "none", "run", "-d", "--name", "plain", "busybox", "sleep", "100"}).code, 0);
  auto updated = ctr({"update", "--memory", "64m", "plain"});
  EXPECT_EQ(updated.code, 125) << updated.describe();
  EXPECT_NE(updated.err.find("memory controller"), std::string::npos) << updated.err;
  EXPECT_NE(updated.err.find("no cgroup"), std::string::npos) << updated.err;
  auto none = ctr({"container", "update", "plain"});
  EXPECT_EQ(none.code, 125);
  EXPECT_NE(none.err.find("at least one resource flag"), std::string::npos) << none.err;
  auto unknown = ctr({"update", "--pids-limit", "5", "nosuch"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;
  EXPECT_EQ(ctr({"rm", "-f", "plain"}).code, 0);
}

TEST_F(CtrPauseTest, StatsWithoutCgroupShowDashes) {
  ASSERT_EQ(ctr({"--cgroup-manager", "none", "run", "-d", "--name", "plain", "busybox", "sleep", "100"}).code, 0);
  auto stats = ctr({"stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}"});
  EXPECT_EQ(stats.code, 0) << stats.describe();
  EXPECT_EQ(stats.out, "plain -- --\n");
  auto unknown = ctr({"stats", "--no-stream", "nosuch"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;
  EXPECT_EQ(ctr({"rm", "-f", "plain"}).code, 0);
}

}  // namespace
}  // namespace ctr::itest
