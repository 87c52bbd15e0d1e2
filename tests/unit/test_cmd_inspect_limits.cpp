// `ctr inspect`'s HostConfig limits (cmd/inspect_limits.h).
#include <gtest/gtest.h>

#include "cmd/inspect_limits.h"

namespace ctr::cmd {
namespace {

TEST(CmdInspectLimits, ShowsTheLimitsAsPodman) {
  cgroup::Resources r;
  r.memory_limit = 512 * 1024 * 1024;
  r.memory_swap = 1024 * 1024 * 1024;
  r.memory_reservation = 256 * 1024 * 1024;
  r.cpu_quota = 150000;
  r.cpu_period = 100000;
  r.cpu_shares = 512;
  r.cpuset_cpus = "0-1";
  r.cpuset_mems = "0";
  r.pids_limit = 100;
  r.blkio_weight = 300;
  r.read_bps.push_back({8, 0, 1048576});
  r.write_bps.push_back({259, 3, 2048});
  Json h = Json::object();
  add_limit_fields(h, r, -500, [](int64_t major, int64_t) { return major == 8 ? std::string("/dev/sda") : ""; });
  EXPECT_EQ(h["Memory"], 536870912);
  EXPECT_EQ(h["MemorySwap"], 1073741824);
  EXPECT_EQ(h["MemoryReservation"], 268435456);
  EXPECT_EQ(h["NanoCpus"], 1500000000);
  EXPECT_EQ(h["CpuQuota"], 150000);
  EXPECT_EQ(h["CpuPeriod"], 100000);
  EXPECT_EQ(h["CpuShares"], 512);
  EXPECT_EQ(h["CpusetCpus"], "0-1");
  EXPECT_EQ(h["CpusetMems"], "0");
  EXPECT_EQ(h["PidsLimit"], 100);
  EXPECT_EQ(h["BlkioWeight"], 300);
  EXPECT_EQ(h["OomScoreAdj"], -500);
  EXPECT_EQ(h["BlkioDeviceReadBps"].dump(), R"([{"Path":"/dev/sda","Rate":1048576}])");
  EXPECT_EQ(h["BlkioDeviceWriteBps"].dump(), R"([{"Path":"259:3","Rate":2048}])") << "unknown device: its numbers";
}

TEST(CmdInspectLimits, UnsetIsZeroEmptyOrNull) {
  Json h = Json::object();
  add_limit_fields(h, cgroup::Resources{}, std::nullopt);
  for (const char* key : {"Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuQuota", "CpuPeriod",
                          "CpuShares", "PidsLimit", "BlkioWeight", "OomScoreAdj"})
    EXPECT_EQ(h[key], 0) << key;
  EXPECT_EQ(h["CpusetCpus"], "");
  EXPECT_TRUE(h["BlkioDeviceReadBps"].is_null());
  EXPECT_TRUE(h["BlkioDeviceWriteBps"].is_null());
}

}  // namespace
}  // namespace ctr::cmd
