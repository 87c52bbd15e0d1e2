// The shim proper, once detached: sets up the container's stdio, has the
// runtime create the container, reports the outcome on the sync fd, then
// serves output, logs and attach clients until the container exits, records
// how it ended and runs the exit command.
#pragma once

#include "shim/options.h"
#include "shim/records.h"

namespace ctr::shim {

struct InheritedStdio {
  // The caller's stdio, kept for --log-driver passthrough (else -1).
  int in = -1, out = -1, err = -1;
};

// Returns the shim's exit status (0 when the container was supervised to
// its end, whatever its own status).
int run_supervisor(const ShimOptions& options, const InheritedStdio& inherited);

// Writes the sync report (if there is a sync fd) and closes it.
void report_sync(int& sync_fd, const SyncReport& report);

}  // namespace ctr::shim
