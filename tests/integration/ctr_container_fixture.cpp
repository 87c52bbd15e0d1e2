#include "tests/integration/ctr_container_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <thread>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {

CommandOutput run_tracked(const std::vector<std::string>& argv, int timeout_s) {
  CommandOutput result;
  UniqueFd out(::memfd_create("out", MFD_CLOEXEC)), err(::memfd_create("err", MFD_CLOEXEC));
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  SpawnOptions options;
  options.stdin_fd = null_in.get();
  options.stdout_fd = out.get();
  options.stderr_fd = err.get();
  Result<ChildProcess> child = make_error("not started");
  {
    auto lock = spawn_lock();
    child = spawn_process(argv, options);
    if (child) track_child(child->pid());
  }
  if (!child) {
    result.err = child.error().message;
    return result;
  }
  pid_t pid = child->pid();
  auto status = child->wait(std::chrono::seconds(timeout_s));
  untrack_child(pid);
  if (!status) {
    result.err = status.error().message;
    return result;
  }
  result.code = status->shell_code();
  result.out = read_memfd(out.get());
  result.err = read_memfd(err.get());
  return result;
}

void CtrContainerTest::SetUp() {
  if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
  if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
  if (::access(ctr_binary().c_str(), X_OK) != 0) FAIL() << "CTR_BIN=" << ctr_binary() << " is not an executable";
  if (busybox_rootfs().empty()) FAIL() << "no busybox fixture: " << fixture_error();
  auto dir = TempDir::create("ctr-container-test-");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  dir_.emplace(std::move(dir).value());
  root_ = dir_->path() + "/store";
  std::string tarball = dir_->path() + "/rootfs.tar.gz";
  auto made = run_tracked({"tar", "-C", busybox_rootfs(), "--exclude=./.complete", "-czf", tarball, "."});
  ASSERT_EQ(made.code, 0) << made.describe();
  auto imported = ctr({"import", tarball, "busybox"});
  ASSERT_EQ(imported.code, 0) << imported.describe();
}

void CtrContainerTest::TearDown() {
  if (!dir_) return;
  auto ids = ctr({"ps", "-a", "-q", "--no-trunc"});
  for (const auto& id : split(trim(ids.out), '\n'))
    if (!id.empty()) (void)ctr({"rm", "-f", std::string(id)});
  (void)run_tracked({ctr_binary(), "--root", root_, "unshare", "rm", "-rf", root_});
}

CommandOutput CtrContainerTest::ctr(std::vector<std::string> args, int timeout_s) {
  std::vector<std::string> argv{ctr_binary(), "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_tracked(argv, timeout_s);
}

bool CtrContainerTest::eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return check();
}

std::string CtrContainerTest::state_of(const std::string& /*name*/) {
  return std::string(trim(ctr({"ps", "-a", "--format", "{{.Names}} {{.State}}"}).out)) + "\n";
}

bool CtrContainerTest::has_state(const std::string& name, const std::string& state) {
  return state_of(name).find(name + " " + state + "\n") != std::string::npos;
}

std::vector<std::string> CtrContainerTest::exec_sessions(const std::string& id) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = (xdg && *xdg ? std::string(xdg) + "/ctr" : "/tmp/ctr-run-" + std::to_string(::getuid())) +
                    "/containers/" + id + "/exec";
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

std::string CtrContainerTest::load_debian_image() {
  const char* fixtures = std::getenv("CTR_FIXTURES");
  std::string archive = std::string(fixtures ? fixtures : "") + "/debian/debian.docker.tar";
  if (!fixtures || !path_exists(archive)) return "";
  auto loaded = ctr({"load", "-q", "-i", archive}, 120);
  EXPECT_EQ(loaded.code, 0) << loaded.describe();
  std::string image(trim(loaded.out));
  if (auto colon = image.find(": "); colon != std::string::npos) image = image.substr(colon + 2);
  return image;
}

}  // namespace ctr::itest
