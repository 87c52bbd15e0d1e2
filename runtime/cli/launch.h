// What `create` and `run` share: bundle -> spec -> state dir -> container
// init -> state.json (+ pid file).
#pragma once

#include <optional>
#include <string>

#include "runtime/base/file_lock.h"
#include "runtime/base/result.h"
#include "runtime/cli/args.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace ctr::cli {

struct Launched {
  ContainerState state;
  std::string dir;
  spec::Spec spec;
  // Not held during create (see state.h, kCreateMarker); run takes it to
  // clean up. Destroyed in reverse order: the init is killed (unless
  // released), then the dir removed (unless disarmed), and only then the
  // lock let go, so nobody waiting on it sees a half-removed container.
  std::optional<FileLock> lock;
  StateDirGuard cleanup;
  Created created;
};

// Flags both create and run take: --bundle, --pid-file, --console-socket,
// --preserve-fds, --no-pivot, --no-new-keyring. `detached`: nobody will
// relay a terminal, so process.terminal needs --console-socket.
Result<Launched> launch_container(const GlobalOptions& global, const ParsedArgs& args, CreateMode mode,
                                  bool detached, std::string_view command);

// Adds LISTEN_FDS/LISTEN_PID for socket activation (see launch.cpp).
// Returns how many fds to pass on beyond --preserve-fds.
int apply_socket_activation(spec::Process& process);

}  // namespace ctr::cli
