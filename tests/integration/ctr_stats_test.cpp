// `ctr stats`: the refreshing (streaming) mode and NET IO from the
// container's network namespace (cmd/container_stats.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "runtime/base/child_process.h"
#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

class CtrStatsTest : public CtrContainerTest {
 protected:
  // Runs `ctr stats ARGS` until `lines` lines have arrived (or `timeout`),
  // then ends it with SIGTERM; returns the lines.
  std::vector<std::string> stream_stats(const std::vector<std::string>& args, size_t lines,
                                        std::chrono::seconds timeout) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {};
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    std::vector<std::string> argv{ctr_binary(), "--root", root_, "stats"};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions options;
    options.stdout_fd = write_end.get();
    Result<ChildProcess> child = make_error("not started");
    {
      auto lock = spawn_lock();
      child = spawn_process(argv, options);
      if (child) track_child(child->pid());
    }
    write_end.reset();
    if (!child) return {};
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) < lines) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{read_end.get(), POLLIN, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      char buffer[4096];
      ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
      if (n <= 0) break;  // it ended by itself: a failure the caller sees
      text.append(buffer, static_cast<size_t>(n));
    }
    pid_t pid = child->pid();
    (void)::kill(pid, SIGTERM);  // ESRCH if it ended already: fine, it is still ours to reap
    auto ended = child->wait(std::chrono::seconds(20));
    untrack_child(pid);
    EXPECT_TRUE(ended.ok());
    std::vector<std::string> out;
    for (const auto& line : split(text, '\n'))
      if (!line.empty()) out.push_back(line);
    return out;
  }
};

TEST_F(CtrStatsTest, StreamingRefreshesUntilInterrupted) {
  ASSERT_EQ(ctr({"run", "-d", "--network=none", "--name", "streamed", "busybox", "sleep", "1000"}).code, 0);
  auto lines = stream_stats({"--format", "{{.Name}} {{.NetIO}}", "streamed"}, 2, std::chrono::seconds(20));
  ASSERT_EQ(lines.size(), 2u) << "two refreshes";
  // --network=none: loopback only, which does not count (podman's "-- / --").
  EXPECT_EQ(lines[0], "streamed -- / --");
  EXPECT_EQ(lines[1], "streamed -- / --");
  EXPECT_EQ(ctr({"rm", "-f", "streamed"}).code, 0);
}

TEST_F(CtrStatsTest, NetIoCountsTheContainersInterfaces) {
  // A network of its own (pasta, else slirp4netns, whichever works here);
  // bringing its interface up makes it talk to the helper (IPv6 router
  // solicitation, DHCP): only the helper, never beyond.
  auto run = ctr({"run", "-d", "--name", "networked", "busybox", "sleep", "1000"});
  if (run.code != 0) GTEST_SKIP() << "NO-NETWORK-HELPER: a container with a network does not start here: " << run.err;
  auto mode = ctr({"inspect", "--format", "{{.HostConfig.NetworkMode}}", "networked"});
  if (trim(mode.out) == "none" || trim(mode.out) == "host")
    GTEST_SKIP() << "NO-NETWORK-HELPER: default network is " << trim(mode.out);
  auto interfaces = ctr({"exec", "networked", "cat", "/proc/net/dev"});
  std::string net_io;
  bool moved = eventually(
      [&] {
        net_io = std::string(trim(ctr({"stats", "--no-stream", "--format", "{{.NetIO}}", "networked"}).out));
        return net_io != "-- / --" && !net_io.empty();
      },
      std::chrono::seconds(10));
  EXPECT_TRUE(moved) << net_io << "\n" << interfaces.out;
  if (moved) {
    EXPECT_NE(net_io.find("B / "), std::string::npos) << net_io;
  }
  EXPECT_EQ(ctr({"rm", "-f", "networked"}).code, 0);
}

}  // namespace
}  // namespace ctr::itest
