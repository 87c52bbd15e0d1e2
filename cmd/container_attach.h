// The foreground half of `ctr run` / `ctr start -a`: attach to the shim,
// start the created container once connected (so no output is missed),
// relay stdio until it exits or ctrl-p,ctrl-q detaches.
#pragma once

#include <sys/types.h>

#include "cmd/app.h"
#include "cmd/container_record.h"

namespace ctr::cmd {

// Returns the container's exit status (0 when detached), or 125 after
// printing the error. `container_pid`: the created container's pid to start
// (0 when it is already running).
int attach_foreground(const ContainerRecord& record, pid_t container_pid, bool interactive);

}  // namespace ctr::cmd
