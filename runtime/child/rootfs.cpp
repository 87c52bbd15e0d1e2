// Mount steps of the container's init. Syscalls only (see plan.h).
#include "runtime/child/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>  // ST_* names for statfs f_flags
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/child/sync.h"
#include "runtime/child/text.h"

namespace ctr::child {
namespace {

constexpr size_t kPathMax = 4096;

int openat2_in_root(int root_fd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // openat2 wants a relative path to stay under root_fd.
  while (*path == '/') ++path;
  if (!*path) path = ".";
  int fd = static_cast<int>(syscall(SYS_openat2, root_fd, path, &how, sizeof how));
  return fd < 0 ? -errno : fd;
}

// "/proc/self/fd/N": a path naming an fd, for syscalls that take only paths.
struct FdPath {
  char buf[40];
  explicit FdPath(int fd) { Text(buf, sizeof buf).add("/proc/self/fd/").add(static_cast<long>(fd)); }
};

unsigned long flags_from_statfs(const struct statfs& st) {
  unsigned long flags = 0;
  if (st.f_flags & ST_RDONLY) flags |= MS_RDONLY;
  if (st.f_flags & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flags & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flags & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flags & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flags & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// Applies ro/nosuid/nodev/noexec/atime flags to a bind mount. In a user
// namespace the kernel refuses to clear flags the parent mount has locked
// (EPERM), so on EPERM the current flags are kept and the new ones added.
int remount_bind(const char* target, unsigned long flags) {
  const unsigned long settable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                 MS_RELATIME | MS_STRICTATIME | MS_REC;
  unsigned long wanted = flags & settable;
  if (mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | wanted, nullptr) == 0) return 0;
  if (errno != EPERM) return -errno;
  struct statfs st;
  if (statfs(target, &st) != 0) return -errno;
  unsigned long locked = flags_from_statfs(st);
  if (!(wanted & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))) wanted |= locked & (MS_NOATIME | MS_RELATIME);
  wanted |= locked & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME);
  if (mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | wanted, nullptr) == 0) return 0;
  return -errno;
}

[[noreturn]] void fail_path(const Plan& plan, const char* step, const char* what, const char* path, int err) {
  char detail[512];
  Text(detail, sizeof detail).add(what).add(" `").add(path).add("`");
  fail(plan.sync_fd, step, err, detail);
}

bool has_remount_flags(unsigned long flags) {
  return flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                  MS_STRICTATIME);
}

int bind_mount(const char* source, const char* target, unsigned long flags) {
  if (mount(source, target, nullptr, MS_BIND | (flags & MS_REC), nullptr) != 0) return -errno;
  return 0;
}

