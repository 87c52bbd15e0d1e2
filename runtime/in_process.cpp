#include "runtime/in_process.h"

#include "runtime/base/files.h"
#include "runtime/cgroup_setup.h"
#include "runtime/container.h"
#include "runtime/state.h"

namespace ctr {
namespace {

// Whether the saved copy of config.json names hooks of `kind`; the same
// cheap text test ctr-runtime uses before it parses the spec for hooks.
Result<bool> has_hooks(const std::string& dir, const std::string& kind) {
  auto text = read_file(dir + "/config.json");
  if (!text) return std::move(text).error().context("read the container's saved config");
  return text->find("\"" + kind + "\"") != std::string::npos;
}

}  // namespace

Status require_created(const ContainerState& state) {
  std::string what;
  switch (state.status) {
    case ContainerStatus::created: return {};
    case ContainerStatus::stopped: what = "cannot start a container that has stopped"; break;
    case ContainerStatus::running: what = "cannot start a container that is already running"; break;
    default: what = std::string("cannot start a container that is ") + status_name(state.status);
  }
  return make_error("container \"" + state.id + "\": " + what, EINVAL);
}

Result<bool> start_in_process(const std::string& root, const std::string& id) {
  TRY(validate_container_id(id));
  TRY_ASSIGN(lock, lock_container_dir(root, id));
  TRY_ASSIGN(state, load_container(root, id, process_start_time));
  TRY(require_created(state));
  std::string dir = container_dir(root, id);
  TRY_ASSIGN(hooks, has_hooks(dir, "poststart"));
  if (hooks) return false;
  TRY(start_container(dir));
  return true;
}

Result<bool> delete_stopped_in_process(const std::string& root, const std::string& id) {
  TRY(validate_container_id(id));
  auto lock = lock_container_dir(root, id);
  if (!lock && lock.error().code == ENOENT) return true;  // as `delete --force`
  if (!lock) return std::move(lock).error();
  auto state = load_container(root, id, process_start_time);
  if (!state) return false;  // a create in progress or its leftovers: the runtime decides
  if (state->status != ContainerStatus::stopped) return false;
  std::string dir = container_dir(root, id);
  TRY_ASSIGN(hooks, has_hooks(dir, "poststop"));
  if (hooks) return false;
  // As `ctr-runtime delete` (cli/delete.cpp): the container's cgroup goes
  // first, then the state dir that records it.
  if (auto cgroup = cgroup::load_container_cgroup(dir))
    TRY_CTX(cgroup::destroy_container_cgroup(*cgroup), "delete container \"" + id + "\"");
  TRY_CTX(remove_tree(dir), "delete container \"" + id + "\"");
  return true;
}

}  // namespace ctr
