// ShimTest: the fixture of the ctr-shim integration tests. It builds on
// RuntimeTest (a private --root, bundles of the busybox fixture, containers
// force-deleted at the end) and adds state directories for shims, spawning
// ctr-shim through the client library, and a check that no shim outlives
// its test.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "shim/client.h"
#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {

// CTR_SHIM_BIN, else CTR_BUILD_DIR/shim/ctr-shim.
const std::string& shim_binary();

class ShimTest : public RuntimeTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A fresh state directory (mode 0700) for one container.
  std::string new_state_dir();
  // Options for a container `id` of `bundle` in `state_dir`, logging k8s-file
  // to STATE/ctr.log, with this test's runtime and --root.
  shim::ShimOptions options(const std::string& id, const Bundle& bundle, const std::string& state_dir);
  // spawn_shim; remembers the state dir so TearDown can check the shim ended.
  Result<shim::CreateResult> spawn(const shim::ShimOptions& options,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // spawn() that must succeed (fails the test otherwise); returns the pid.
  pid_t spawn_ok(const shim::ShimOptions& options);
  // Waits for the container in `state_dir` to exit and returns its record.
  shim::ContainerStatus wait_exit(const std::string& state_dir, std::chrono::milliseconds timeout = 15s);
  // The log as text (partial entries joined), "" when unreadable.
  std::string log_text(const shim::ShimOptions& options, const std::string& stream = "");
  // Waits until the log holds a line containing `needle`.
  bool wait_for_log(const shim::ShimOptions& options, const std::string& needle,
                    std::chrono::milliseconds timeout = 10s);

 private:
  std::vector<std::string> state_dirs_;
  int states_ = 0;
};

// Reads packets from an attach connection until one of type `type` has a
// payload containing `needle` (output payloads are accumulated), or timeout.
::testing::AssertionResult receive_until(shim::AttachConnection& connection, shim::PacketType type,
                                         const std::string& needle, std::chrono::milliseconds timeout = 10s,
                                         std::string* collected = nullptr);

}  // namespace ctr::itest
