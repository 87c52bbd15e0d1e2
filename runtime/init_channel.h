// Starting a container init (or exec'd process) and talking to it over the
// sync socket until it is ready: the parent half of child/sync.h.
#pragma once

#include <functional>
#include <string>

#include "runtime/base/child_process.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "runtime/plan.h"

namespace ctr {

struct InitHandlers {
  // Called between clone and `go`, e.g. to write the ID maps.
  std::function<Status(pid_t)> before_go;
  // The state JSON the child needs (hooks, seccomp agent); "" = none.
  std::function<std::string(pid_t)> state;
  // Runs prestart + createRuntime hooks when the child asks.
  std::function<Status(pid_t)> runtime_hooks;
  // Keep reading after `ready` until the child execs (EOF) or fails.
  bool wait_for_exec = false;
};

struct StartedInit {
  ChildProcess process;
  UniqueFd pty_master;
};

// Clones a child that runs storage.plan (never returning into our code),
// drives the sync protocol, and returns once the child is ready.
Result<StartedInit> start_init(PlanStorage& storage, const InitHandlers& handlers);

}  // namespace ctr
