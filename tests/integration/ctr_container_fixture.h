// The fixture of the `ctr` container-command tests: a fresh store per test
// with the busybox fixture imported as "busybox", a `ctr(...)` runner that
// the harness' orphan reaper knows about, and polling helpers. Every
// container left behind is removed with `rm -f` in TearDown.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "tests/integration/ctr_cli.h"

namespace ctr::itest {

// Like run_command, but registered with the harness' orphan reaper (other
// suites in this binary enable it), so it never reaps our own child.
CommandOutput run_tracked(const std::vector<std::string>& argv, int timeout_s = 60);

class CtrContainerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `ctr --root STORE ARGS...`
  CommandOutput ctr(std::vector<std::string> args, int timeout_s = 60);
  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }

  // Polls `check` (a ctr query) every 50 ms until it holds or `timeout` passes.
  bool eventually(const std::function<bool()>& check,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // "NAME STATE" lines of `ps -a`.
  std::string state_of(const std::string& name);
  bool has_state(const std::string& name, const std::string& state);
  // Entries of container `id`'s exec session directory (state that must not leak).
  std::vector<std::string> exec_sessions(const std::string& id);
  // Loads $CTR_FIXTURES/debian/debian.docker.tar and returns the image's
  // name ("" without the fixture: the caller skips with NO-DEBIAN-FIXTURE).
  std::string load_debian_image();

  std::optional<TempDir> dir_;
  std::string root_;
};

}  // namespace ctr::itest
