#include "cmd/container_launch.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <tuple>

#include "cmd/sdnotify.h"
#include "cmd/cgroup_flags.h"
#include "cmd/container_network.h"
#include "cmd/container_pause.h"
#include "cmd/container_restart.h"
#include "cmd/publish.h"
#include "image/container_layers.h"
#include "runtime/cgroup_setup.h"
#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/in_process.h"
#include "shim/records.h"

namespace ctr::cmd {
namespace {

constexpr int kSyncFd = 3;

std::string self_exe() {
  char buffer[4096];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string("ctr");
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}


// In the new user + mount namespace (real root: a new private mount
// namespace only, see run_in_userns): mount the root file system, exec the shim.
Status mount_and_exec_shim(const image::Store& store, const image::ContainerLayer& layer, int sync_write,
                           std::vector<std::string>& argv) {
  TRY(image::mount_container_rootfs(store, layer));
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(null_fd.get(), fd) < 0) return sys_error("dup2 /dev/null");
  if (sync_write == kSyncFd) {
    ::fcntl(kSyncFd, F_SETFD, 0);
  } else if (::dup2(sync_write, kSyncFd) < 0) {
    return sys_error("dup2 the sync pipe");
  }
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  ::execv(cargv[0], cargv.data());
  return sys_error("exec the shim `" + argv[0] + "`");
}

bool same_user_namespace(pid_t pid) {
  struct stat mine {
  }, theirs{};
  return ::stat("/proc/self/ns/user", &mine) == 0 &&
         ::stat(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), &theirs) == 0 && mine.st_ino == theirs.st_ino;
}

// kill(2) from a child that joined `pid`'s user namespace, where we hold
// every capability over the container's subordinate IDs.
Status kill_in_userns(pid_t pid, int signal) {
  bool join_ns = !same_user_namespace(pid);
  TRY_ASSIGN(user_ns, open_fd("/proc/" + std::to_string(pid) + "/ns/user", O_RDONLY));
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {
    if (join_ns && ::setns(user_ns.get(), CLONE_NEWUSER) != 0) ::_exit(125);
    ::_exit(::kill(pid, signal) == 0 ? 0 : 1);
  }
  TRY_ASSIGN(process, ChildProcess::adopt(child));
  TRY_ASSIGN(ended, process.wait(std::chrono::seconds(30)));
  if (ended.shell_code() != 0) return make_error("cannot signal process " + std::to_string(pid), EPERM);
  return {};
}

// --sdnotify: a container that was not handed the socket at create time
// (made outside the unit, started by `ctr start` in it) cannot say READY
// itself, so ctr does, as with conmon.
void notify_started(const ContainerRecord& record, bool detached) {
  std::string mode = record.sdnotify_mode;
  if (mode == "container" && record.sdnotify_socket.empty()) mode = "conmon";
  pid_t shim_pid = 0;
  if (auto status = shim::read_container_status(shim_state_dir(record.id)); status) shim_pid = status->shim_pid;
  notify_container_started(mode, detached, shim_pid);
}

}  // namespace

