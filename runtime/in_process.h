// `ctr-runtime start ID` and `ctr-runtime delete --force ID` without an
// exec, for the callers that link the runtime library (ctr, and ctr's exit
// command): DESIGN.md §1 allows it "as long as the behaviour is the same".
// Each exec of ctr-runtime costs ~1 ms of wall time and more of CPU, and
// both are on every `ctr run`'s path.
//
// Only the common case is handled here: no hooks of the kind the command
// would run (poststart / poststop) and a container in the state the command
// expects. Anything else returns false and the caller execs ctr-runtime,
// whose hooks then run exactly where they always did.
#pragma once

#include <string>

#include "runtime/base/result.h"

namespace ctr {

struct ContainerState;

// runc's wording for a start of a container that is not `created` (clients
// match on it), prefixed with the id; shared with `ctr-runtime start`.
Status require_created(const ContainerState& state);

// True when the container was started (as `ctr-runtime start` would); false
// when it has poststart hooks, so the caller must run `ctr-runtime start`.
// Errors are the runtime's own (`container "ID": cannot start a container
// that has stopped`, ...).
Result<bool> start_in_process(const std::string& root, const std::string& id);

// True when the container's state (and its cgroup, as `delete` does) was
// deleted (it had stopped, has no poststop hooks) or did not exist; false when the caller must run
// `ctr-runtime delete --force` (still running, being created, hooks).
Result<bool> delete_stopped_in_process(const std::string& root, const std::string& id);

}  // namespace ctr
