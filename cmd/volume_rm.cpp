// ctr volume rm|remove [-f] [-a] NAME...: removes volumes. One in use by a
// container is an error unless -f, which removes those containers first
// (killing running ones), as podman. Exit codes as podman's: 1 no such
// volume, 2 volume in use, 125 anything else.
#include <signal.h>

#include <iostream>
#include <memory>

#include "cmd/container_launch.h"
#include "cmd/volume_cli.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

constexpr int kExitNoSuchVolume = 1;
constexpr int kExitVolumeInUse = 2;

struct RmFlags {
  bool force = false, all = false;
  std::vector<std::string> names;
};

// `rm -f` of one container: kill it when it runs, wait for its shim's exit
// command, remove its storage (which takes the store lock).
Status force_remove_container(Context& ctx, const image::Store& store, const std::string& id) {
  auto record = find_record(store, id);
  if (!record) return record.error().code == ENOENT ? Status{} : Status(std::move(record).error());
  LiveStatus live = live_status(*record);
  if (live.state == "running") {
    TRY(signal_container(*record, SIGKILL));
    TRY_ASSIGN(status, shim::wait_container(shim_state_dir(record->id), std::chrono::seconds(30)));
    if (status.state == shim::ContainerState::running)
      return make_error("container " + record->name + " did not exit 30 s after SIGKILL", ETIMEDOUT);
    live = live_status(*record);
  }
  if (live.shim) (void)wait_shim_gone(*live.shim, std::chrono::seconds(30));
  return remove_container(ctx, *record);
}

int remove_one(Context& ctx, image::Store& store, const std::string& name, bool force) {
  if (auto found = read_volume(store, name); !found) {
    fail(found.error());
    return found.error().code == ENOENT ? kExitNoSuchVolume : kExitError;
  }
  auto users = volume_users(store);
  if (!users) return fail(users.error());
  auto it = users->find(name);
  if (it != users->end()) {
    if (!force) {
      fail("volume " + name + " is being used by the following container(s): " + join(it->second, ", ") +
           ": volume is being used (remove them first, or use ctr volume rm -f)");
      return kExitVolumeInUse;
    }
    for (const auto& id : it->second)
      if (auto removed = force_remove_container(ctx, store, id); !removed)
        return fail(removed.error().context("remove container " + id + " using volume " + name));
  }
  auto lock = store.lock();
  if (!lock) return fail(lock.error());
  // A container may have started using it meanwhile.
  users = volume_users(store);
  if (!users) return fail(users.error());
  if (users->count(name)) {
    fail("volume " + name + " is being used by a container created meanwhile: volume is being used");
    return kExitVolumeInUse;
  }
  if (auto removed = remove_volume(store, name); !removed) {
    fail(removed.error());
    return removed.error().code == ENOENT ? kExitNoSuchVolume : kExitError;
  }
  std::cout << name << std::endl;
  return 0;
}

int run_volume_rm(Context& ctx, const RmFlags& flags) {
  if (flags.all == !flags.names.empty()) return fail(std::string("choose either one or more volumes or all"));
  auto store = ctx.store();
  if (!store) return fail(store.error());
  std::vector<std::string> names = flags.names;
  if (flags.all) {
    auto volumes = list_volumes(**store);
    if (!volumes) return fail(volumes.error());
    for (const auto& volume : *volumes) names.push_back(volume.name);
  }
  int status = 0;
  for (const auto& name : names) {
    int code = remove_one(ctx, **store, name, flags.force);
    if (code != 0 && (status == 0 || code == kExitError)) status = code;
  }
  return status;
}

}  // namespace

void add_volume_rm(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("rm", "Remove one or more volumes");
  sub->alias("remove");
  auto flags = std::make_shared<RmFlags>();
  sub->add_flag("-f,--force", flags->force, "Remove the containers that use the volume too");
  sub->add_flag("-a,--all", flags->all, "Remove all volumes");
  cli.value(*sub, "volume", flags->names, "Volumes to remove", Completer::volumes);
  cli.on_run(*sub, [&cli, flags] { return run_volume_rm(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
