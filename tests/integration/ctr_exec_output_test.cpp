// Output of quick exec sessions is never lost: the session's shim holds the
// process's output, and its end, until the `ctr exec` that started it has
// connected (the process may have run and exited before ctr got to connect;
// under load that lost all of it, or even the exit status).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/shim_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

using namespace std::chrono_literals;

// Busy loops on every core (as a loaded CI machine), stopped on destruction.
class CpuHogs {
 public:
  explicit CpuHogs(int count) {
    for (int i = 0; i < count; ++i) {
      auto lock = spawn_lock();
      auto hog = spawn_process({"/bin/sh", "-c", "while :; do :; done"});
      if (!hog) continue;
      track_child(hog->pid());
      hogs_.push_back(std::move(*hog));
    }
  }
  ~CpuHogs() {
    for (auto& hog : hogs_) {
      pid_t pid = hog.pid();
      (void)hog.kill(SIGKILL);
      (void)hog.wait(10s);  // reaps it (an already-dead hog is fine)
      untrack_child(pid);
    }
  }
  size_t size() const { return hogs_.size(); }

 private:
  std::vector<ChildProcess> hogs_;
};

class CtrExecOutputTest : public CtrContainerTest {
 protected:
  void start_sleeper(const std::string& name) {
    auto run = ctr({"run", "-d", "--network=none", "--name", name, "busybox", "sleep", "1000"});
    ASSERT_EQ(run.code, 0) << run.describe();
  }
  std::vector<std::string> sessions_of(const std::string& name) {
    return exec_sessions(std::string(trim(ctr({"inspect", "--format", "{{.Id}}", name}).out)));
  }
};

TEST_F(CtrExecOutputTest, QuickExecsUnderLoadKeepEveryByte) {
  ASSERT_NO_FATAL_FAILURE(start_sleeper("target"));
  auto passwd = read_file(busybox_rootfs() + "/etc/passwd");
  ASSERT_TRUE(passwd) << passwd.error().message;
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  CpuHogs hogs(static_cast<int>(std::clamp(cores, 1L, 8L)));
  ASSERT_GT(hogs.size(), 0u);
  int wrong = 0;
  auto deadline = std::chrono::steady_clock::now() + 15s;  // whatever the load, a bounded test
  int runs = 0;
  for (int i = 0; i < 90 && std::chrono::steady_clock::now() < deadline; ++i, ++runs) {
    std::string tag = "run-" + std::to_string(i);
    CommandOutput got;
    std::string want;
    switch (i % 3) {
      case 0:
        got = ctr({"exec", "target", "echo", tag});
        want = tag + "\n";
        break;
      case 1:
        got = ctr({"exec", "target", "cat", "/etc/passwd"});
        want = *passwd;
        break;
      default:
        got = ctr({"exec", "-t", "target", "echo", tag});
        want = tag + "\r\n";
        break;
    }
    if (got.code != 0 || got.out != want) {
      ++wrong;
      ADD_FAILURE() << "exec " << i << ": " << got.describe();
      if (wrong >= 5) break;
    }
  }
  EXPECT_EQ(wrong, 0) << "of " << runs << " execs";
  EXPECT_GE(runs, 10) << "too few execs ran to mean anything";
}

TEST_F(CtrExecOutputTest, ExitStatusAndStderrOfQuickExecsUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(start_sleeper("target"));
  CpuHogs hogs(2);
  for (int i = 0; i < 12; ++i) {
    auto got = ctr({"exec", "target", "sh", "-c", "echo out-" + std::to_string(i) + "; echo err >&2; exit 7"});
    EXPECT_EQ(got.code, 7) << got.describe();
    EXPECT_EQ(got.out, "out-" + std::to_string(i) + "\n") << got.describe();
    EXPECT_EQ(got.err, "err\n") << got.describe();
  }
}

TEST_F(CtrExecOutputTest, DetachedExecIsNotHeldForAClient) {
  ASSERT_NO_FATAL_FAILURE(start_sleeper("target"));
  auto detached = ctr({"exec", "-d", "target", "sh", "-c", "echo discarded; echo done > /tmp/marker"});
  ASSERT_EQ(detached.code, 0) << detached.describe();
  // The shim would hold an unattached session for 30 s: -d must not leave it so.
  EXPECT_TRUE(eventually([&] { return sessions_of("target").empty(); }, 10s))
      << "exec session still there: " << join(sessions_of("target"), " ");
  EXPECT_EQ(ctr({"exec", "target", "cat", "/tmp/marker"}).out, "done\n");
}

TEST_F(CtrExecOutputTest, UnknownContainerFails) {
  auto got = ctr({"exec", "nosuch", "echo", "hi"});
  EXPECT_EQ(got.code, 125) << got.describe();
  EXPECT_NE(got.err.find("nosuch"), std::string::npos) << got.describe();
}

// The shim side, deterministically: a client that connects only after the
// session's process has exited still gets its output and exit status.
class ShimExecHold : public ShimTest {};

TEST_F(ShimExecHold, ALateClientGetsTheWholeSession) {
  auto bundle = make_bundle();
  bundle.shell("exec sleep 1000");
  auto state = new_state_dir();
  auto main = options(new_id(), bundle, state);
  main.start = true;
  ASSERT_GT(spawn_ok(main), 0);
  auto process = bundle.process();
  process["args"] = {"sh", "-c", "echo late out; echo late err >&2; exit 3"};
  std::string process_file = work() + "/late.json";
  ASSERT_TRUE(write_file_atomic(process_file, process.dump()));
  auto exec = main;
  exec.exec = true;
  exec.exec_id = "late";
  exec.process_json = process_file;
  exec.start = false;
  exec.log_driver = shim::LogDriver::none;  // as ctr exec: nowhere else to keep the output
  exec.log_path.clear();
  pid_t pid = spawn_ok(exec);
  ASSERT_GT(pid, 0);
  // Wait until the process is gone: only then connect.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd) {
    pollfd pfd{pidfd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "the exec process did not exit";
  }  // else ESRCH: gone and reaped already
  auto exec_state = shim::exec_state_dir(state, "late");
  // Without a client the session stays (a shim that did not wait would end
  // it within milliseconds of the process: a second is plenty to see that).
  auto status = shim::wait_container(exec_state, 1s);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->state, shim::ContainerState::running) << "the session must wait for its client";
  auto client = shim::AttachConnection::connect(exec_state);
  ASSERT_TRUE(client) << client.error().message;
  std::string out;
  EXPECT_TRUE(receive_until(*client, shim::kStdout, "late out", 10s, &out));
  EXPECT_TRUE(receive_until(*client, shim::kExit, "\"exit_code\":3"));
  auto ended = wait_exit(exec_state);
  ASSERT_TRUE(ended.exit);
  EXPECT_EQ(ended.exit->exit_code, 3);
  ASSERT_TRUE(rt({"kill", main.id, "KILL"}).ok());
  wait_exit(state);
}

}  // namespace
}  // namespace ctr::itest
