// `ctr container cleanup` (the shim's exit command) ends the network helper
// a SIGKILLed shim left behind (STATE/network-helper.pid, "PID STARTTIME"),
// and never signals a pid that was reused by another process.
// Loopback only: no traffic leaves the test's namespaces.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <optional>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/records.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

class CtrNetworkCleanupTest : public CtrContainerTest {
 protected:
  void SetUp() override {
    CtrContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!have_tool("pasta")) GTEST_SKIP() << "pasta (passt) is needed: apt-get install passt";
    if (::access("/dev/net/tun", R_OK | W_OK) != 0)
      GTEST_SKIP() << "/dev/net/tun is not usable by this user (run in a session with user devices)";
  }

  std::string query(const std::string& format, const std::string& name) {
    auto out = ctr({"inspect", "--format", format, name});
    EXPECT_EQ(out.code, 0) << out.describe();
    return std::string(trim(out.out));
  }

  static std::string state_dir(const std::string& id) {
    const char* runroot = ::getenv("CTR_RUNROOT");
    const char* xdg = ::getenv("XDG_RUNTIME_DIR");
    return (runroot && *runroot ? std::string(runroot) : std::string(xdg ? xdg : "/tmp") + "/ctr") + "/containers/" +
           id;
  }

  static shim::ProcessIdentity identity_in(const std::string& file) {
    auto text = read_file(file);
    EXPECT_TRUE(text) << file;
    auto identity = text ? shim::parse_identity(*text) : Result<shim::ProcessIdentity>(text.error());
    EXPECT_TRUE(identity) << file << ": " << (text ? *text : "");
    return identity ? *identity : shim::ProcessIdentity{};
  }

  // Starts a pasta container and SIGKILLs its shim and its payload, as an
  // OOM killer or `kill -9` would: its pasta lives on. Returns the ID.
  std::string killed_pasta_container(const std::string& name, shim::ProcessIdentity& helper) {
    auto run = ctr({"run", "-d", "--name", name, "--network", "pasta", "busybox", "sleep", "300"});
    EXPECT_EQ(run.code, 0) << run.describe();
    std::string id = query("{{.Id}}", name);
    std::string state = state_dir(id);
    // The helper is up once the shim has recorded it (shim/README.md).
    EXPECT_TRUE(eventually([&] { return path_exists(state + "/network-helper.pid"); })) << state;
    helper = identity_in(state + "/network-helper.pid");
    shim::ProcessIdentity shim_process = identity_in(state + "/shim.pid");
    auto payload = parse_u64(query("{{.State.Pid}}", name));
    EXPECT_TRUE(payload && *payload > 0);
    EXPECT_TRUE(shim::identity_alive(helper)) << "pasta " << helper.pid;
    // Either may already be gone (the payload dies with nothing else to do):
    // ESRCH is fine, only the outcome below counts.
    (void)::kill(shim_process.pid, SIGKILL);
    if (payload) (void)::kill(static_cast<pid_t>(*payload), SIGKILL);
    EXPECT_TRUE(eventually([&] { return !shim::identity_alive(shim_process); }));
    EXPECT_TRUE(eventually([&] { return !has_state(name, "running"); }));
    return id;
  }
};

TEST_F(CtrNetworkCleanupTest, CleanupEndsThePastaOfAKilledShim) {
  shim::ProcessIdentity helper;
  std::string id = killed_pasta_container("k", helper);
  if (HasFailure()) return;
  ASSERT_TRUE(shim::identity_alive(helper)) << "the killed shim's pasta should still run before cleanup";

  // Run here, outside the container's namespaces (gone with the shim), its
  // later unmount step may fail (EPERM): the helper is ended before it, and
  // cleanup waits for the helper to be gone (pidfd) before it goes on.
  (void)ctr({"container", "cleanup", id});
  EXPECT_FALSE(shim::identity_alive(helper)) << "pasta " << helper.pid << " of " << id << " is still running";
  auto removed = ctr({"rm", "-f", "k"});
  EXPECT_EQ(removed.code, 0) << removed.describe();
}

TEST_F(CtrNetworkCleanupTest, CleanupNeverSignalsAReusedPid) {
  shim::ProcessIdentity helper;
  std::string id = killed_pasta_container("r", helper);
  if (HasFailure()) return;
  // Another process of ours now has the recorded pid (as after a reuse):
  // its start time differs from the recorded one.
  SpawnOptions quiet;
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  quiet.stdin_fd = quiet.stdout_fd = quiet.stderr_fd = null_fd.get();
  std::optional<ChildProcess> bystander;
  {
    auto lock = spawn_lock();  // the harness' orphan reaper leaves it alone
    auto spawned = spawn_process({"/bin/sleep", "300"}, quiet);
    ASSERT_TRUE(spawned) << spawned.error().message;
    track_child(spawned->pid());
    bystander.emplace(std::move(*spawned));
  }
  auto other = shim::process_identity(bystander->pid());
  ASSERT_TRUE(other);
  shim::ProcessIdentity stale{other->pid, other->start_time + 1};
  ASSERT_TRUE(write_file_atomic(state_dir(id) + "/network-helper.pid", shim::format_identity(stale)));

  (void)ctr({"container", "cleanup", id});  // its unmount may fail here: see above
  EXPECT_TRUE(shim::identity_alive(*other)) << "cleanup signalled a process whose start time does not match";
  (void)bystander->kill(SIGKILL);
  (void)bystander->wait();
  untrack_child(other->pid);
  // The real pasta is no longer recorded: end it here.
  if (shim::identity_alive(helper)) (void)::kill(helper.pid, SIGKILL);
  EXPECT_EQ(ctr({"rm", "-f", "r"}).code, 0);
}

TEST_F(CtrNetworkCleanupTest, CleanupOfAnUnknownContainerIsNotAnError) {
  // The exit command of a container that `rm -f` removed meanwhile.
  auto out = ctr({"container", "cleanup", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(out.code, 0) << out.describe();
}

}  // namespace
}  // namespace ctr::itest
