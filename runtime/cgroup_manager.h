// Which cgroup manager a container gets: systemd (a delegated transient
// scope over the user bus), cgroupfs (sub-cgroups of our own delegated v2
// cgroup), or none (cgroup v1 only, or nothing delegated to us). Decided
// from facts gathered once (probe_manager_inputs) by a pure function, so
// every combination is unit-tested.
#pragma once

#include <optional>
#include <string>

#include "runtime/base/result.h"
#include "runtime/cgroup.h"

namespace ctr::cgroup {

enum class Manager { systemd, cgroupfs, none };
const char* manager_name(Manager manager);
Result<Manager> parse_manager(const std::string& text);

// --cgroups: enabled (the manager's own place), disabled (no cgroup), split
// (under our own cgroup, e.g. the delegated cgroup of the user unit we run in).
enum class CgroupsMode { enabled, disabled, split };
Result<CgroupsMode> parse_cgroups_mode(const std::string& text);

struct ManagerInputs {
  Layout layout = Layout::none;
  bool user_bus = false;      // the systemd user manager answers
  bool own_writable = false;  // our own v2 cgroup can take sub-cgroups
};
ManagerInputs probe_manager_inputs(const Host& host);

struct ManagerChoice {
  Manager manager = Manager::none;
  std::string reason;  // for `ctr info` and the no-cgroup warning
};
// `requested`: --cgroup-manager, if given. A requested manager that cannot
// work here is an error that says why.
Result<ManagerChoice> choose_manager(const ManagerInputs& in, std::optional<Manager> requested);
// The manager for one container given --cgroups.
Result<ManagerChoice> choose_for_container(const ManagerChoice& global, const ManagerInputs& in, CgroupsMode mode);

// The error for limits that cannot be enforced without a cgroup.
Error limits_need_cgroup(const std::vector<std::string>& controllers, const std::string& why);
// Of `needed`, those not in `available`.
std::vector<std::string> missing_controllers(const std::vector<std::string>& needed,
                                             const std::vector<std::string>& available);

}  // namespace ctr::cgroup
