// The runtime's part: put a new container's init into the cgroup its spec
// names (linux.cgroupsPath, linux.resources), as runc/crun do, remember
// where (STATE/cgroup.json), and tear it down at delete.
//
// cgroupfs: an absolute cgroupsPath is below the v2 mount, a relative one
// below the parent of the runtime's own cgroup (runc's rule). The limits are
// written into that cgroup's v2 files.
// systemd (--systemd-cgroup and "slice:prefix:name"): a transient scope
// `prefix-name.scope` in `slice` with Delegate=yes, the limits as its unit
// properties; the cgroup is read back from the unit.
// With the annotation kSupervisorAnnotation = "parent" (set by ctr), the
// runtime's parent (the shim) is put into a sibling leaf `supervisor` and
// the container into `container`, so one scope holds both and no cgroup
// has processes and children at once.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "runtime/base/result.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

namespace ctr::cgroup {

inline constexpr const char* kSupervisorAnnotation = "io.github.ctr.cgroup.supervisor";

struct ContainerCgroup {
  std::string dir;   // absolute; the container's cgroup ("" = none)
  std::string unit;  // the systemd scope, if any
  std::string scope_dir;  // the cgroup to remove at the end (the scope's, or ctr-ID's)
};

// Places `pid` (not yet running the payload). Returns an empty
// ContainerCgroup when the spec asks for no cgroup.
Result<ContainerCgroup> place_container(const spec::Spec& spec, const std::string& id, pid_t pid, bool systemd);

Status save_container_cgroup(const std::string& state_dir, const ContainerCgroup& cgroup);
// nullopt when the container has no cgroup record.
std::optional<ContainerCgroup> load_container_cgroup(const std::string& state_dir);
// Kills what is left in it and removes it (stopping the scope, if any).
Status destroy_container_cgroup(const ContainerCgroup& cgroup);
// cgroup.kill on the container's cgroup: every process, none left behind.
Status kill_container_cgroup(const ContainerCgroup& cgroup);

}  // namespace ctr::cgroup
