#include "cmd/container_fs.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/container_layers.h"
#include "runtime/base/files.h"
#include "shim/client.h"

namespace ctr::cmd {
namespace {

bool same_user_namespace(pid_t pid) {
  struct stat mine {
  }, theirs{};
  return ::stat("/proc/self/ns/user", &mine) == 0 &&
         ::stat(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), &theirs) == 0 && mine.st_ino == theirs.st_ino;
}

Status enter_root(const std::string& merged) {
  if (::chroot(merged.c_str()) != 0) return sys_error("chroot into `" + merged + "`");
  if (::chdir("/") != 0) return sys_error("chdir / in the container");
  return {};
}

// The shim's pid when the container runs (its mount namespace has merged/),
// and the container's own pid.
std::optional<shim::ContainerStatus> running_shim(const ContainerRecord& record) {
  LiveStatus live = live_status(record);
  if (live.state != "running" || !live.shim || live.shim->shim_pid <= 0) return std::nullopt;
  if (live.shim->state != shim::ContainerState::running) return std::nullopt;
  if (!path_exists("/proc/" + std::to_string(live.shim->shim_pid) + "/ns/mnt")) return std::nullopt;
  return *live.shim;
}

bool keep_id(const ContainerRecord& record) {
  return record.userns.rfind("keep-id", 0) == 0;
}

// The child's Status over a pipe: code (int), then the message.
void send_status(int fd, const Status& status) {
  int code = status ? 0 : (status.error().code ? status.error().code : EIO);
  std::string message = status ? std::string() : status.error().message;
  (void)!::write(fd, &code, sizeof code);
  if (!message.empty()) (void)!::write(fd, message.data(), message.size());
}

// `container_pid` > 0: also join the container's user namespace (keep-id
// nests one in the store's, and its fuse-overlayfs mount shows owners as
// that namespace numbers them).
Result<ContainerFsChild> start_joined(pid_t shim_pid, pid_t container_pid, const std::string& merged,
                                      const std::function<Status()>& work, ChildProcess& process,
                                      UniqueFd& from_child) {
  std::string proc = "/proc/" + std::to_string(shim_pid) + "/ns/";
  bool join_user = !same_user_namespace(shim_pid);
  TRY_ASSIGN(user_ns, open_fd(proc + "user", O_RDONLY));
  TRY_ASSIGN(mnt_ns, open_fd(proc + "mnt", O_RDONLY));
  UniqueFd container_user_ns;
  if (container_pid > 0) {
    TRY_ASSIGN(opened, open_fd("/proc/" + std::to_string(container_pid) + "/ns/user", O_RDONLY));
    container_user_ns = std::move(opened);
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {
    read_end.reset();
    Status status = [&]() -> Status {
      if (join_user && ::setns(user_ns.get(), CLONE_NEWUSER) != 0)
        return sys_error("join the container's user namespace");
      if (::setns(mnt_ns.get(), CLONE_NEWNS) != 0) return sys_error("join the container's mount namespace");
      if (container_user_ns && ::setns(container_user_ns.get(), CLONE_NEWUSER) != 0)
        return sys_error("join the container's nested user namespace");
      TRY(enter_root(merged));
      return work();
    }();
    send_status(write_end.get(), status);
    ::_exit(status ? 0 : 1);
  }
  TRY_ASSIGN(adopted, ChildProcess::adopt(child));
  process = std::move(adopted);
  from_child = std::move(read_end);
  return ContainerFsChild();
}

}  // namespace

Status ContainerFsChild::wait() {
  if (userns_child_) return userns_child_->wait();
  TRY_ASSIGN(ended, process_.wait());
  auto text = read_fd(from_child_.get());
  if (text && text->size() >= sizeof(int)) {
    int code = 0;
    std::memcpy(&code, text->data(), sizeof code);
    if (code == 0) return {};
    return make_error(text->substr(sizeof code), code);
  }
  return make_error("the helper process in the container ended without a result (" + ended.describe() + ")", EIO);
}

Result<ContainerFsChild> start_in_container_fs(Context& ctx, const ContainerRecord& record,
                                               const std::function<Status()>& work) {
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(layer, image::find_container_layer(*store, record.id));
  std::string merged = image::container_paths(*store, record.id).merged;
  ContainerFsChild out;
  if (auto running = running_shim(record)) {
    pid_t container_pid = keep_id(record) ? running->pid : 0;
    TRY(start_joined(running->shim_pid, container_pid, merged, work, out.process_, out.from_child_));
    return out;
  }
  // A stopped container is mounted in the store's namespace: no keep-id
  // shift there, or image-root files would show as 1.
  layer.uid_mapping.clear();
  layer.gid_mapping.clear();
  TRY_ASSIGN(maps, ctx.maps());
  image::Store* store_ptr = store;
  // start_in_userns gives a private mount namespace (with a user namespace
  // unless we are real root): the mount below goes away with the child.
  auto in_fresh_ns = [store_ptr, layer, merged, &work]() -> Status {
    TRY(image::mount_container_rootfs(*store_ptr, layer));
    TRY(enter_root(merged));
    return work();
  };
  TRY_ASSIGN(child, userns::start_in_userns(*maps, in_fresh_ns));
  out.userns_child_ = std::move(child);
  return out;
}

}  // namespace ctr::cmd
