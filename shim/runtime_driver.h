// Driving the OCI runtime binary: `create` (or `exec --detach` for an exec
// session), then optionally `start`, the way podman drives conmon. The
// runtime's own error comes from its `--log FILE --log-format json`.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "shim/options.h"

namespace ctr::shim {

struct LaunchStdio {
  int in = -1, out = -1, err = -1;  // become the runtime's (and so the container's) stdio
  int err_read = -1;                // read end of `err`, for the runtime's message when its log has none
  std::string console_socket;       // with a terminal
};

struct LaunchOutcome {
  pid_t pid = 0;      // the container's init (or exec process) on success
  std::string error;  // the runtime's message on failure
  int exit_code = 0;  // 125/126/127 on failure
  bool ok() const { return pid > 0; }
};

// argv of the runtime with its global flags (--log, then --runtime-arg ones).
std::vector<std::string> runtime_command(const ShimOptions& options);
LaunchOutcome launch_container(const ShimOptions& options, const LaunchStdio& stdio);
// `RUNTIME start ID` (a separate step so callers may attach first).
LaunchOutcome start_container(const ShimOptions& options, pid_t pid);
// Best effort `RUNTIME delete --force ID`, after a failed start.
void delete_container(const ShimOptions& options);

}  // namespace ctr::shim
