// The cgroup v2 freezer (cgroup.freeze, cgroup.events "frozen"): what
// `ctr-runtime pause/resume` and `ctr pause/unpause` use, as crun does.
// No controller is needed: cgroup.freeze is a core file of every non-root
// v2 cgroup (Linux 5.2+).
#pragma once

#include <chrono>
#include <string>

#include "runtime/base/result.h"

namespace ctr::cgroup {

// Writes DIR/cgroup.freeze (1 or 0) and waits until DIR/cgroup.events says
// "frozen 1" / "frozen 0": a task is frozen only at its next return to user
// space, so the write alone does not mean the container has stopped.
Status set_frozen(const std::string& dir, bool frozen,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
// True when DIR/cgroup.freeze is 1 (asked to freeze: crun's "paused").
bool freeze_requested(const std::string& dir);
// The value of `key` in a "key value" file such as cgroup.events or
// memory.events ("" when absent).
std::string flat_keyed_value(const std::string& text, const std::string& key);

}  // namespace ctr::cgroup
