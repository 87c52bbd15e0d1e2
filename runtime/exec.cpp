// exec: a new process inside a running container's namespaces.
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/init_channel.h"
#include "runtime/plan.h"

namespace ctr {
namespace {

struct NamespaceFile {
  const char* name;  // under /proc/PID/ns/
  int nstype;
};

// The user namespace first (it grants the right to join the others), the
// pid namespace is joined for our next child, the mount namespace last so
// the other /proc paths were already opened.
constexpr NamespaceFile kNamespaces[] = {{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
                                         {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
                                         {"mnt", CLONE_NEWNS}};

bool same_namespace(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

Status plan_joins(PlanStorage& storage, pid_t pid) {
  std::vector<child::JoinStep> joins;
  for (const auto& ns : kNamespaces) {
    std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + ns.name;
    if (same_namespace(theirs, std::string("/proc/self/ns/") + ns.name)) continue;
    auto fd = open_fd(theirs, O_RDONLY);
    if (!fd) return std::move(fd).error().context("join the container's namespaces");
    joins.push_back({fd->get(), ns.nstype, ns.name});
    storage.namespace_fds.push_back(std::move(*fd));
    if (ns.nstype == CLONE_NEWPID) storage.plan.join_pid = true;
    if (ns.nstype == CLONE_NEWUSER) storage.plan.user_namespace = true;
  }
  storage.plan.joins = storage.keep_span(std::move(joins));
  return {};
}

Status join_container_cgroup(pid_t container_pid) {
  auto text = read_file("/proc/" + std::to_string(container_pid) + "/cgroup");
  cgroup::Host host = cgroup::detect_host();
  std::string path = text ? cgroup::v2_path_from_proc(*text) : "";
  if (host.v2_mount.empty() || path.empty() || path.find("/..") != std::string::npos || path == host.own) return {};
  Status moved = cgroup::Cgroup(host.v2_mount + path).add_pid(::getpid());
  int err = moved ? 0 : moved.error().code;
  if (err == EACCES || err == EPERM || err == EROFS || err == ENOENT || err == EBUSY) return {};
  return moved;
}

}  // namespace

Result<Executed> exec_in_container(const ExecRequest& request) {
  if (!request.container_spec) return make_error("exec: the container's config is missing", EINVAL);
  auto storage = std::make_unique<PlanStorage>();
  TRY(plan_joins(*storage, request.container_pid));
  TRY(plan_process(*storage, request.process, *request.container_spec, request.seccomp_cache_dir));
  storage->plan.preserve_fds = request.preserve_fds;
  InitHandlers handlers;
  handlers.wait_for_exec = true;
  // Into the container's cgroup, as runc does, so limits and cgroup.kill
  // cover exec'd processes too: we move ourselves (a short-lived process),
  // so the child is born there; moving the child would race with the
  // sibling it clones to enter the pid namespace. Rootless without a
  // delegated cgroup the move is not allowed: we then stay where we are.
  TRY(join_container_cgroup(request.container_pid));
  TRY_ASSIGN(started, start_init(*storage, handlers));
  Executed executed{std::move(started.process), std::move(started.pty_master)};
  if (executed.pty_master && !request.console_socket.empty()) {
    TRY_CTX(send_console(request.console_socket, executed.pty_master.get()), "--console-socket");
    executed.pty_master.reset();
  }
  return executed;
}

}  // namespace ctr