// Mounts one step at its target fd, and returns 0 or -errno. The remount
// that applies bind flags must name the new mount, not the directory under
// it, so it reopens the target after mounting.
int mount_step(int root_fd, const MountStep& step, int target_fd) {
  FdPath target(target_fd);
  bool bound = step.bind;
  if (step.bind) {
    if (int rc = bind_mount(step.source, target.buf, step.flags); rc < 0) return rc;
  } else if (mount(step.source, target.buf, step.fstype, step.flags & ~(MS_BIND | MS_REC), step.data) != 0) {
    int err = errno;
    // EBUSY: the very same cgroup2 file system is already mounted right
    // there (a /sys bound from the host, rootless): the kernel refuses to
    // stack it on itself. Keep that view (as with no cgroup mount at all).
    if (err == EBUSY && string_equal(step.fstype, "cgroup2")) return 0;
    if (!step.fallback_bind_source || (err != EPERM && err != EACCES && err != EINVAL)) return -err;
    if (int rc = bind_mount(step.fallback_bind_source, target.buf, MS_REC); rc < 0) return rc;
    bound = true;
  }
  if (!bound && !step.propagation && !step.attr_set && !step.attr_clr) return 0;
  int top = open_in_root(root_fd, step.destination, false, true);
  if (top < 0) return top;
  FdPath mounted(top);
  int rc = 0;
  if (bound && has_remount_flags(step.flags)) rc = remount_bind(mounted.buf, step.flags);
  if (rc == 0 && step.propagation && mount(nullptr, mounted.buf, nullptr, step.propagation, nullptr) != 0)
    rc = -errno;
  if (rc == 0 && (step.attr_set || step.attr_clr)) {
    mount_attr attr{};
    attr.attr_set = step.attr_set;
    attr.attr_clr = step.attr_clr;
    if (syscall(SYS_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) rc = -errno;
  }
  close(top);
  return rc;
}

bool is_directory(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void make_device(const Plan& plan, int root_fd, const DeviceStep& device) {
  bool bind = device.bind_from_host;
  if (!bind) {
    // mknod through the parent directory, never through a path the rootfs controls.
    char parent[kPathMax];
    Text(parent, sizeof parent).add(device.path);
    char* slash = parent + string_length(parent);
    while (slash > parent && *slash != '/') --slash;
    *slash = '\0';
    const char* name = slash + 1;
    int dir = open_in_root(root_fd, parent[0] ? parent : "/", true, true);
    if (dir < 0) fail_path(plan, "device", "create the directory of", device.path, -dir);
    int dir_fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(dir);
    if (dir_fd < 0) fail_path(plan, "device", "open the directory of", device.path, errno);
    unlinkat(dir_fd, name, 0);
    if (mknodat(dir_fd, name, device.mode, device.dev) == 0) {
      if (fchownat(dir_fd, name, device.uid, device.gid, 0) != 0) fail_path(plan, "device", "chown", device.path, errno);
    } else if (errno == EPERM) {
      bind = true;  // a user namespace we did not detect: bind like rootless does
    } else {
      fail_path(plan, "device", "mknod", device.path, errno);
    }
    close(dir_fd);
  }
  if (!bind) return;
  int target = open_in_root(root_fd, device.path, true, false);
  if (target < 0) fail_path(plan, "device", "create", device.path, -target);
  if (bind_mount(device.path, FdPath(target).buf, 0) < 0) fail_path(plan, "device", "bind the host's", device.path, errno);
  close(target);
}

void make_symlink(const Plan& plan, int root_fd, const SymlinkStep& link) {
  char parent[kPathMax];
  Text(parent, sizeof parent).add(link.path);
  char* slash = parent + string_length(parent);
  while (slash > parent && *slash != '/') --slash;
  *slash = '\0';
  int dir = open_in_root(root_fd, parent[0] ? parent : "/", true, true);
  if (dir < 0) fail_path(plan, "symlink", "create the directory of", link.path, -dir);
  int dir_fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(dir);
  if (dir_fd < 0 || (symlinkat(link.target, dir_fd, slash + 1) != 0 && errno != EEXIST))
    fail_path(plan, "symlink", "create", link.path, errno);
  close(dir_fd);
}

}  // namespace

int open_in_root(int root_fd, const char* path, bool create, bool as_dir) {
  int fd = openat2_in_root(root_fd, path, O_PATH);
  if (fd >= 0 || fd != -ENOENT || !create) return fd;
  // Walk down, creating what is missing; each step resolves inside the root.
  char prefix[kPathMax];
  size_t len = string_length(path);
  if (len >= sizeof prefix) return -ENAMETOOLONG;
  for (size_t i = 1; i <= len; ++i) {
    if (i < len && path[i] != '/') continue;
    Text(prefix, sizeof prefix).add(path);
    prefix[i] = '\0';
    int existing = openat2_in_root(root_fd, prefix, O_PATH);
    if (existing >= 0) {
      close(existing);
      continue;
    }
    if (existing != -ENOENT) return existing;
    size_t slash = i;
    while (slash > 0 && prefix[slash] != '/') --slash;
    prefix[slash] = '\0';
    int parent = openat2_in_root(root_fd, slash ? prefix : "/", O_RDONLY | O_DIRECTORY);
    if (parent < 0) return parent;
    const char* name = prefix + slash + 1;
    prefix[i] = '\0';
    int rc;
    if (i < len || as_dir) {
      rc = mkdirat(parent, name, 0755);
    } else {
      rc = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (rc >= 0) rc = close(rc);
    }
    int err = errno;
    close(parent);
    if (rc != 0 && err != EEXIST) return -err;
  }
  return openat2_in_root(root_fd, path, O_PATH);
}

int prepare_rootfs(const Plan& plan) {
  // Keep our mounts from propagating back to the host, and host mounts
  // made later from reaching us unless asked (runc's default is rslave).
  unsigned long root_propagation = plan.rootfs_propagation & (MS_PRIVATE) ? MS_PRIVATE | MS_REC : MS_SLAVE | MS_REC;
  if (mount(nullptr, "/", nullptr, root_propagation, nullptr) != 0) fail(plan.sync_fd, "rootfs", errno, "make / a slave mount");
  if (mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0)
    fail_path(plan, "rootfs", "bind-mount the rootfs", plan.rootfs, errno);
  int root_fd = open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) fail_path(plan, "rootfs", "open the rootfs", plan.rootfs, errno);
  for (const MountStep& step : plan.mounts) {
    bool as_dir = !step.bind || step.source_is_dir;
    int target = open_in_root(root_fd, step.destination, true, as_dir);
    if (target < 0) fail_path(plan, "mount", "create the mount point", step.destination, -target);
    int rc = mount_step(root_fd, step, target);
    close(target);
    if (rc < 0) {
      char detail[512];
      Text(detail, sizeof detail)
          .add("mount `").add(step.source ? step.source : "none").add("` on `").add(step.destination)
          .add("` (").add(step.fstype ? step.fstype : "bind").add(")");
      fail(plan.sync_fd, "mount", -rc, detail);
    }
  }
  for (const DeviceStep& device : plan.devices) make_device(plan, root_fd, device);
  for (const SymlinkStep& link : plan.symlinks) make_symlink(plan, root_fd, link);
  return root_fd;
}

