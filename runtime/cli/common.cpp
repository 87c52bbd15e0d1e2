#include "runtime/cgroup_setup.h"
#include "runtime/cli/common.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/container.h"
#include "runtime/hooks.h"

namespace ctr::cli {

Result<ContainerState> load_state(const GlobalOptions& global, const std::string& id) {
  return load_container(global.root, id, process_start_time);
}

std::string state_dir(const GlobalOptions& global, const std::string& id) { return container_dir(global.root, id); }

// Atomic (temp + rename) so a reader never sees a partial pid, but not
// fsync'ed: a pid means nothing after a crash of the machine, and podman
// keeps pid files on disk, where an fsync costs milliseconds per container.
Status write_pid_file(const std::string& path, pid_t pid) {
  TRY_CTX(write_file_atomic(path, std::to_string(pid), 0644, Durability::ephemeral), "write pid file");
  return {};
}

Result<std::string> absolute_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) return sys_error("`" + path + "`");
  return std::string(resolved);
}

Result<int> preserve_fds_flag(const ParsedArgs& args) {
  auto text = args.value("preserve-fds");
  if (!text) return 0;
  auto n = parse_u64(*text);
  if (!n || *n > 65536) return make_error("invalid --preserve-fds \"" + *text + "\": expected a number", EINVAL);
  return static_cast<int>(*n);
}

static Result<std::string> read_saved_config(const std::string& dir) {
  auto text = read_file(dir + "/config.json");
  if (!text) return std::move(text).error().context("read the container's saved config");
  return text;
}

Result<spec::Hooks> saved_hooks_if_any(const std::string& dir, const ContainerState& state,
                                       std::string_view hook_kind) {
  TRY_ASSIGN(text, read_saved_config(dir));
  if (text.find("\"" + std::string(hook_kind) + "\"") == std::string::npos) return spec::Hooks{};
  TRY_ASSIGN(parsed, spec::parse_spec(text, state.bundle));
  return std::move(parsed.hooks);
}

Result<spec::Spec> load_saved_spec(const std::string& dir, const ContainerState& state) {
  TRY_ASSIGN(text, read_saved_config(dir));
  auto parsed = spec::parse_spec(text, state.bundle);
  if (!parsed) return std::move(parsed).error().context("the container's saved config.json");
  return parsed;
}

Status run_state_hooks(const std::vector<spec::Hook>& hooks, const char* kind, const ContainerState& state,
                       std::string_view status) {
  if (hooks.empty()) return {};
  return run_hooks(hooks, kind, hook_state_json(state.id, state.bundle, state.annotations, state.pid, status));
}

Status wait_pidfd_exit(int pidfd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error("process did not exit in time", ETIMEDOUT);
    pollfd pfd{pidfd, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return sys_error("poll pidfd");
  }
}

Status send_signal(int pidfd, int signal) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) != 0) return sys_error("send signal");
  return {};
}

std::string seccomp_cache_dir(const std::string& container_state_dir) {
  std::string root = container_state_dir.substr(0, container_state_dir.rfind('/'));
  return root + "-seccomp-cache";
}

StateDirGuard::~StateDirGuard() {
  if (path_.empty()) return;
  if (auto cgroup = cgroup::load_container_cgroup(path_)) (void)cgroup::destroy_container_cgroup(*cgroup);
  (void)remove_tree(path_);
}

}  // namespace ctr::cli
