// ctr update [--memory ... --pids-limit ...] CONTAINER: new limits for a
// running container, through the runtime's `update --resources` (cgroupfs:
// the v2 files; systemd: SetUnitProperties on its scope). The record keeps
// the merged limits.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/cgroup_flags.h"
#include "cmd/container_launch.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

struct UpdateFlags {
  ResourceFlags resources;
  std::string container;
};

// `update` over `base`: what the user gave replaces, the rest stays.
cgroup::Resources merged(cgroup::Resources base, const cgroup::Resources& update) {
  auto take = [](auto& to, const auto& from) {
    if (from) to = from;
  };
  take(base.memory_limit, update.memory_limit);
  take(base.memory_swap, update.memory_swap);
  take(base.memory_reservation, update.memory_reservation);
  take(base.cpu_shares, update.cpu_shares);
  take(base.cpu_quota, update.cpu_quota);
  take(base.cpu_period, update.cpu_period);
  take(base.pids_limit, update.pids_limit);
  take(base.blkio_weight, update.blkio_weight);
  if (!update.cpuset_cpus.empty()) base.cpuset_cpus = update.cpuset_cpus;
  if (!update.cpuset_mems.empty()) base.cpuset_mems = update.cpuset_mems;
  if (!update.read_bps.empty()) base.read_bps = update.read_bps;
  if (!update.write_bps.empty()) base.write_bps = update.write_bps;
  return base;
}

Status apply_update(const ContainerRecord& record, pid_t shim_pid, const cgroup::Resources& limits) {
  // The runtime runs in the shim's namespaces, where the runtime state dir
  // (and so this file) is visible at the same path.
  std::string file = shim_state_dir(record.id) + "/update-resources.json";
  TRY(write_file_atomic(file, cgroup::resources_json(limits), 0600, Durability::ephemeral));
  Status applied = runtime_in_container(shim_pid, {"update", "--resources", file, record.id});
  (void)::unlink(file.c_str());
  return applied;
}

// The container's ID (printed, as podman does).
Result<std::string> update_container(Context& ctx, const UpdateFlags& flags) {
  TRY_ASSIGN(parsed, parse_resource_flags(flags.resources, block_device_numbers));
  if (parsed.limits.empty())
    return make_error("ctr update needs at least one resource flag (--memory, --cpus, --pids-limit, ...)", EINVAL);
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(record, find_record(*store, flags.container));
  if (record.cgroup_manager.empty() || record.cgroup_manager == "none" || record.cgroups_path.empty())
    return cgroup::limits_need_cgroup(cgroup::controllers_for(parsed.limits),
                                      "container " + record.name + " has no cgroup (cgroup manager none)");
  LiveStatus live = live_status(record);
  if (live.state != "running" || !live.shim || live.shim->shim_pid <= 0)
    return make_error("container " + record.name + " is " + live.shown_state() +
                          ": ctr update changes the limits of a running container (start it, or recreate it "
                          "with the new flags)",
                      EINVAL);
  TRY(apply_update(record, live.shim->shim_pid, parsed.limits));
  TRY_ASSIGN(before, cgroup::parse_resources(record.resources_json));
  record.resources_json = cgroup::resources_json(merged(before, parsed.limits));
  TRY(write_record(*store, record));
  return record.id;
}

}  // namespace

void add_update(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("update", "Update the resource limits of a running container");
  auto flags = std::make_shared<UpdateFlags>();
  add_limit_flags(cli, *sub, flags->resources);
  cli.value(*sub, "container", flags->container, "Container to update (name, ID or ID prefix)",
            Completer::running_containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] {
    auto updated = update_container(cli.ctx, *flags);
    if (!updated) return fail(updated.error());
    std::cout << *updated << std::endl;
    return 0;
  });
}

}  // namespace ctr::cmd
