// ctr-runtime resume ID: thaw a paused container (cgroup.freeze = 0).
#include "runtime/cgroup_freeze.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/log.h"
#include "runtime/cli/pause_common.h"

namespace ctr::cli {

namespace {

Result<int> run_resume(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "resume", 1, 1));
  const std::string& id = args.positionals[0];
  TRY_ASSIGN(lock, lock_container_dir(global.root, id));
  TRY_ASSIGN(dir, freezable_cgroup(global, id, ContainerStatus::paused));
  TRY_CTX(cgroup::set_frozen(dir, false), "resume container \"" + id + "\"");
  log_debug("resumed container \"" + id + "\"");
  return 0;
}

}  // namespace

const Command resume_command{
    "resume", "resume ID", "resume a paused container's processes", {}, run_resume,
};

}  // namespace ctr::cli
