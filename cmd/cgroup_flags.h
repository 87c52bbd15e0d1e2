// The cgroup flags of `ctr run/create` (--cgroups, --cgroup-parent and the
// resource limits --memory ... --oom-score-adj), parsed as podman parses
// them, and the cgroup a new container gets: which manager, the
// linux.cgroupsPath and linux.resources of its config.json.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "runtime/base/result.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_manager.h"

namespace ctr::cmd {

struct ResourceFlags {
  std::string memory, memory_swap, memory_reservation;
  std::string cpus, cpu_shares, cpu_quota, cpu_period;
  std::string cpuset_cpus, cpuset_mems;
  std::string pids_limit, blkio_weight;
  std::vector<std::string> device_read_bps, device_write_bps;
  std::string oom_score_adj;
  std::string cgroups = "enabled";  // --cgroups
  std::string cgroup_parent;        // --cgroup-parent
};
void add_resource_flags(Cli& cli, CLI::App& sub, ResourceFlags& flags);
// Only the limits (--memory ... --device-write-bps): what `ctr update` takes.
void add_limit_flags(Cli& cli, CLI::App& sub, ResourceFlags& flags);

// "512m", "1g", "1024" (bytes), "1.5k": podman's RAMInBytes (1024-based).
Result<int64_t> parse_ram_size(const std::string& text, const std::string& flag);
// --cpus 1.5 -> quota for `period` microseconds.
Result<int64_t> cpus_to_quota(const std::string& text, uint64_t period);

struct ParsedResources {
  cgroup::Resources limits;
  std::optional<int> oom_score_adj;
  bool pids_limit_set = false;  // an explicit --pids-limit (no default then)
};
// Every flag checked; `device_numbers` turns a device path into its
// major:minor (stat; a parameter for tests).
using DeviceNumbers = std::function<Result<std::pair<int64_t, int64_t>>(const std::string& path)>;
Result<ParsedResources> parse_resource_flags(const ResourceFlags& flags, const DeviceNumbers& device_numbers);
Result<std::pair<int64_t, int64_t>> block_device_numbers(const std::string& path);

// The cgroup of a new container.
struct CgroupPlan {
  cgroup::Manager manager = cgroup::Manager::none;
  std::string reason;
  std::string cgroups_path;  // linux.cgroupsPath ("" for none)
  std::string parent;        // the slice (systemd) or parent cgroup (cgroupfs) it goes below
  cgroup::Resources limits;  // with the pids default
};
// Facts about this host, gathered once per ctr process.
struct CgroupFacts {
  cgroup::Host host;
  cgroup::ManagerInputs inputs;
  std::vector<std::string> own_controllers;  // delegated to our own cgroup
};
const CgroupFacts& cgroup_facts();
// --cgroup-manager (global) + --cgroups + the host -> the manager that applies.
Result<cgroup::ManagerChoice> global_cgroup_manager(const Context& ctx, const CgroupFacts& facts);
// The plan for container `id` (pure: facts are passed in). Limits that
// cannot be enforced are an error naming the controller and the fix.
Result<CgroupPlan> plan_cgroup(const cgroup::ManagerChoice& global, const CgroupFacts& facts, const ResourceFlags& flags,
                               ParsedResources resources, const std::string& id);
// cgroupfs: removes the container's `ctr-ID` cgroup (its supervisor leaf
// and what the runtime left) once empty. Never kills: a shim still there
// (running our cleanup) keeps it.
void remove_empty_cgroup(const ContainerRecord& record);
// Says once per session (a marker in the runtime dir) that containers run
// without a cgroup, and why.
void warn_no_cgroup_once(const std::string& reason);

}  // namespace ctr::cmd
