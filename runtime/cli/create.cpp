// ctr-runtime create [flags] ID: set the container up and leave its init
// waiting on the exec fifo until `start`.
#include "runtime/cli/command.h"
#include "runtime/cli/launch.h"

namespace ctr::cli {

namespace {

constexpr auto kFlags = kCreateFlags;

Result<int> run_create(const GlobalOptions& global, const ParsedArgs& args) {
  TRY_ASSIGN(launched, launch_container(global, args, CreateMode::create, /*detached=*/true, "create"));
  // The init must outlive us; from now on the state dir is the container.
  launched.created.init.release();
  launched.cleanup.disarm();
  return 0;
}

}  // namespace

const Command create_command{
    "create", "create [flags] ID", "create a container (its process waits for `start`)", kFlags, run_create,
};

}  // namespace ctr::cli
