// Helpers shared by ctr-runtime's commands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/cli/args.h"
#include "runtime/cli/command.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace ctr::cli {

// ROOT/ID/state.json with the live status (start times from process_start_time).
Result<ContainerState> load_state(const GlobalOptions& global, const std::string& id);
std::string state_dir(const GlobalOptions& global, const std::string& id);
// Compiled seccomp programs are cached beside the state root (ROOT-seccomp-cache),
// not in it, where a directory would read as a container. Podman's default
// profile takes libseccomp ~10 ms to compile; a cache hit is one small read.
std::string seccomp_cache_dir(const std::string& container_state_dir);

// The pid alone, no newline (runc's format; conmon and podman read it).
Status write_pid_file(const std::string& path, pid_t pid);
// Resolves a path against the cwd and through symlinks; it must exist.
Result<std::string> absolute_path(const std::string& path);
// --preserve-fds N: a non-negative number.
Result<int> preserve_fds_flag(const ParsedArgs& args);

// The saved copy of the bundle's config.json, parsed only when its text
// mentions `hook_kind` (e.g. "poststop"): most containers have no hooks, and
// start/delete are on every container's path.
Result<spec::Hooks> saved_hooks_if_any(const std::string& dir, const ContainerState& state, std::string_view hook_kind);
// The whole saved spec (exec needs it).
Result<spec::Spec> load_saved_spec(const std::string& dir, const ContainerState& state);

// Runs hooks with the container's state (in `status`) on their stdin.
Status run_state_hooks(const std::vector<spec::Hook>& hooks, const char* kind, const ContainerState& state,
                       std::string_view status);

// Waits until the process behind `pidfd` has exited (it need not be our
// child). ETIMEDOUT when it has not after `timeout`.
Status wait_pidfd_exit(int pidfd, std::chrono::milliseconds timeout);
Status send_signal(int pidfd, int signal);

// Removes a container's state dir when it goes out of scope, unless
// disarmed: a failed create or run leaves nothing behind.
class StateDirGuard {
 public:
  explicit StateDirGuard(std::string path) : path_(std::move(path)) {}
  StateDirGuard(StateDirGuard&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  StateDirGuard& operator=(StateDirGuard&&) = delete;
  StateDirGuard(const StateDirGuard&) = delete;
  ~StateDirGuard();
  void disarm() { path_.clear(); }

 private:
  std::string path_;
};

}  // namespace ctr::cli
