// ctr-runtime update --resources FILE|- ID: new limits (OCI linux.resources
// JSON) for a running container, as runc/crun do. cgroupfs: written into the
// container's v2 files. systemd: SetUnitProperties(runtime=true) on its
// scope, so systemd (which owns the scope's files) writes them and
// `systemctl show` agrees.
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_setup.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/log.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"resources", 'r', FlagKind::value, "linux.resources JSON to apply (- for stdin)", "FILE"},
};

Result<cgroup::Resources> read_resources(const ParsedArgs& args) {
  auto file = args.value("resources");
  if (!file) return make_error("update needs --resources FILE (or - for stdin): the OCI linux.resources JSON", EINVAL);
  auto text = *file == "-" ? read_fd(STDIN_FILENO) : read_file(*file);
  if (!text) return std::move(text).error().context("read --resources `" + *file + "`");
  auto resources = cgroup::parse_resources(*text);
  if (!resources) return std::move(resources).error().context("--resources `" + *file + "`");
  if (resources->empty()) return make_error("--resources `" + *file + "` sets no limit we can apply", EINVAL);
  return resources;
}

Result<int> run_update(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "update", 1, 1));
  const std::string& id = args.positionals[0];
  TRY_ASSIGN(resources, read_resources(args));
  TRY_ASSIGN(lock, lock_container_dir(global.root, id));
  TRY_ASSIGN(state, load_state(global, id));
  if (state.status == ContainerStatus::stopped)
    return make_error("container " + id + " is stopped: nothing to update", EINVAL);
  auto cgroup = cgroup::load_container_cgroup(state_dir(global, id));
  if (!cgroup)
    return make_error("container " + id + " has no cgroup, so its limits cannot change: give it a linux.cgroupsPath",
                      ENOTSUP);
  if (!cgroup->unit.empty()) {
    TRY_ASSIGN(properties, cgroup::resource_properties(resources));
    TRY(cgroup::set_unit_properties(cgroup->unit, properties));
  } else {
    TRY_CTX(cgroup::Cgroup(cgroup->dir).apply(resources), "update container \"" + id + "\"");
  }
  log_debug("updated the resources of container \"" + id + "\"");
  return 0;
}

}  // namespace

const Command update_command{
    "update", "update --resources FILE|- ID", "change a running container's resource limits", kFlags, run_update,
};

}  // namespace ctr::cli
