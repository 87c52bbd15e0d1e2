// Forked helpers in the store's user namespace. The child unshares, tells
// the parent, and waits until the parent has written its ID maps (only the
// parent can run newuidmap for it); then it becomes root in the namespace,
// runs the work and sends its Status back over a pipe.
#include "userns/run_in_userns.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <exception>

#include "runtime/base/files.h"

namespace ctr::userns {
namespace {

constexpr char kUnshared = 'u';  // child -> parent: namespace made, write the maps
constexpr char kResult = 'r';    // child -> parent: the work's Status follows
constexpr char kGo = 'g';        // parent -> child: maps written

bool read_exact(int fd, void* data, size_t size) {
  auto* out = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::read(fd, out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void send_frame(int fd, char type, const Status& status) {
  int32_t code = status.ok() ? 0 : status.error().code;
  std::string message = status.ok() ? std::string() : status.error().message;
  if (!status.ok() && message.empty()) message = "failed";
  auto len = static_cast<uint32_t>(message.size());
  std::string frame(1, type);
  frame.append(reinterpret_cast<const char*>(&code), sizeof code);
  frame.append(reinterpret_cast<const char*>(&len), sizeof len);
  frame += message;
  (void)write_all(fd, frame);
}

struct Frame {
  char type = 0;
  Status status;
};

// False on EOF (the child died or exec'd).
bool read_frame(int fd, Frame& frame) {
  int32_t code = 0;
  uint32_t len = 0;
  if (!read_exact(fd, &frame.type, 1) || !read_exact(fd, &code, sizeof code) || !read_exact(fd, &len, sizeof len))
    return false;
  std::string message(len, '\0');
  if (len > 0 && !read_exact(fd, message.data(), len)) return false;
  if (!message.empty()) frame.status = make_error(std::move(message), code);
  return true;
}

bool has_maps(const StoreMaps& maps) { return !maps.uid.empty() || !maps.gid.empty(); }

// Child side, before the work: new namespaces, wait for the maps, become root.
Status enter_namespace(const StoreMaps& maps, int to_parent, int from_parent) {
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return sys_error("unshare user+mount namespace");
  send_frame(to_parent, kUnshared, {});
  char go = 0;
  if (!read_exact(from_parent, &go, 1) || go != kGo) return make_error("ID maps were not written");
  if (::setresgid(0, 0, 0) != 0) return sys_error("setresgid 0 in the user namespace");
  if (::setresuid(0, 0, 0) != 0) return sys_error("setresuid 0 in the user namespace");
  // With setgroups allowed, drop the host's supplementary groups: they would
  // show up as the overflow gid on created files' access checks.
  if (!maps.single_id) (void)::setgroups(0, nullptr);
  return {};
}

// Real root (empty maps): no user namespace, but the same private mount
// namespace a rootless helper gets, so a mount made by the work (overlay
// probe, container root file system) never lands in the host's table.
// Private, not just new: on a shared / (systemd) it would propagate back.
Status enter_mount_namespace() {
  if (::unshare(CLONE_NEWNS) != 0) return sys_error("unshare mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_error("make the mount namespace private");
  return {};
}

[[noreturn]] void child_main(const StoreMaps& maps, int to_parent, int from_parent,
                             const std::function<Status()>& work) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Status status = has_maps(maps) ? enter_namespace(maps, to_parent, from_parent) : enter_mount_namespace();
  if (status.ok()) {
    try {
      status = work();
    } catch (const std::exception& e) {
      status = make_error(std::string("unexpected exception: ") + e.what());
    } catch (...) {
      status = make_error("unexpected exception");
    }
  }
  send_frame(to_parent, kResult, status);
  ::_exit(status.ok() ? 0 : 1);
}

Status write_maps(pid_t pid, const StoreMaps& maps) {
  // setgroups must be denied for a map written without newgidmap (single
  // ID); with the helper it stays allowed, as the container may need it.
  return write_id_maps(pid, maps.uid, maps.gid, maps.single_id);
}

Error describe_death(ChildProcess& process) {
  auto status = process.wait();
  if (!status) return std::move(status).error().context("user namespace helper");
  return make_error("user namespace helper ended without a result (" + status->describe() + ")");
}

}  // namespace

StoreMaps store_maps_from(uid_t uid, gid_t gid, const std::string& user, const std::vector<SubIdRange>& subuids,
                          const std::vector<SubIdRange>& subgids) {
  StoreMaps maps;
  if (subuids.empty() || subgids.empty()) {
    maps.single_id = true;
    maps.uid = {IdRange{0, uid, 1}};
    maps.gid = {IdRange{0, gid, 1}};
    maps.warning = "no subordinate " + std::string(subuids.empty() ? "UIDs" : "GIDs") + " for `" + user + "` in " +
                   (subuids.empty() ? "/etc/subuid" : "/etc/subgid") +
                   ": images are stored with a single-ID mapping, so files owned by other IDs will belong to you; "
                   "add ranges with `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " +
                   user + "` (as root)";
    return maps;
  }
  maps.uid = rootless_map(uid, subuids);
  maps.gid = rootless_map(gid, subgids);
  return maps;
}

Result<StoreMaps> store_maps() {
  if (!running_rootless()) return StoreMaps{};
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  std::string user = user_name(uid);
  TRY_ASSIGN(subuids, read_subid_file("/etc/subuid", user, uid));
  TRY_ASSIGN(subgids, read_subid_file("/etc/subgid", user, uid));
  return store_maps_from(uid, gid, user, subuids, subgids);
}

Result<UsernsChild> start_in_userns(const StoreMaps& maps, const std::function<Status()>& work) {
  int up[2], down[2];
  if (::pipe2(up, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd up_read(up[0]), up_write(up[1]);
  if (::pipe2(down, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd down_read(down[0]), down_write(down[1]);

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork user namespace helper");
  if (pid == 0) {
    up_read.reset();
    down_write.reset();
    child_main(maps, up_write.get(), down_read.get(), work);
  }
  up_write.reset();
  down_read.reset();
  UsernsChild child;
  TRY_ASSIGN(process, ChildProcess::adopt(pid));
  child.process_ = std::move(process);
  child.from_child_ = std::move(up_read);
  if (!has_maps(maps)) return child;

  Frame frame;
  if (!read_frame(child.from_child_.get(), frame)) return describe_death(child.process_);
  if (frame.type != kUnshared) {
    (void)child.process_.wait();
    return frame.status.ok() ? make_error("user namespace helper: unexpected message") : frame.status.error();
  }
  Status written = write_maps(pid, maps);
  if (!written) {
    down_write.reset();  // the child reads EOF and gives up
    (void)child.process_.wait();
    return std::move(written).error().context("user namespace for the image store");
  }
  TRY(write_all(down_write.get(), &kGo, 1));
  return child;
}

Result<UsernsChild> start_in_joined_userns(const std::string& userns_path, bool single_id,
                                           const std::function<Status()>& work) {
  TRY_ASSIGN(user_ns, open_fd(userns_path, O_RDONLY));
  int up[2];
  if (::pipe2(up, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd up_read(up[0]), up_write(up[1]);
  pid_t child_pid = ::fork();
  if (child_pid < 0) return sys_error("fork user namespace helper");
  if (child_pid == 0) {
    up_read.reset();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    Status status;
    if (::setns(user_ns.get(), CLONE_NEWUSER) != 0)
      status = sys_error("join the user namespace `" + userns_path + "`");
    else if (::unshare(CLONE_NEWNS) != 0)
      status = sys_error("unshare mount namespace");
    else if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
      status = sys_error("become root in the joined user namespace");
    if (status.ok() && !single_id) (void)::setgroups(0, nullptr);
    if (status.ok()) {
      try {
        status = work();
      } catch (const std::exception& e) {
        status = make_error(std::string("unexpected exception: ") + e.what());
      }
    }
    send_frame(up_write.get(), kResult, status);
    ::_exit(status.ok() ? 0 : 1);
  }
  up_write.reset();
  UsernsChild child;
  TRY_ASSIGN(process, ChildProcess::adopt(child_pid));
  child.process_ = std::move(process);
  child.from_child_ = std::move(up_read);
  return child;
}

Status UsernsChild::collect(bool& got_result, ExitStatus& exit) {
  Frame frame;
  got_result = read_frame(from_child_.get(), frame) && frame.type == kResult;
  TRY_ASSIGN(status, process_.wait());
  exit = status;
  return got_result ? frame.status : Status{};
}

Status UsernsChild::wait() {
  bool got_result = false;
  ExitStatus exit;
  Status status = collect(got_result, exit);
  if (!got_result) {
    if (!status) return std::move(status).error().context("user namespace helper");
    return make_error("user namespace helper ended without a result (" + exit.describe() + ")");
  }
  return status;
}

Status run_in_userns(const StoreMaps& maps, const std::function<Status()>& work) {
  TRY_ASSIGN(child, start_in_userns(maps, work));
  return child.wait();
}

Result<int> exec_in_userns(const StoreMaps& maps, const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  if (args.empty()) {
    const char* shell = std::getenv("SHELL");
    args.push_back(shell && *shell ? shell : "/bin/sh");
  }
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // The work execs: on success the CLOEXEC pipe closes without a result,
  // on failure the error comes back like any other work's.
  auto work = [&]() -> Status {
    ::execvp(cargv[0], cargv.data());
    return sys_error("exec `" + args[0] + "`");
  };
  TRY_ASSIGN(child, start_in_userns(maps, work));
  bool got_result = false;
  ExitStatus exit;
  Status status = child.collect(got_result, exit);
  if (!status) return std::move(status).error();
  // A result means the work returned, i.e. exec failed (handled above) or not.
  return exit.shell_code();
}

}  // namespace ctr::userns
