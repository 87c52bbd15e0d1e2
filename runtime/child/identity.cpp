#include "runtime/child/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/child/sync.h"
#include "runtime/child/text.h"

namespace ctr::child {
namespace {

void write_proc_file(const Plan& plan, const char* step, const char* path, const char* value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    char detail[256];
    Text(detail, sizeof detail).add("open `").add(path).add("`");
    fail(plan.sync_fd, step, errno, detail);
  }
  size_t len = string_length(value);
  if (write(fd, value, len) != static_cast<ssize_t>(len)) {
    char detail[256];
    Text(detail, sizeof detail).add("write `").add(value).add("` to `").add(path).add("`");
    fail(plan.sync_fd, step, errno, detail);
  }
  close(fd);
}

bool has_cap(uint64_t set, int cap) { return (set >> cap) & 1; }

void drop_bounding_set(const Plan& plan) {
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if (has_cap(plan.cap_bounding, cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      char detail[64];
      Text(detail, sizeof detail).add("drop capability ").add(static_cast<long>(cap)).add(" from the bounding set");
      fail(plan.sync_fd, "capabilities", errno, detail);
    }
  }
}

void set_capability_sets(const Plan& plan) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int word = 0; word < 2; ++word) {
    data[word].effective = static_cast<uint32_t>(plan.cap_effective >> (32 * word));
    data[word].permitted = static_cast<uint32_t>(plan.cap_permitted >> (32 * word));
    data[word].inheritable = static_cast<uint32_t>(plan.cap_inheritable >> (32 * word));
  }
  if (syscall(SYS_capset, &header, data) != 0) fail(plan.sync_fd, "capabilities", errno, "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    fail(plan.sync_fd, "capabilities", errno, "clear ambient capabilities");
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if (!has_cap(plan.cap_ambient, cap)) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      char detail[96];
      Text(detail, sizeof detail).add("raise ambient capability ").add(static_cast<long>(cap));
      fail(plan.sync_fd, "capabilities", errno, detail);
    }
  }
}

void bring_loopback_up(const Plan& plan) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) fail(plan.sync_fd, "network", errno, "socket for configuring lo");
  ifreq request{};
  Text(request.ifr_name, sizeof request.ifr_name).add("lo");
  if (ioctl(sock, SIOCGIFFLAGS, &request) != 0) fail(plan.sync_fd, "network", errno, "read the flags of lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (ioctl(sock, SIOCSIFFLAGS, &request) != 0) fail(plan.sync_fd, "network", errno, "bring lo up");
  close(sock);
}

}  // namespace

void apply_sysctls(const Plan& plan) {
  for (const SysctlStep& sysctl : plan.sysctls) write_proc_file(plan, "sysctl", sysctl.path, sysctl.value);
}

void apply_process_settings(const Plan& plan) {
  if (plan.loopback_up) bring_loopback_up(plan);
  if (plan.hostname && sethostname(plan.hostname, string_length(plan.hostname)) != 0)
    fail(plan.sync_fd, "hostname", errno, "sethostname (is there a new uts namespace?)");
  if (plan.domainname && setdomainname(plan.domainname, string_length(plan.domainname)) != 0)
    fail(plan.sync_fd, "domainname", errno, "setdomainname");
  if (plan.oom_score_adj) write_proc_file(plan, "oomScoreAdj", "/proc/self/oom_score_adj", plan.oom_score_adj);
  for (const RlimitStep& limit : plan.rlimits) {
    rlimit value{limit.soft, limit.hard};
    if (setrlimit(static_cast<__rlimit_resource>(limit.resource), &value) != 0) {
      char detail[96];
      Text(detail, sizeof detail).add("setrlimit resource ").add(static_cast<long>(limit.resource));
      fail(plan.sync_fd, "rlimits", errno, detail);
    }
  }
  if (plan.personality >= 0 && personality(static_cast<unsigned long>(plan.personality)) < 0)
    fail(plan.sync_fd, "personality", errno, "personality");
  if (plan.session_keyring) {
    // KEYCTL_JOIN_SESSION_KEYRING: a fresh session keyring, so containers do
    // not share the caller's keys. Kernels or seccomp profiles that refuse
    // keyrings (ENOSYS/EPERM/EACCES) leave the container without one, as runc does.
    long rc = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, plan.session_keyring, 0, 0, 0);
    if (rc < 0 && errno != ENOSYS && errno != EPERM && errno != EACCES && errno != EDQUOT)
      fail(plan.sync_fd, "keyring", errno, "join a new session keyring");
  }
}

void apply_identity(const Plan& plan) {
  if (plan.set_capabilities) drop_bounding_set(plan);
  // Keep the permitted set across the switch away from uid 0; capset below
  // then sets exactly the configured sets.
  if (plan.set_capabilities && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
    fail(plan.sync_fd, "user", errno, "PR_SET_KEEPCAPS");
  if (plan.setgroups_allowed) {
    if (syscall(SYS_setgroups, plan.additional_gids.count, plan.additional_gids.items) != 0 &&
        !(errno == EPERM && plan.additional_gids.count == 0))
      fail(plan.sync_fd, "user", errno, "setgroups (additionalGids)");
  } else if (plan.additional_gids.count > 0) {
    fail(plan.sync_fd, "user", EPERM,
         "additionalGids need setgroups, which a single-ID user namespace denies; map more IDs (newgidmap)");
  }
  if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
    char detail[128];
    Text(detail, sizeof detail).add("setresgid ").add(static_cast<long>(plan.gid)).add(" (is it mapped in the user namespace?)");
    fail(plan.sync_fd, "user", errno, detail);
  }
  if (syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
    char detail[128];
    Text(detail, sizeof detail).add("setresuid ").add(static_cast<long>(plan.uid)).add(" (is it mapped in the user namespace?)");
    fail(plan.sync_fd, "user", errno, detail);
  }
  if (plan.set_capabilities) {
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    set_capability_sets(plan);
  }
  if (plan.umask >= 0) umask(static_cast<mode_t>(plan.umask));
}

}  // namespace ctr::child
