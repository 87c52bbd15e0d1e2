// ctr-runtime's command line run in a forked child of the shim instead of
// an exec of the binary, when the shim's runtime is ctr-runtime: the same
// code (the shim links the runtime's command-line library), the same
// arguments, stdio, environment and log file, in a process of its own as
// before, minus the exec, the dynamic loading and the start-up of a second
// binary (~1 ms per runtime call, two calls on a `run -d`'s path).
// Any other runtime (`--runtime PATH` naming crun, runc or a wrapper) is
// exec'd as always. DESIGN.md §1 allows ctr-shim to link the runtime
// library "as long as the behaviour is the same".
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/result.h"

namespace ctr::shim {

// True when `runtime` (a path) is ctr-runtime, whose code this shim carries.
bool is_builtin_runtime(const std::string& runtime);

// As run_process(argv, spawn, timeout) with argv[0] being ctr-runtime:
// forks, and the child runs ctr-runtime's main with argv. Only stdin_fd,
// stdout_fd and stderr_fd of `spawn` are used (the environment is inherited).
Result<ExitStatus> run_builtin_runtime(const std::vector<std::string>& argv, const SpawnOptions& spawn,
                                       std::chrono::milliseconds timeout);

}  // namespace ctr::shim
