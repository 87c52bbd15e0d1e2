// --network container:A with a --restart policy: each relaunch joins A's
// namespace of now, also after A itself was restarted (new pid, new
// namespace); with A stopped the relaunch fails and B stays exited.
// --network none: no helper needed, no traffic anywhere.
#include <dirent.h>
#include <unistd.h>

#include <vector>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

class CtrNetworkRestartTest : public CtrContainerTest {
 protected:
  std::string query(const std::string& format, const std::string& name) {
    auto out = ctr({"inspect", "--format", format, name});
    return out.code == 0 ? std::string(trim(out.out)) : std::string();
  }

  // The network namespace of the container's payload ("net:[INODE]"), ""
  // when it is not running (or between two runs).
  std::string netns_of(const std::string& name) {
    auto pid = parse_u64(query("{{.State.Pid}}", name));
    if (!pid || *pid == 0) return "";
    char buffer[64];
    std::string link = "/proc/" + std::to_string(*pid) + "/ns/net";
    ssize_t n = ::readlink(link.c_str(), buffer, sizeof buffer - 1);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }

  // Live processes whose command line names `id` (a container's shim,
  // exit command, restart process).
  static std::vector<pid_t> processes_naming(const std::string& id) {
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (!proc) return found;
    while (dirent* entry = ::readdir(proc)) {
      auto pid = parse_u64(entry->d_name);
      if (!pid || static_cast<pid_t>(*pid) == ::getpid()) continue;
      auto cmdline = read_file("/proc/" + std::string(entry->d_name) + "/cmdline");
      if (cmdline && cmdline->find(id) != std::string::npos && !process_gone(static_cast<pid_t>(*pid)))
        found.push_back(static_cast<pid_t>(*pid));
    }
    ::closedir(proc);
    return found;
  }

  unsigned restarts(const std::string& name) {
    return static_cast<unsigned>(parse_u64(query("{{.RestartCount}}", name)).value_or(0));
  }

  void start_pair() {
    auto a = ctr({"run", "-d", "--name", "a", "--network", "none", "busybox", "sleep", "300"});
    ASSERT_EQ(a.code, 0) << a.describe();
    auto b = ctr({"run", "-d", "--name", "b", "--network", "container:a", "--restart", "always", "busybox", "sh", "-c",
                  "sleep 1; exit 1"});
    ASSERT_EQ(b.code, 0) << b.describe();
    // The policy has relaunched b at least once, in a's namespace.
    ASSERT_TRUE(eventually([&] { return restarts("b") >= 1; }, std::chrono::seconds(30))) << state_of("b");
    std::string a_netns = netns_of("a");
    ASSERT_FALSE(a_netns.empty());
    ASSERT_TRUE(eventually([&] { return netns_of("b") == a_netns; })) << a_netns << " b: " << netns_of("b");
  }
};

TEST_F(CtrNetworkRestartTest, PolicyRelaunchJoinsTheNewNamespaceOfARestartedTarget) {
  start_pair();
  if (HasFatalFailure()) return;
  std::string old_pid = query("{{.State.Pid}}", "a"), old_netns = netns_of("a");
  auto restarted = ctr({"restart", "-t", "0", "a"});
  ASSERT_EQ(restarted.code, 0) << restarted.describe();
  std::string new_pid = query("{{.State.Pid}}", "a"), new_netns = netns_of("a");
  ASSERT_NE(new_pid, old_pid);
  ASSERT_FALSE(new_netns.empty());
  ASSERT_NE(new_netns, old_netns) << "a's restart should give it a new network namespace";
  unsigned before = restarts("b");
  // b's next relaunches (once its current run, maybe still in the old
  // namespace, has ended) are in a's new namespace.
  EXPECT_TRUE(
      eventually([&] { return restarts("b") > before && netns_of("b") == new_netns; }, std::chrono::seconds(30)))
      << "a: " << new_netns << " b: " << netns_of("b") << " (" << state_of("b") << ")";
  EXPECT_EQ(ctr({"stop", "-t", "0", "b"}).code, 0);
}

TEST_F(CtrNetworkRestartTest, PolicyRelaunchFailsWhenTheTargetIsStopped) {
  start_pair();
  if (HasFatalFailure()) return;
  auto stopped = ctr({"stop", "-t", "0", "a"});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  // b's current run ends within a second; its relaunch waits a while (10
  // s) for a to run again, then gives up: b stays exited. Settled once no
  // process of b's (shim, exit command, restart process) is left.
  std::string b_id = query("{{.Id}}", "b");
  ASSERT_FALSE(b_id.empty());
  EXPECT_TRUE(
      eventually([&] { return has_state("b", "exited") && processes_naming(b_id).empty(); }, std::chrono::seconds(40)))
      << state_of("b") << " processes: " << processes_naming(b_id).size();
  EXPECT_TRUE(has_state("b", "exited")) << state_of("b");
}

}  // namespace
}  // namespace ctr::itest