void enter_rootfs(const Plan& plan) {
  if (chdir(plan.rootfs) != 0) fail_path(plan, "pivot_root", "chdir to", plan.rootfs, errno);
  if (plan.no_pivot) {
    if (mount(plan.rootfs, "/", nullptr, MS_MOVE, nullptr) != 0) fail(plan.sync_fd, "no-pivot", errno, "move the rootfs to /");
    if (chroot(".") != 0) fail(plan.sync_fd, "no-pivot", errno, "chroot");
  } else {
    // pivot_root(".", ".") stacks the old root on the new one; detaching it
    // leaves only the container's tree (no temporary directory needed).
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail(plan.sync_fd, "pivot_root", errno, "pivot_root");
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
      fail(plan.sync_fd, "pivot_root", errno, "make the old root a slave");
    if (umount2(".", MNT_DETACH) != 0) fail(plan.sync_fd, "pivot_root", errno, "detach the old root");
  }
  if (chdir("/") != 0) fail(plan.sync_fd, "pivot_root", errno, "chdir to /");
}

void finish_rootfs(const Plan& plan) {
  for (const char* path : plan.readonly_paths) {
    if (mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      fail_path(plan, "readonly-path", "bind", path, errno);
    }
    if (int rc = remount_bind(path, MS_RDONLY | MS_REC); rc < 0) fail_path(plan, "readonly-path", "remount read-only", path, -rc);
  }
  for (const char* path : plan.masked_paths) {
    int rc = is_directory(path) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, nullptr)
                                : mount("/dev/null", path, nullptr, MS_BIND, nullptr);
    if (rc != 0 && errno != ENOENT) fail_path(plan, "masked-path", "mask", path, errno);
  }
  if (plan.rootfs_readonly) {
    if (int rc = remount_bind("/", MS_RDONLY); rc < 0) fail(plan.sync_fd, "rootfs", -rc, "remount / read-only");
  }
  if (plan.rootfs_propagation && mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) != 0)
    fail(plan.sync_fd, "rootfs", errno, "set rootfsPropagation");
}

}  // namespace ctr::child
