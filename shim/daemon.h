// Detaching the shim from whoever started it.
#pragma once

#include "runtime/base/result.h"

namespace ctr::shim {

// Double fork + setsid: returns in the grandchild (the shim), which is in a
// new session with no controlling terminal and whose parent has exited. The
// original process waits for the middle one (so no zombie is left behind it)
// and exits 0; the caller reaps the original at once.
Status daemonize();
// Closes every fd above 2 except `keep` (made close-on-exec): the shim lives
// long, and nothing its caller left open may stay pinned by it or leak into
// the runtime or the container.
void close_inherited_fds(int keep);
// The shim's own settings: child subreaper, SIGPIPE and SIGXFSZ ignored (a
// vanished reader or a too-big log file is an error return, never the
// shim's death).
void prepare_process();
// Under memory pressure the kernel should pick the container, not the shim
// that records its end. Needs CAP_SYS_RESOURCE (rootless it quietly stays).
// Called once the container exists, so the container never inherits it.
void lower_oom_score();

}  // namespace ctr::shim
