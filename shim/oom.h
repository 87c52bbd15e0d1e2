// Whether the container was OOM-killed: the oom_kill count of its cgroup's
// memory.events (conmon watches the same file). The container's cgroup is
// the runtime's (ROOT/ID/cgroup.json, runtime/cgroup_setup.h) and is made
// fresh for each start, so any count > 0 is a kill in this run; it is read
// at exit, before the runtime's delete removes the cgroup.
#pragma once

#include <string>
#include <vector>

namespace ctr::shim {

// `runtime_args`: the runtime's global flags (--root DIR); `id`: the container.
// False without a cgroup or without the memory controller.
bool container_oom_killed(const std::vector<std::string>& runtime_args, const std::string& id);
// memory.events text -> its oom_kill count (0 when absent).
unsigned long oom_kills(const std::string& memory_events);

}  // namespace ctr::shim
