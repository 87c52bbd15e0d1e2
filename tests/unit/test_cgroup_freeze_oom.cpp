// The flat-keyed cgroup files the freezer and the OOM check read.
#include <gtest/gtest.h>

#include "runtime/cgroup_freeze.h"
#include "shim/oom.h"

namespace ctr {
namespace {

TEST(CgroupFlatKeyed, ReadsTheValueOfAKey) {
  std::string events = "populated 1\nfrozen 1\n";
  EXPECT_EQ(cgroup::flat_keyed_value(events, "frozen"), "1");
  EXPECT_EQ(cgroup::flat_keyed_value(events, "populated"), "1");
  EXPECT_EQ(cgroup::flat_keyed_value(events, "froze"), "");
  EXPECT_EQ(cgroup::flat_keyed_value("", "frozen"), "");
}

TEST(ShimOom, CountsOomKillsNotOomEvents) {
  EXPECT_EQ(shim::oom_kills("low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n"), 1u);
  EXPECT_EQ(shim::oom_kills("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), 0u);
  EXPECT_EQ(shim::oom_kills(""), 0u);
}

TEST(ShimOom, NoCgroupMeansNotOomKilled) {
  EXPECT_FALSE(shim::container_oom_killed({"--root", "/nonexistent-ctr-root"}, "abc"));
}

}  // namespace
}  // namespace ctr
