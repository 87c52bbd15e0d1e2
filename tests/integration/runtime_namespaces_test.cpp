// Namespaces as seen from inside: PID 1, the hostname, the ID maps (single
// ID and multi-range through newuidmap), the user and groups of the process,
// and a network namespace with only a loopback that is up.
#include <unistd.h>

#include <algorithm>

#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Namespaces : public RuntimeTest {};

std::vector<std::vector<std::string>> map_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& line : lines(text)) {
    if (!words(line).empty()) rows.push_back(words(line));
  }
  return rows;
}

using Rows = std::vector<std::vector<std::string>>;

TEST_F(Namespaces, ProcessIsPid1) {
  auto bundle = make_bundle();
  bundle.shell("echo $$; cat /proc/1/cmdline | tr '\\0' ' '");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "1\nsh -c echo $$; cat /proc/1/cmdline | tr '\\0' ' ' ");
}

TEST_F(Namespaces, OnlyTheContainersProcessesAreVisible) {
  auto bundle = make_bundle();
  // /proc is the container's own: its pids are 1 (sh), ls and its pipe peer.
  bundle.shell("ls /proc | grep -E '^[0-9]+$' | sort -n | head -1; ls /proc | grep -cE '^[0-9]+$'");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 2u) << result.out;
  EXPECT_EQ(out[0], "1");
  EXPECT_LE(std::stoi(out[1]), 5) << "host processes are visible in the container's /proc";
}

TEST_F(Namespaces, HostnameIsSet) {
  auto bundle = make_bundle();
  bundle.hostname("box-under-test").shell("hostname; cat /proc/sys/kernel/hostname");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "box-under-test\nbox-under-test\n");
}

TEST_F(Namespaces, SingleIdMapMapsRootToTheCaller) {
  auto bundle = make_bundle();
  bundle.shell("cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; cat /proc/self/setgroups; id -u");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  Rows uid_rows = map_rows(result.out.substr(0, result.out.find("--")));
  std::string rest = result.out.substr(result.out.find("--") + 3);
  Rows gid_rows = map_rows(rest.substr(0, rest.find("--")));
  auto tail = lines(rest.substr(rest.find("--") + 3));
  EXPECT_EQ(uid_rows, (Rows{{"0", std::to_string(::getuid()), "1"}})) << result.out;
  EXPECT_EQ(gid_rows, (Rows{{"0", std::to_string(::getgid()), "1"}})) << result.out;
  ASSERT_EQ(tail.size(), 2u) << result.out;
  // An unprivileged writer of a single-ID gid_map must deny setgroups first.
  EXPECT_EQ(tail[0], "deny");
  EXPECT_EQ(tail[1], "0");
}

TEST_F(Namespaces, MultiRangeMapUsesSubordinateIds) {
  if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
  auto subuid = *subordinate_range("/etc/subuid");
  auto subgid = *subordinate_range("/etc/subgid");
  auto bundle = make_bundle();
  bundle.multi_range_maps().shell(
      "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --;"
      " touch /tmp/f && chown 1000:1000 /tmp/f && stat -c '%u %g' /tmp/f");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  Rows uid_rows = map_rows(result.out.substr(0, result.out.find("--")));
  std::string rest = result.out.substr(result.out.find("--") + 3);
  Rows gid_rows = map_rows(rest.substr(0, rest.find("--")));
  auto tail = lines(rest.substr(rest.find("--") + 3));
  EXPECT_EQ(uid_rows, (Rows{{"0", std::to_string(::getuid()), "1"}, {"1", std::to_string(subuid.start), "65536"}}))
      << result.out;
  EXPECT_EQ(gid_rows, (Rows{{"0", std::to_string(::getgid()), "1"}, {"1", std::to_string(subgid.start), "65536"}}))
      << result.out;
  EXPECT_EQ(tail, std::vector<std::string>{"1000 1000"}) << result.out;
}

TEST_F(Namespaces, ProcessRunsAsConfiguredUser) {
  if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
  auto bundle = make_bundle();
  bundle.multi_range_maps()
      .user(1000, 1000)
      .cwd("/tmp")
      .shell(
          "id -u; id -g; touch /tmp/mine && stat -c '%u %g' /tmp/mine; cat /proc/self/status | grep -E '^(Uid|Gid):'");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 5u) << result.out;
  EXPECT_EQ(out[0], "1000");
  EXPECT_EQ(out[1], "1000");
  EXPECT_EQ(out[2], "1000 1000") << "files are created with the process's ids";
  // Real, effective, saved and filesystem ids all switched.
  EXPECT_EQ(words(out[3]), (std::vector<std::string>{"Uid:", "1000", "1000", "1000", "1000"}));
  EXPECT_EQ(words(out[4]), (std::vector<std::string>{"Gid:", "1000", "1000", "1000", "1000"}));
}

// With a multi-range map written by newgidmap, setgroups(2) is allowed in the
// user namespace, so additionalGids can be honoured.
TEST_F(Namespaces, SupplementaryGroupsWithRangeMap) {
  if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
  auto bundle = make_bundle();
  bundle.multi_range_maps().user(1000, 1000, {10, 20}).shell("cat /proc/self/status | grep '^Groups:'");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto groups = words(result.out);
  ASSERT_FALSE(groups.empty()) << result.out;
  groups.erase(groups.begin());
  std::sort(groups.begin(), groups.end());
  EXPECT_EQ(groups, (std::vector<std::string>{"10", "20"})) << result.out;
}

TEST_F(Namespaces, NetworkNamespaceHasOnlyLoopbackUp) {
  auto bundle = make_bundle();
  bundle.network_namespace().shell("ls /sys/class/net; echo --; ip -o link show | wc -l; ip link show lo");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_GE(out.size(), 4u) << result.out;
  EXPECT_EQ(out[0], "lo") << result.out;
  EXPECT_EQ(out[1], "--");
  EXPECT_EQ(trimmed(out[2]), "1") << "more than one link in a new network namespace:\n" << result.out;
  EXPECT_NE(out[3].find("<LOOPBACK,UP"), std::string::npos) << "lo is not up:\n" << result.out;
}

TEST_F(Namespaces, WithoutNetworkNamespaceTheHostNetworkIsShared) {
  auto bundle = make_bundle();
  bundle.shell("readlink /proc/self/ns/net");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  char host_ns[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", host_ns, sizeof host_ns - 1), 0);
  EXPECT_EQ(trimmed(result.out), host_ns);
}

TEST_F(Namespaces, IpcAndUtsNamespacesAreNew) {
  auto bundle = make_bundle();
  bundle.shell("for ns in ipc uts user mnt pid; do readlink /proc/self/ns/$ns; done");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto inside = lines(result.out);
  ASSERT_EQ(inside.size(), 5u) << result.out;
  const char* kinds[] = {"ipc", "uts", "user", "mnt", "pid"};
  for (size_t i = 0; i < inside.size(); ++i) {
    char host_ns[64] = {};
    ASSERT_GT(::readlink((std::string("/proc/self/ns/") + kinds[i]).c_str(), host_ns, sizeof host_ns - 1), 0);
    EXPECT_NE(inside[i], host_ns) << kinds[i] << " namespace is the host's";
  }
}

}  // namespace
}  // namespace ctr::itest
