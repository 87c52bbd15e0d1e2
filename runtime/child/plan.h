// The flat plan the container's init follows between clone() and exec().
// Built by the parent (runtime/plan.cpp) from the spec: every path, string,
// array and BPF program is decided there, so the child only makes syscalls.
// Plain data only: pointers refer to memory the parent owns, which the child
// sees in its copy of the address space.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>

namespace ctr::child {

struct MountStep {
  const char* destination = nullptr;  // inside the container, absolute
  const char* source = nullptr;       // fs source name, or host path for binds
  const char* fstype = nullptr;       // nullptr for binds
  const char* data = nullptr;         // mount(2) data, nullptr for none
  unsigned long flags = 0;            // MS_* (MS_BIND|MS_REC included for binds)
  unsigned long propagation = 0;      // MS_SHARED/MS_SLAVE/... (|MS_REC), 0 = leave
  unsigned long long attr_set = 0;    // MOUNT_ATTR_* applied recursively
  unsigned long long attr_clr = 0;
  bool bind = false;
  bool source_is_dir = true;          // binds: create a dir (or a file) as the target
  // sysfs without our own network namespace, or cgroup without our own
  // cgroup namespace, cannot be mounted rootless: bind the host's instead.
  const char* fallback_bind_source = nullptr;
};

struct DeviceStep {
  const char* path = nullptr;  // inside the container, e.g. "/dev/null"
  mode_t mode = 0;             // S_IFCHR/S_IFBLK/S_IFIFO | permissions
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool bind_from_host = false;  // in a user namespace mknod is refused: bind the host node
};

struct SymlinkStep {
  const char* path;    // inside the container
  const char* target;  // link text
};

struct SysctlStep {
  const char* path;  // "/proc/sys/net/ipv4/ip_forward"
  const char* value;
};

struct RlimitStep {
  int resource;
  uint64_t soft, hard;
};

struct JoinStep {
  int fd;           // opened by the parent
  int nstype;       // CLONE_NEW*
  const char* name; // for messages
};

struct HookStep {
  const char* path;
  char* const* argv;
  char* const* envp;
  int timeout_ms;  // 0 = none
};

template <typename T>
struct Span {
  const T* items = nullptr;
  int count = 0;
  const T* begin() const { return items; }
  const T* end() const { return items + count; }
};

struct Plan {
  // Namespaces: new ones come from clone(); joined ones by setns, user first.
  unsigned long clone_flags = 0;
  Span<JoinStep> joins;
  bool join_pid = false;       // setns(pid) only affects children: clone once more
  bool wait_for_maps = false;  // new user namespace: the parent writes the ID maps
  bool user_namespace = false; // inside a user namespace: no mknod, bind instead
  // A new cgroup namespace is unshared after `go`, once the parent has put
  // us in the container's cgroup, so that cgroup is the namespace's root.
  bool unshare_cgroup = false;

  // Root filesystem (create/run only; exec joins an existing one).
  bool setup_rootfs = false;
  const char* rootfs = nullptr;
  bool rootfs_readonly = false;
  unsigned long rootfs_propagation = 0;  // applied to / after pivot, 0 = leave
  bool no_pivot = false;
  Span<MountStep> mounts;
  Span<DeviceStep> devices;
  Span<SymlinkStep> symlinks;
  Span<const char*> masked_paths;
  Span<const char*> readonly_paths;

  // Process environment.
  bool loopback_up = false;  // a new network namespace starts with `lo` down
  Span<SysctlStep> sysctls;
  const char* hostname = nullptr;
  const char* domainname = nullptr;
  Span<RlimitStep> rlimits;
  const char* oom_score_adj = nullptr;  // decimal text, nullptr = leave
  long personality = -1;
  const char* session_keyring = nullptr;  // nullptr = keep the caller's (--no-new-keyring)

  // Identity.
  uid_t uid = 0;
  gid_t gid = 0;
  Span<gid_t> additional_gids;
  bool setgroups_allowed = true;  // false when "deny" was written to /proc/PID/setgroups
  int umask = -1;
  bool set_capabilities = false;
  uint64_t cap_bounding = 0, cap_effective = 0, cap_permitted = 0, cap_inheritable = 0, cap_ambient = 0;
  int last_cap = 40;
  bool no_new_privileges = false;
  const sock_filter* seccomp_filter = nullptr;
  unsigned short seccomp_length = 0;
  unsigned int seccomp_flags = 0;
  const char* seccomp_listener_path = nullptr;

  // The user's process.
  bool terminal = false;
  unsigned short console_rows = 0, console_cols = 0;
  const char* cwd = "/";
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* search_path = nullptr;  // PATH used to find argv[0]
  int preserve_fds = 0;               // fds 3..3+N-1 stay open across exec

  // Channels to the parent.
  int sync_fd = -1;
  int exec_fifo_fd = -1;  // create: wait here until `start`; -1: exec at once
  Span<HookStep> create_container_hooks;
  Span<HookStep> start_container_hooks;
  char* hook_state = nullptr;  // buffer the parent fills with the state JSON
  unsigned hook_state_capacity = 0;
};

// Never returns: execs the user's process or _exit()s after reporting the
// failing step to the parent over plan.sync_fd.
[[noreturn]] void run_init(const Plan& plan);

}  // namespace ctr::child
