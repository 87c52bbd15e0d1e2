// `ctr stats` NET IO (cmd/container_stats.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include "cmd/container_stats.h"

namespace ctr::cmd {
namespace {

constexpr const char* kNetDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
    "carrier compressed\n"
    "    lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0 "
    "         0\n"
    "  eth0:    1200       8    0    0    0     0          0         0      648       6    0    0    0     0       0 "
    "         0\n"
    "  tap1:      34       1    0    0    0     0          0         0        2       1    0    0    0     0       0 "
    "         0\n";

TEST(CmdStatsNet, SumsEveryInterfaceButLo) {
  NetTotals totals = net_totals(kNetDev);
  EXPECT_EQ(totals.rx, 1234u);
  EXPECT_EQ(totals.tx, 650u);
  EXPECT_EQ(net_totals("").rx, 0u);
}

TEST(CmdStatsNet, RowShowsItAsPodman) {
  StatsSample sample;
  sample.taken_ns = 1;
  EXPECT_EQ(stats_row("0123456789abcdef", "c", sample, 0, 0, NetTotals{1200, 648})["NetIO"], "1.2kB / 648B");
  EXPECT_EQ(stats_row("0123456789abcdef", "c", sample, 0, 0, NetTotals{0, 0})["NetIO"], "-- / --");
  EXPECT_EQ(stats_row("0123456789abcdef", "c", sample, 0, 0)["NetIO"], "-- / --");
}

TEST(CmdStatsNet, OwnNetworkNamespaceIsNotAContainers) {
  EXPECT_FALSE(container_net_io(::getpid())) << "--network=host: podman shows no network I/O";
  EXPECT_FALSE(container_net_io(0));
}

}  // namespace
}  // namespace ctr::cmd
