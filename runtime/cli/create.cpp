// ctr-runtime create [flags] ID: set the container up and leave its init
// waiting on the exec fifo until `start`.
#include "runtime/cli/command.h"
#include "runtime/cli/launch.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"bundle", 'b', FlagKind::value, "bundle directory (default: the current directory)", "DIR"},
    {"pid-file", 0, FlagKind::value, "write the init's pid to this file", "FILE"},
    {"console-socket", 0, FlagKind::value, "unix socket to send the terminal's pty master to", "PATH"},
    {"preserve-fds", 0, FlagKind::value, "pass fds 3..3+N-1 into the container", "N"},
    {"no-pivot", 0, FlagKind::boolean, "do not use pivot_root (for a rootfs on ramfs)"},
    {"no-new-keyring", 0, FlagKind::boolean, "do not create a session keyring for the container"},
};

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
