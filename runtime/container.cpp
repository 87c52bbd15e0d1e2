// create/run and start: the runtime's side of a container's birth.
#include "runtime/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/files.h"
#include "runtime/cgroup_setup.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/init_channel.h"
#include "runtime/plan.h"
#include "userns/idmap.h"

namespace ctr {
namespace {

constexpr const char* kExecFifo = "exec.fifo";

userns::IdMap to_id_map(const std::vector<spec::IdMapping>& mappings) {
  userns::IdMap map;
  for (const auto& m : mappings) map.push_back({m.container_id, m.host_id, m.size});
  return map;
}

Status write_maps(const spec::Spec& spec, pid_t pid) {
  auto uid_map = to_id_map(spec.linux.uid_mappings);
  auto gid_map = to_id_map(spec.linux.gid_mappings);
  TRY_CTX(userns::validate_id_map(uid_map, "linux.uidMappings"), "linux.uidMappings");
  TRY_CTX(userns::validate_id_map(gid_map, "linux.gidMappings"), "linux.gidMappings");
  TRY_CTX(userns::write_id_map(pid, userns::IdKind::uid, uid_map, false), "linux.uidMappings");
  TRY_CTX(userns::write_id_map(pid, userns::IdKind::gid, gid_map, setgroups_denied(spec)), "linux.gidMappings");
  return {};
}

Status check_rootfs(const spec::Spec& spec) {
  struct stat st;
  if (::stat(spec.root.path.c_str(), &st) != 0)
    return sys_error("root.path: rootfs `" + spec.root.path + "` does not exist");
  if (!S_ISDIR(st.st_mode)) return make_error("root.path: rootfs `" + spec.root.path + "` is not a directory", ENOTDIR);
  return {};
}

// Fds 3..3+N-1 are handed to the container as they are; a gap there would
// let one of our own fds (the sync socket) slip in under that number.
Status check_preserved_fds(int count) {
  for (int fd = 3; fd < 3 + count; ++fd)
    if (::fcntl(fd, F_GETFD) < 0)
      return make_error("--preserve-fds " + std::to_string(count) + ": fd " + std::to_string(fd) + " is not open", EBADF);
  return {};
}

// The init blocks reading this fifo until `start` writes a byte. It holds
// the fifo open read-write, so `start` finds a reader exactly while the init
// is alive and waiting (otherwise its open fails with ENXIO).
Result<UniqueFd> make_exec_fifo(const std::string& state_dir) {
  std::string path = state_dir + "/" + kExecFifo;
  if (::mkfifo(path.c_str(), 0600) != 0) return sys_error("create exec fifo `" + path + "`");
  return open_fd(path, O_RDWR);
}

bool needs_hook_state(const spec::Spec& spec) {
  return !spec.hooks.create_container.empty() || !spec.hooks.start_container.empty() ||
         (spec.linux.seccomp && !spec.linux.seccomp->listener_path.empty());
}

}  // namespace

Result<Created> create_container(const spec::Spec& spec, const CreateRequest& request) {
  TRY(check_rootfs(spec));
  TRY(check_preserved_fds(request.preserve_fds));
  CreatePlanInputs inputs{&spec,           request.id, request.bundle, request.no_pivot, !request.no_new_keyring,
                          request.preserve_fds, request.seccomp_cache_dir};
  TRY_ASSIGN(storage, build_create_plan(inputs));
  UniqueFd fifo;
  if (request.mode == CreateMode::create) {
    TRY_ASSIGN(opened, make_exec_fifo(request.state_dir));
    fifo = std::move(opened);
    storage->plan.exec_fifo_fd = fifo.get();
  }
  InitHandlers handlers;
  // Before `go`: into the container's cgroup first (the init unshares its
  // cgroup namespace after `go`, so this cgroup becomes its root), then the
  // ID maps.
  cgroup::ContainerCgroup placed;
  bool wants_cgroup = !spec.linux.cgroups_path.empty() || !spec.linux.resources_json.empty();
  bool writes_maps = spec_creates_user_namespace(spec);
  if (wants_cgroup || writes_maps) {
    handlers.before_go = [&](pid_t pid) -> Status {
      if (wants_cgroup) {
        TRY_ASSIGN(cgroup, cgroup::place_container(spec, request.id, pid, request.systemd_cgroup));
        placed = std::move(cgroup);
        if (!placed.dir.empty()) TRY(cgroup::save_container_cgroup(request.state_dir, placed));
      }
      return writes_maps ? write_maps(spec, pid) : Status{};
    };
  }
  auto state_of = [&](pid_t pid) { return request.hook_state ? request.hook_state(pid, "creating") : std::string("{}"); };
  // Hooks that run inside the container see its pid as the container does
  // (1 in a new pid namespace), as runc reports it.
  bool own_pid_ns = spec.linux.find_namespace(spec::NamespaceType::pid) &&
                    spec.linux.find_namespace(spec::NamespaceType::pid)->path.empty();
  if (needs_hook_state(spec)) handlers.state = [&](pid_t pid) { return state_of(own_pid_ns ? 1 : pid); };
  if (!spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty()) {
    handlers.runtime_hooks = [&](pid_t pid) -> Status {
      std::string state = state_of(pid);
      TRY(run_hooks(spec.hooks.prestart, "prestart", state));
      return run_hooks(spec.hooks.create_runtime, "createRuntime", state);
    };
  }
  handlers.wait_for_exec = request.mode == CreateMode::run;
  auto started_or = start_init(*storage, handlers);
  if (!started_or) {
    if (!placed.dir.empty()) (void)cgroup::destroy_container_cgroup(placed);  // the error below says what failed
    return std::move(started_or).error();
  }
  auto started = std::move(*started_or);
  Created created{std::move(started.process), 0, std::move(started.pty_master)};
  created.start_time = process_start_time(created.init.pid());
  if (created.pty_master && !request.console_socket.empty()) {
    TRY_CTX(send_console(request.console_socket, created.pty_master.get()), "--console-socket");
    created.pty_master.reset();
  }
  return created;
}

Status start_container(const std::string& state_dir) {
  std::string path = state_dir + "/" + kExecFifo;
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return make_error("the container has already been started", EALREADY);
  if (fd < 0 && errno == ENXIO) return make_error("the container's init has exited before start", ESRCH);
  if (fd < 0) return sys_error("open exec fifo `" + path + "`");
  UniqueFd fifo(fd);
  TRY_CTX(write_all(fifo.get(), "0", 1), "release the container init");
  ::unlink(path.c_str());
  // The init holds the fifo until it execs (or dies); then our write end
  // reports POLLERR. Waiting for it orders startContainer hooks and the
  // exec before the caller's poststart hooks, as the spec requires.
  pollfd pfd{fifo.get(), 0, 0};
  while (::poll(&pfd, 1, -1) < 0 && errno == EINTR) {
  }
  return {};
}

uint64_t process_start_time(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t pos = stat->rfind(')');
  if (pos == std::string::npos) return 0;
  const char* p = stat->c_str() + pos + 2;
  for (int field = 3; field < 22 && *p; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return 0;
    ++p;
  }
  return std::strtoull(p, nullptr, 10);
}

}  // namespace ctr
