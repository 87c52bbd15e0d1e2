#include "tests/integration/shim_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace ctr::itest {

const std::string& shim_binary() {
  static const std::string path = [] {
    const char* env = std::getenv("CTR_SHIM_BIN");
    if (env && *env) return std::string(env);
    const char* build = std::getenv("CTR_BUILD_DIR");
    return std::string(build && *build ? build : CTR_BUILD_DIR) + "/shim/ctr-shim";
  }();
  return path;
}

void ShimTest::SetUp() {
  RuntimeTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  enable_subreaper();  // shims are reparented to us when their launcher exits
  ASSERT_EQ(::access(shim_binary().c_str(), X_OK), 0)
      << "the shim under test `" << shim_binary() << "` is not an executable file: build ctr-shim, or set CTR_SHIM_BIN";
}

void ShimTest::TearDown() {
  RuntimeTest::TearDown();  // force-deletes every container: each shim then sees its exit
  for (const auto& dir : state_dirs_) {
    std::vector<std::string> dirs{dir};
    for (const auto& exec : {"e1", "e2", "e3"}) dirs.push_back(shim::exec_state_dir(dir, exec));
    for (const auto& d : dirs) {
      auto text = read_file(d + "/" + shim::kShimPidFile);
      auto identity = text ? shim::parse_identity(*text) : Result<shim::ProcessIdentity>(make_error("none"));
      if (!identity) continue;
      auto deadline = std::chrono::steady_clock::now() + 5s;
      while (shim::identity_alive(*identity) && std::chrono::steady_clock::now() < deadline) {
        reap_orphans();
        std::this_thread::sleep_for(20ms);
      }
      if (shim::identity_alive(*identity)) {
        ADD_FAILURE() << "ctr-shim " << identity->pid << " for `" << d << "` survived its container";
        ::kill(identity->pid, SIGKILL);
      }
    }
  }
  reap_orphans();
}

std::string ShimTest::new_state_dir() {
  std::string dir = work() + "/state" + std::to_string(++states_);
  (void)mkdir_p(dir, 0700);
  state_dirs_.push_back(dir);
  return dir;
}

shim::ShimOptions ShimTest::options(const std::string& id, const Bundle& bundle, const std::string& state_dir) {
  shim::ShimOptions o;
  o.id = id;
  o.bundle = bundle.write();
  o.state_dir = state_dir;
  o.runtime = runtime_binary();
  o.runtime_args = {"--root", root()};
  o.log_path = state_dir + "/ctr.log";
  return o;
}

Result<shim::CreateResult> ShimTest::spawn(const shim::ShimOptions& options, std::chrono::milliseconds timeout) {
  shim::SpawnShimOptions spawn;
  spawn.shim_binary = shim_binary();
  spawn.shim = options;
  spawn.timeout = timeout;
  // The first shim process is ours to reap (spawn_shim waits for it): keep
  // the orphan reaper away from it meanwhile.
  auto lock = spawn_lock();
  return shim::spawn_shim(spawn);
}

pid_t ShimTest::spawn_ok(const shim::ShimOptions& options) {
  auto created = spawn(options);
  EXPECT_TRUE(created) << (created ? "" : created.error().message);
  if (!created) return 0;
  EXPECT_TRUE(created->ok()) << "create failed (" << created->exit_code << "): " << created->error;
  return created->pid;
}

shim::ContainerStatus ShimTest::wait_exit(const std::string& state_dir, std::chrono::milliseconds timeout) {
  auto status = shim::wait_container(state_dir, timeout);
  EXPECT_TRUE(status) << (status ? "" : status.error().message);
  if (!status) return {};
  EXPECT_EQ(status->state, shim::ContainerState::exited)
      << "container in `" << state_dir << "` is " << shim::container_state_name(status->state);
  return *status;
}

std::string ShimTest::log_text(const shim::ShimOptions& options, const std::string& stream) {
  auto entries = shim::read_log(options.log_driver, options.log_path);
  return entries ? shim::log_text(*entries, stream) : std::string();
}

bool ShimTest::wait_for_log(const shim::ShimOptions& options, const std::string& needle,
                            std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto follower = shim::LogFollower::open(options.log_driver, options.log_path);
  if (!follower) return false;
  std::string seen;
  while (std::chrono::steady_clock::now() < deadline) {
    auto entries = follower->read_new();
    if (!entries) return false;
    seen += shim::log_text(*entries);
    if (seen.find(needle) != std::string::npos) return true;
    (void)follower->wait(200ms);
  }
  return false;
}

::testing::AssertionResult receive_until(shim::AttachConnection& connection, shim::PacketType type,
                                         const std::string& needle, std::chrono::milliseconds timeout,
                                         std::string* collected) {
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto packet = connection.receive(left);
    if (!packet) break;
    if (!*packet) return ::testing::AssertionFailure() << "the shim closed the connection; output so far:\n" << output;
    if ((*packet)->type == type && (type == shim::kExit || type == shim::kError)) {
      if (collected) *collected = (*packet)->payload;
      if ((*packet)->payload.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
      continue;
    }
    if ((*packet)->type == type) output += (*packet)->payload;
    if (collected) *collected = output;
    if (!needle.empty() && output.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no \"" << needle << "\" from the shim in time; output so far:\n" << output;
}

}  // namespace ctr::itest
