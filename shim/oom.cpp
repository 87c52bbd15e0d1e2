#include "shim/oom.h"

#include <cstdlib>

#include "runtime/base/files.h"
#include "runtime/cgroup_freeze.h"
#include "runtime/cgroup_setup.h"
#include "runtime/state.h"

namespace ctr::shim {

unsigned long oom_kills(const std::string& memory_events) {
  std::string value = cgroup::flat_keyed_value(memory_events, "oom_kill");
  return value.empty() ? 0 : std::strtoul(value.c_str(), nullptr, 10);
}

bool container_oom_killed(const std::vector<std::string>& runtime_args, const std::string& id) {
  std::string root = default_state_root();
  for (size_t i = 0; i + 1 < runtime_args.size(); ++i)
    if (runtime_args[i] == "--root") root = runtime_args[i + 1];
  auto cgroup = cgroup::load_container_cgroup(container_dir(root, id));
  if (!cgroup) return false;
  auto events = read_file(cgroup->dir + "/memory.events");
  return events && oom_kills(*events) > 0;
}

}  // namespace ctr::shim
