// RuntimeTest: the GoogleTest fixture every ctr-runtime integration test
// derives from. Each test gets its own work directory with its own `--root`
// state directory and bundles; at the end every container left in that root
// is force-deleted and the test fails if a container process survives.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "tests/integration/bundle.h"
#include "tests/integration/runtime_runner.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {

using namespace std::chrono_literals;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& work() const { return work_->path(); }
  const std::string& root() const { return runtime_->root(); }
  Runtime& runtime() { return *runtime_; }
  RunResult rt(const std::vector<std::string>& args, const RunOptions& options = {}) {
    return (*runtime_)(args, options);
  }

  // A bundle under the work dir; its process env carries the leak marker.
  Bundle make_bundle(const std::string& name = "bundle");
  // A unique container id for this test (ids share one namespace per root
  // only, but unique ones make runtime messages unambiguous).
  std::string new_id(const std::string& hint = "c");
  // A fresh directory under the work dir, owned by the test user (so
  // writable by root in a container whose root maps to the test user).
  std::string host_dir(const std::string& name);

  // `state ID` parsed; nullopt when the runtime does not know the id.
  std::optional<json> state(const std::string& id);
  std::string status(const std::string& id);  // "" when unknown
  bool wait_for_status(const std::string& id, const std::string& wanted, std::chrono::milliseconds timeout = 3s);
  static bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout = 3s);
  // Ids in the first column of `list` (the header line skipped).
  std::vector<std::string> listed_ids();
  // Entries of the --root directory (missing directory: none).
  std::vector<std::string> root_entries();
  // Container processes of this test still alive, after up to `grace`.
  std::vector<pid_t> leaked_processes(std::chrono::milliseconds grace = 1500ms);

  // `run --bundle B ID` in the foreground (a fresh id), to completion.
  RunResult run_bundle(const Bundle& bundle, const RunOptions& options = {}) {
    return rt({"run", "--bundle", bundle.write(), new_id("run")}, options);
  }

  // `create --bundle B ID` then `start ID`, the container's stdout and stderr
  // going to `output`; fails with the runtime's output when either fails.
  ::testing::AssertionResult create_and_start(const std::string& id, const Bundle& bundle, const Capture& output);

  std::string marker_;  // NAME=VALUE set in every container's and runtime's env

 private:
  std::optional<TempDir> work_;
  std::optional<Runtime> runtime_;
  int bundles_ = 0;
  int ids_ = 0;
};

// Expects `text` to contain `needle`, case-insensitively.
::testing::AssertionResult contains_nocase(const std::string& text, const std::string& needle);
// Lines of `text` with trailing '\r' removed.
std::vector<std::string> lines(const std::string& text);
std::string trimmed(const std::string& text);
// The content of a file, "" when it cannot be read.
std::string slurp(const std::string& path);
// Whitespace-separated words of `text`.
std::vector<std::string> words(const std::string& text);

}  // namespace ctr::itest