shim::ShimOptions shim_options(Context& ctx, const image::Store& store, const ContainerRecord& record, bool start) {
  shim::ShimOptions o;
  o.id = record.id;
  o.bundle = container_dir(store, record.id);
  o.state_dir = shim_state_dir(record.id);
  o.runtime = helper_binary("ctr-runtime", "CTR_RUNTIME_BIN");
  o.runtime_args = {"--root", oci_runtime_root()};
  // cgroupsPath is then slice:ctr:ID: the runtime makes the scope (cgroup_setup.h).
  if (record.cgroup_manager == "systemd") o.runtime_args.push_back("--systemd-cgroup");
  o.log_driver = record.log_driver == "json-file" ? shim::LogDriver::json_file
                 : record.log_driver == "none"    ? shim::LogDriver::none
                                                  : shim::LogDriver::k8s_file;
  if (o.log_driver != shim::LogDriver::none) o.log_path = record.log_path;
  o.log_max_size = record.log_max_size;
  o.log_max_files = record.log_max_files;
  o.terminal = record.tty;
  o.stdin = record.stdin;
  o.timeout = record.timeout;
  o.start = start;
  o.sync_fd = kSyncFd;
  set_network_helper_options(o, record);
  // --sdnotify=container: the spec mounts the shim's relay socket, so the
  // shim must make it. It sends to the socket of the ctr that starts it
  // (`ctr start` in another unit), else to the one given at create time.
  if (notify_relayed(record.sdnotify_mode, record.sdnotify_socket)) {
    const std::string& current = take_notify_socket();
    o.notify_socket = current.empty() ? record.sdnotify_socket : current;
    o.notify_main_pid = start;  // ctr exits: the shim is the unit's main process
  }
  // The exit command runs in the container's namespaces when it ends:
  // unmount, delete the runtime's state, and remove the container with --rm.
  o.exit_command = self_exe();
  o.exit_args = {"--root", store.root()};
  if (!ctx.storage_driver.empty()) o.exit_args.insert(o.exit_args.end(), {"--storage-driver", ctx.storage_driver});
  o.exit_args.insert(o.exit_args.end(), {"container", "cleanup", record.id});
  return o;
}

std::string helper_binary(const std::string& name, const char* env_override) {
  if (const char* value = std::getenv(env_override); value && *value) return value;
  std::string dir = dir_of(self_exe());
  std::string module = name == "ctr-shim" ? "shim" : name == "ctr-init" ? "shim/init" : "runtime";
  for (const auto& candidate : {dir + "/" + name, dir + "/../" + module + "/" + name})
    if (executable(candidate)) return candidate;
  const char* path = std::getenv("PATH");
  for (const auto& entry : split(path ? path : "/usr/local/bin:/usr/bin:/bin", ':'))
    if (!entry.empty() && executable(entry + "/" + name)) return entry + "/" + name;
  return dir + "/" + name;  // the error then names where it was expected
}

Result<shim::CreateResult> launch_container(Context& ctx, const ContainerRecord& record, bool start) {
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(maps, ctx.maps());
  TRY_ASSIGN(layer, image::find_container_layer(*store, record.id));
  (void)take_notify_socket();  // never inherited by the shim (sdnotify.h)
  std::string state = shim_state_dir(record.id);
  TRY_ASSIGN(network, prepare_container_network(*store, *maps, record));
  TRY(mkdir_p(runtime_state_root(), 0700));
  kill_leftover_network_helper(state);
  // Published host ports still free (publish.h; after a dead shim's helper
  // is gone): a clear error now, the container left created, rather than
  // a helper failing inside the shim.
  TRY(check_host_ports_free(record.ports, record.name));
  TRY(remove_tree(state));  // a previous run's records
  // And the runtime's, should a killed shim have left them (callers start
  // only containers that are not running).
  TRY(remove_tree(oci_runtime_root() + "/" + record.id));
  TRY(mkdir_p(state, 0700));
  TRY(mkdir_p(oci_runtime_root(), 0700));
  std::string shim_binary = helper_binary("ctr-shim", "CTR_SHIM_BIN");
  if (!executable(shim_binary))
    return make_error(
        "cannot find ctr-shim (looked for `" + shim_binary + "`): install it next to ctr or set CTR_SHIM_BIN", ENOENT);
  std::vector<std::string> argv{shim_binary};
  for (auto& arg : shim::shim_arguments(shim_options(ctx, *store, record, start))) argv.push_back(std::move(arg));

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd sync_read(fds[0]), sync_write(fds[1]);
  auto work = [&]() -> Status { return mount_and_exec_shim(*store, layer, sync_write.get(), argv); };
  // Real root has no user namespace to share (empty maps).
  TRY_ASSIGN(child, !network.userns.empty() && !maps->uid.empty()
                        ? userns::start_in_joined_userns(network.userns, maps->single_id, work)
                        : userns::start_in_userns(*maps, work));
  sync_write.reset();
  bool got_result = false;
  ExitStatus exit;
  Status status = child.collect(got_result, exit);
  if (got_result && !status) return std::move(status).error().context("start container " + record.name);
  TRY_ASSIGN(report, shim::read_create_report(sync_read.get(), std::chrono::minutes(5)));
  if (!report)
    return make_error("the shim for container " + record.name + " exited without reporting (" + exit.describe() +
                          "); see " + state + "/runtime.log",
                      EPROTO);
  if (start && report->ok()) notify_started(record, true);
  return *report;
}

