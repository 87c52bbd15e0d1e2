// A foreground `run` or `exec`: pass our signals on to the container process
// until it exits, relaying its pty to our terminal meanwhile if it has one.
#pragma once

#include "runtime/base/child_process.h"
#include "runtime/base/result.h"

namespace ctr::cli {

// `pty_master` < 0: no relay (the process uses our stdio or a console socket).
// Signals are blocked only from here on, after the process was cloned, so
// it never inherits a blocked mask.
Result<ExitStatus> wait_in_foreground(ChildProcess& child, int pty_master);

}  // namespace ctr::cli
