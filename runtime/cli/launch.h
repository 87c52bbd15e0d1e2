// What `create` and `run` share: bundle -> spec -> state dir -> container
// init -> state.json (+ pid file).
#pragma once

#include <array>
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

// The flags `create` takes; `run` takes them too, plus its own.
inline constexpr std::array<FlagSpec, 6> kCreateFlags{{
    {"bundle", 'b', FlagKind::value, "bundle directory (default: the current directory)", "DIR"},
    {"pid-file", 0, FlagKind::value, "write the init's pid to this file", "FILE"},
    {"console-socket", 0, FlagKind::value, "unix socket to send the terminal's pty master to", "PATH"},
    {"preserve-fds", 0, FlagKind::value, "pass fds 3..3+N-1 into the container", "N"},
    {"no-pivot", 0, FlagKind::boolean, "do not use pivot_root (for a rootfs on ramfs)"},
    {"no-new-keyring", 0, FlagKind::boolean, "do not create a session keyring for the container"},
}};

template <size_t A, size_t B>
constexpr std::array<FlagSpec, A + B> join_flags(const std::array<FlagSpec, A>& a, const FlagSpec (&b)[B]) {
  std::array<FlagSpec, A + B> joined{};
  for (size_t i = 0; i < A; ++i) joined[i] = a[i];
  for (size_t i = 0; i < B; ++i) joined[A + i] = b[i];
  return joined;
}

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