Status runtime_in_container(pid_t pid, const std::vector<std::string>& args) {
  std::string proc = "/proc/" + std::to_string(pid) + "/ns/";
  bool join_ns = !same_user_namespace(pid);
  TRY_ASSIGN(user_ns, open_fd(proc + "user", O_RDONLY));
  TRY_ASSIGN(mnt_ns, open_fd(proc + "mnt", O_RDONLY));
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  UniqueFd err(::memfd_create("runtime-stderr", MFD_CLOEXEC));
  if (!err) return sys_error("memfd_create");
  std::vector<std::string> all{helper_binary("ctr-runtime", "CTR_RUNTIME_BIN"), "--root", oci_runtime_root()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : all) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {  // only syscalls from here to exec
    if (join_ns && (::setns(user_ns.get(), CLONE_NEWUSER) != 0 || ::setns(mnt_ns.get(), CLONE_NEWNS) != 0)) {
      const char* message = "cannot join the container's namespaces\n";
      (void)!::write(err.get(), message, strlen(message));
      ::_exit(125);
    }
    ::dup2(null_fd.get(), 0);
    ::dup2(null_fd.get(), 1);
    ::dup2(err.get(), 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  TRY_ASSIGN(process, ChildProcess::adopt(child));
  TRY_ASSIGN(ended, process.wait(std::chrono::seconds(60)));
  if (ended.shell_code() == 0) return {};
  ::lseek(err.get(), 0, SEEK_SET);
  auto text = read_fd(err.get());
  std::string message(text ? trim(*text) : std::string_view());
  if (message.empty()) message = ended.describe();
  return make_error("ctr-runtime " + join(args, " ") + ": " + message);
}

bool runtime_is_ours() {
  const char* chosen = std::getenv("CTR_RUNTIME_BIN");
  if (!chosen || !*chosen) return true;
  std::string_view path(chosen);
  return path.substr(path.rfind('/') + 1) == "ctr-runtime";
}

Status start_created(const ContainerRecord& record) {
  TRY_ASSIGN(status, shim::read_container_status(shim_state_dir(record.id)));
  if (status.state != shim::ContainerState::running || status.shim_pid <= 0)
    return make_error("container " + record.name + " ended before it could be started", ESRCH);
  // Our own runtime's start is a write to the exec fifo in its state dir,
  // which this mount namespace sees as well: no fork, setns and exec (~1.5
  // ms per `ctr run`). Poststart hooks still run from `ctr-runtime start`
  // inside the container's namespaces.
  if (runtime_is_ours()) {
    auto started = start_in_process(oci_runtime_root(), record.id);
    if (!started) return std::move(started).error().context("ctr-runtime start " + record.id);
    if (*started) {
      notify_started(record, false);
      return {};
    }
  }
  TRY(runtime_in_container(status.shim_pid, {"start", record.id}));
  notify_started(record, false);
  return {};
}

Result<int> parse_signal(const std::string& text) {
  std::string name = text;
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (starts_with(name, "SIG")) name = name.substr(3);
  if (auto number = parse_u64(name); number && *number >= 1 && *number <= static_cast<uint64_t>(SIGRTMAX))
    return static_cast<int>(*number);
  // SIGRTMIN+N / SIGRTMAX-N, as completion offers them (glibc's values).
  for (const auto& [base, value, sign] : {std::tuple{"RTMIN", SIGRTMIN, 1}, std::tuple{"RTMAX", SIGRTMAX, -1}}) {
    if (name == base) return value;
    if (!starts_with(name, base) || name.size() < 7) continue;
    auto offset = parse_u64(name.substr(6));
    char op = name[5];
    if (offset && ((op == '+' && sign > 0) || (op == '-' && sign < 0)) && *offset <= uint64_t(SIGRTMAX - SIGRTMIN))
      return value + sign * static_cast<int>(*offset);
  }
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  return make_error("invalid signal `" + text + "`: use a name like TERM or SIGKILL, or a number", EINVAL);
}

Result<bool> signal_container(const ContainerRecord& record, int signal) {
  auto status = shim::read_container_status(shim_state_dir(record.id));
  if (!status || status->pid <= 0) return false;
  if (status->state == shim::ContainerState::exited) return false;
  if (status->state == shim::ContainerState::exited_unknown) {
    // The shim was killed: no runtime namespace to join, but the payload
    // may live on; signal it from inside its user namespace.
    if (!path_exists("/proc/" + std::to_string(status->pid))) return false;
    // With a cgroup, cgroup.kill takes every process, not only the init.
    if (signal == SIGKILL)
      if (auto cgroup = cgroup::load_container_cgroup(oci_runtime_root() + "/" + record.id))
        (void)cgroup::kill_container_cgroup(*cgroup);
    TRY(kill_in_userns(status->pid, signal));
    return true;
  }
  // The shim's namespaces (the container's own mount namespace would not
  // have the runtime's binary or state).
  // SIGKILL with a cgroup: `kill --all` (cgroup.kill), so no process is left behind.
  std::vector<std::string> kill{"kill"};
  if (signal == SIGKILL && !record.cgroups_path.empty()) kill.push_back("--all");
  kill.insert(kill.end(), {record.id, std::to_string(signal)});
  Status sent = runtime_in_container(status->shim_pid, kill);
  if (sent) {
    thaw_if_paused(record);  // a paused container handles the signal once thawed
    return true;
  }
  // It may have ended between the status read and the signal; its shim
  // records the exit a moment after the runtime stops seeing the process.
  auto again = shim::wait_container(shim_state_dir(record.id), std::chrono::seconds(2));
  if (again && again->state != shim::ContainerState::running) return false;
  return std::move(sent).error();
}

bool wait_shim_gone(const shim::ContainerStatus& status, std::chrono::milliseconds timeout) {
  if (status.shim_pid <= 0) return true;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, status.shim_pid, 0)));
  if (!pidfd) return true;  // already gone
  pollfd pfd{pidfd.get(), POLLIN, 0};
  int n;
  do n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  while (n < 0 && errno == EINTR);
  return n > 0;
}

