// Who the container's process is: ids, groups, capabilities, and the
// process-wide settings applied just before exec.
#pragma once

#include "runtime/child/plan.h"

namespace ctr::child {

// After pivot_root and before the read-only paths (which usually include /proc/sys).
void apply_sysctls(const Plan& plan);
void apply_process_settings(const Plan& plan);  // hostname, rlimits, oom, personality, keyring
void apply_identity(const Plan& plan);          // groups, gid, uid, capabilities, umask

}  // namespace ctr::child