Status remove_container(Context& ctx, const ContainerRecord& record) {
  TRY_ASSIGN(store, ctx.store());
  {
    TRY_ASSIGN(lock, store->lock());
    Status removed = image::remove_container_layer(*store, record.id);
    if (!removed && removed.error().code != ENOENT) return removed;
  }
  kill_leftover_network_helper(shim_state_dir(record.id));
  forget_network_joiner(*store, record);
  TRY(remove_tree(shim_state_dir(record.id)));
  TRY(remove_tree(restart_lock_path(record.id)));
  TRY(remove_tree(oci_runtime_root() + "/" + record.id));
  remove_empty_cgroup(record);
  return {};
}

Status kill_for_removal(const image::Store& store, const std::string& id) {
  auto record = find_record(store, id);
  if (!record) return record.error().code == ENOENT ? Status{} : Status(std::move(record).error());
  TRY(signal_container(*record, SIGKILL));
  // Not waiting for the shim itself: its exit command may need the store
  // lock that our caller holds.
  TRY_ASSIGN(status, shim::wait_container(shim_state_dir(record->id), std::chrono::seconds(30)));
  if (status.state == shim::ContainerState::running)
    return make_error("container " + record->name + " did not exit 30 s after SIGKILL", ETIMEDOUT);
  TRY(remove_tree(shim_state_dir(record->id)));
  TRY(remove_tree(restart_lock_path(record->id)));
  TRY(remove_tree(oci_runtime_root() + "/" + record->id));
  return {};
}

}  // namespace ctr::cmd
