// ctr's default seccomp profile and the podman-format profile reader.
//
// The default follows the shape of containers-common's seccomp.json (which
// rootless podman 4.3 applies): an allow-list, ENOSYS for everything else
// (a syscall newer than the list makes glibc fall back instead of failing
// hard), EPERM for calls no container should make, and groups that only a
// capability in the bounding set unlocks. Like podman it allows mount,
// unshare, clone with namespace flags and setns: in a rootless container
// the kernel already checks them against the container's user namespace,
// and nested rootless containers need them.
#include "cmd/seccomp_profile.h"

#include <linux/capability.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>

#include "runtime/base/files.h"
#include "runtime/seccomp.h"

namespace ctr::cmd {
namespace {

using ojson = nlohmann::ordered_json;

constexpr unsigned kEnosys = 38;
constexpr unsigned kEperm = 1;
constexpr unsigned kEinval = 22;

// Syscalls every container may make, grouped by what they are for.
const std::vector<std::string>& allowed_syscalls() {
  static const std::vector<std::string> list = {
      // files and directories
      "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat", "chown",
      "fchown", "fchownat", "lchown", "chown32", "fchown32", "lchown32", "open", "openat", "openat2", "creat", "close",
      "close_range", "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
      "pwritev2", "lseek", "_llseek", "stat", "fstat", "lstat", "newfstatat", "stat64", "fstat64", "lstat64",
      "fstatat64", "statx", "statfs", "fstatfs", "statfs64", "fstatfs64", "truncate", "ftruncate", "truncate64",
      "ftruncate64", "fallocate", "fadvise64", "fadvise64_64", "readahead", "sync", "syncfs", "fsync", "fdatasync",
      "sync_file_range", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "rename", "renameat",
      "renameat2", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat", "readlink", "readlinkat", "getdents",
      "getdents64", "readdir", "umask", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat", "dup", "dup2",
      "dup3", "fcntl", "fcntl64", "flock", "ioctl", "copy_file_range", "sendfile", "sendfile64", "splice", "tee",
      "name_to_handle_at", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
      "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
      // waiting for events
      "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark", "epoll_create",
      "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
      "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "eventfd", "eventfd2",
      "signalfd", "signalfd4", "timerfd", "timerfd_create", "timerfd_settime", "timerfd_gettime", "timerfd_settime64",
      "timerfd_gettime64", "pipe", "pipe2", "memfd_create", "memfd_secret", "io_setup", "io_destroy", "io_submit",
      "io_cancel", "io_getevents",
      // processes
      "fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
      "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
      "set_tid_address", "prctl", "capget", "capset", "getpriority", "setpriority", "sched_get_priority_max",
      "sched_get_priority_min", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
      "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_rr_get_interval",
      "sched_rr_get_interval_time64", "sched_yield", "ioprio_get", "ioprio_set", "getrlimit", "setrlimit",
      "prlimit64", "ugetrlimit", "getrusage", "times", "sysinfo", "uname", "seccomp", "restart_syscall", "rseq",
      "set_robust_list", "get_robust_list", "futex", "futex_time64", "futex_waitv", "pidfd_open", "pidfd_send_signal",
      "pidfd_getfd", "process_vm_readv", "process_vm_writev", "process_mrelease", "ptrace", "membarrier", "getcpu",
      "syscall", "socketcall", "ipc", "getrandom", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
      "keyctl",
      // namespaces and mounts: the kernel checks the container's own user namespace
      "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "mount_setattr", "move_mount", "open_tree",
      "fsopen", "fsconfig", "fsmount", "fspick",
      // credentials
      "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid",
      "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups", "getuid32", "geteuid32", "getgid32",
      "getegid32", "getresuid32", "getresgid32", "getgroups32", "setuid32", "setgid32", "setreuid32", "setregid32",
      "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "setgroups32",
      // signals
      "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending", "rt_sigtimedwait",
      "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaction", "sigprocmask", "sigreturn",
      "sigsuspend", "sigpending", "signal", "sigaltstack", "pause", "alarm",
      // time (reading it; setting it is CAP_SYS_TIME's)
      "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "clock_nanosleep",
      "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time", "getitimer", "setitimer", "timer_create",
      "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime", "timer_gettime64", "timer_settime64",
      "adjtimex", "clock_adjtime", "clock_adjtime64",
      // memory
      "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2",
      "munlock", "mlockall", "munlockall", "remap_file_pages", "mbind", "get_mempolicy", "set_mempolicy", "pkey_alloc",
      "pkey_free", "pkey_mprotect", "get_thread_area", "set_thread_area",
      // sockets (socket itself is below: its audit rule depends on a capability)
      "socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername", "getsockopt",
      "setsockopt", "shutdown", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
      "recvmmsg_time64",
      // System V and POSIX IPC
      "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64", "semctl", "shmget",
      "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
      "mq_timedreceive_time64", "mq_notify", "mq_getsetattr"};
  return list;
}

// Refused outright with EPERM: kernel-wide effects (kexec, swap, PCI),
// obsolete interfaces, and calls that were repeatedly the way into kernel
// exploits (userfaultfd, vmsplice, move_pages).
const std::vector<std::string>& denied_syscalls() {
  static const std::vector<std::string> list = {
      "kexec_load",  "kexec_file_load",  "swapon",          "swapoff",      "userfaultfd", "vmsplice",
      "move_pages",  "migrate_pages",    "io_pgetevents",   "bdflush",      "nfsservctl",  "uselib",
      "ustat",       "sysfs",            "pciconfig_read",  "pciconfig_write", "pciconfig_iobase",
      "vm86",        "vm86old",          "oldstat",         "oldfstat",     "oldlstat",    "olduname",
      "oldolduname", "nice",             "sgetmask",        "ssetmask",     "swapcontext"};
  return list;
}

// Syscalls a capability guards: allowed when any of `caps` is in the
// bounding set, EPERM otherwise (as the kernel would answer).
struct CapabilityGroup {
  std::vector<std::string> caps;
  std::vector<std::string> names;
};

const std::vector<CapabilityGroup>& capability_groups() {
  static const std::vector<CapabilityGroup> groups = {
      {{"CAP_SYS_ADMIN"}, {"fanotify_init", "lookup_dcookie", "quotactl", "quotactl_fd", "sethostname", "setdomainname"}},
      {{"CAP_SYS_ADMIN", "CAP_BPF"}, {"bpf"}},
      {{"CAP_SYS_ADMIN", "CAP_PERFMON"}, {"perf_event_open"}},
      {{"CAP_SYS_BOOT"}, {"reboot"}},
      {{"CAP_SYS_CHROOT"}, {"chroot"}},
      {{"CAP_SYS_MODULE"}, {"init_module", "finit_module", "delete_module", "query_module", "create_module"}},
      {{"CAP_SYS_PACCT"}, {"acct"}},
      {{"CAP_SYS_PTRACE"}, {"kcmp", "process_madvise"}},
      {{"CAP_SYS_RAWIO"}, {"ioperm", "iopl"}},
      {{"CAP_SYS_TIME"}, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {{"CAP_SYS_TTY_CONFIG"}, {"vhangup"}},
      {{"CAP_SYSLOG"}, {"syslog"}},
      {{"CAP_DAC_READ_SEARCH"}, {"open_by_handle_at"}},
  };
  return groups;
}

struct ArchInfo {
  std::vector<std::string> scmp;  // SCMP_ARCH_* the filter covers
  std::vector<std::string> only;  // syscalls of these architectures only
};

ArchInfo arch_info(const std::string& arch) {
  if (arch == "x86_64") return {{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}, {"arch_prctl", "modify_ldt"}};
  if (arch == "aarch64")
    return {{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"},
            {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"}};
  if (arch.rfind("arm", 0) == 0)
    return {{"SCMP_ARCH_ARM"},
            {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"}};
  if (arch == "i686" || arch == "i386") return {{"SCMP_ARCH_X86"}, {"modify_ldt"}};
  return {};  // other hosts: the native architecture only
}

bool has_cap(const std::vector<std::string>& caps, const std::string& cap) {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

ojson rule(const std::vector<std::string>& names, const char* action, std::optional<unsigned> errno_ret = {},
           ojson args = ojson::array()) {
  ojson r = {{"names", names}, {"action", action}};
  if (errno_ret) r["errnoRet"] = *errno_ret;
  if (!args.empty()) r["args"] = std::move(args);
  return r;
}

ojson arg(unsigned index, uint64_t value, const char* op) {
  return {{"index", index}, {"value", value}, {"valueTwo", 0}, {"op", op}};
}

// personality(2): only the plain Linux and 32-bit personalities (and the
// query), never READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE, which weaken ASLR.
void add_personality_rules(ojson& syscalls) {
  for (uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
    syscalls.push_back(rule({"personality"}, "SCMP_ACT_ALLOW", {}, ojson::array({arg(0, persona, "SCMP_CMP_EQ")})));
}

// socket(2): without CAP_AUDIT_WRITE, an audit netlink socket
// (AF_NETLINK=16, NETLINK_AUDIT=9) gets EINVAL, so login tools carry on as
// on a kernel without audit.
void add_socket_rules(ojson& syscalls, const std::vector<std::string>& caps) {
  if (has_cap(caps, "CAP_AUDIT_WRITE")) {
    syscalls.push_back(rule({"socket"}, "SCMP_ACT_ALLOW"));
    return;
  }
  syscalls.push_back(rule({"socket"}, "SCMP_ACT_ERRNO", kEinval,
                          ojson::array({arg(0, 16, "SCMP_CMP_EQ"), arg(2, 9, "SCMP_CMP_EQ")})));
  syscalls.push_back(rule({"socket"}, "SCMP_ACT_ALLOW", {}, ojson::array({arg(0, 16, "SCMP_CMP_NE")})));
  syscalls.push_back(rule({"socket"}, "SCMP_ACT_ALLOW", {}, ojson::array({arg(2, 9, "SCMP_CMP_NE")})));
}

// --- podman-format profiles ---

Error profile_error(const std::string& origin, const std::string& what) {
  return Error{EINVAL, "seccomp profile " + origin + ": " + what};
}

// Go's GOARCH for the host, as podman's includes/excludes.arches use it.
std::string go_arch(const std::string& arch) {
  if (arch == "x86_64") return "amd64";
  if (arch == "aarch64") return "arm64";
  if (arch == "i686" || arch == "i386") return "386";
  if (arch.rfind("arm", 0) == 0) return "arm";
  return arch;
}

std::string scmp_arch_of_host(const std::string& arch) {
  auto info = arch_info(arch);
  return info.scmp.empty() ? std::string() : info.scmp.front();
}

// "5.8" <= the running kernel?
bool kernel_at_least(const std::string& min) {
  utsname u{};
  if (::uname(&u) != 0) return true;
  unsigned have_major = 0, have_minor = 0, want_major = 0, want_minor = 0;
  std::sscanf(u.release, "%u.%u", &have_major, &have_minor);
  if (std::sscanf(min.c_str(), "%u.%u", &want_major, &want_minor) < 1) return true;
  return have_major != want_major ? have_major > want_major : have_minor >= want_minor;
}

std::vector<std::string> strings_at(const nlohmann::json& obj, const char* key, const std::string& field,
                                    const std::string& origin, Status& status) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) {
    status = profile_error(origin, field + "." + key + ": must be a list of strings");
    return out;
  }
  for (const auto& v : *it) {
    if (!v.is_string()) {
      status = profile_error(origin, field + "." + key + ": must be a list of strings");
      return {};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Does the rule apply here? podman: every includes condition must hold, no
// excludes condition may.
Result<bool> rule_applies(const nlohmann::json& entry, const std::string& field, const std::string& origin,
                          const std::vector<std::string>& caps, const std::string& arch) {
  Status status;
  std::string goarch = go_arch(arch);
  if (auto inc = entry.find("includes"); inc != entry.end() && inc->is_object()) {
    for (const auto& cap : strings_at(*inc, "caps", field + ".includes", origin, status))
      if (!has_cap(caps, cap)) return false;
    auto arches = strings_at(*inc, "arches", field + ".includes", origin, status);
    if (!arches.empty() && std::find(arches.begin(), arches.end(), goarch) == arches.end()) return false;
    if (auto k = inc->find("minKernel"); k != inc->end() && k->is_string() && !kernel_at_least(k->get<std::string>()))
      return false;
  }
  if (auto exc = entry.find("excludes"); exc != entry.end() && exc->is_object()) {
    for (const auto& cap : strings_at(*exc, "caps", field + ".excludes", origin, status))
      if (has_cap(caps, cap)) return false;
    auto arches = strings_at(*exc, "arches", field + ".excludes", origin, status);
    if (std::find(arches.begin(), arches.end(), goarch) != arches.end()) return false;
  }
  if (!status) return status.error();
  return true;
}

Result<ojson> convert_syscall(const nlohmann::json& entry, const std::string& field, const std::string& origin) {
  if (!entry.is_object()) return profile_error(origin, field + ": must be an object");
  Status status;
  auto names = strings_at(entry, "names", field, origin, status);
  if (!status) return status.error();
  if (auto name = entry.find("name"); name != entry.end() && name->is_string()) names.push_back(name->get<std::string>());
  if (names.empty()) return profile_error(origin, field + ": has no \"names\"");
  auto action = entry.find("action");
  if (action == entry.end() || !action->is_string()) return profile_error(origin, field + ".action: missing");
  ojson out = {{"names", names}, {"action", action->get<std::string>()}};
  if (auto e = entry.find("errnoRet"); e != entry.end() && !e->is_null()) {
    if (!e->is_number_unsigned()) return profile_error(origin, field + ".errnoRet: must be a number");
    out["errnoRet"] = e->get<uint32_t>();
  }
  if (auto args = entry.find("args"); args != entry.end() && !args->is_null()) {
    if (!args->is_array()) return profile_error(origin, field + ".args: must be a list");
    ojson list = ojson::array();
    for (size_t i = 0; i < args->size(); ++i) {
      const auto& a = (*args)[i];
      std::string arg_field = field + ".args[" + std::to_string(i) + "]";
      if (!a.is_object() || !a.value("index", nlohmann::json()).is_number_unsigned() ||
          !a.value("value", nlohmann::json(0u)).is_number_unsigned() ||
          !a.value("valueTwo", nlohmann::json(0u)).is_number_unsigned() || !a.value("op", nlohmann::json()).is_string())
        return profile_error(origin, arg_field + ": needs index, value, valueTwo (numbers) and op");
      list.push_back({{"index", a["index"].get<unsigned>()},
                      {"value", a.value("value", uint64_t{0})},
                      {"valueTwo", a.value("valueTwo", uint64_t{0})},
                      {"op", a["op"].get<std::string>()}});
    }
    if (!list.empty()) out["args"] = std::move(list);
  }
  return out;
}

Result<std::vector<std::string>> profile_architectures(const nlohmann::json& doc, const std::string& origin,
                                                       const std::string& arch) {
  Status status;
  auto architectures = strings_at(doc, "architectures", "", origin, status);
  if (!status) return status.error();
  if (!architectures.empty()) return architectures;
  auto map = doc.find("archMap");
  if (map == doc.end() || map->is_null()) return architectures;
  if (!map->is_array()) return profile_error(origin, "archMap: must be a list");
  std::string native = scmp_arch_of_host(arch);
  for (const auto& entry : *map) {
    if (!entry.is_object() || entry.value("architecture", "") != native) continue;
    architectures.push_back(native);
    for (const auto& sub : strings_at(entry, "subArchitectures", "archMap", origin, status)) architectures.push_back(sub);
  }
  if (!status) return status.error();
  return architectures;
}

// The OCI object -> the runtime's model, to compile it as the runtime will.
spec::Seccomp to_runtime_model(const ojson& profile) {
  spec::Seccomp out;
  out.default_action = profile["defaultAction"].get<std::string>();
  if (profile.contains("defaultErrnoRet")) out.default_errno_ret = profile["defaultErrnoRet"].get<uint32_t>();
  out.architectures = profile.value("architectures", std::vector<std::string>{});
  out.flags = profile.value("flags", std::vector<std::string>{});
  for (const auto& entry : profile["syscalls"]) {
    spec::SeccompSyscall sc;
    sc.names = entry["names"].get<std::vector<std::string>>();
    sc.action = entry["action"].get<std::string>();
    if (entry.contains("errnoRet")) sc.errno_ret = entry["errnoRet"].get<uint32_t>();
    for (const auto& a : entry.value("args", ojson::array()))
      sc.args.push_back({a["index"].get<unsigned>(), a["value"].get<uint64_t>(), a["valueTwo"].get<uint64_t>(),
                         a["op"].get<std::string>()});
    out.syscalls.push_back(std::move(sc));
  }
  return out;
}

}  // namespace

std::string host_arch() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.machine) : std::string();
}

ojson default_seccomp_profile(const std::vector<std::string>& caps, const std::string& arch) {
  ArchInfo info = arch_info(arch);
  std::vector<std::string> allowed = allowed_syscalls();
  allowed.insert(allowed.end(), info.only.begin(), info.only.end());
  ojson syscalls = ojson::array();
  syscalls.push_back(rule(allowed, "SCMP_ACT_ALLOW"));
  syscalls.push_back(rule(denied_syscalls(), "SCMP_ACT_ERRNO", kEperm));
  add_personality_rules(syscalls);
  add_socket_rules(syscalls, caps);
  for (const auto& group : capability_groups()) {
    bool allowed_here = std::any_of(group.caps.begin(), group.caps.end(), [&](const auto& c) { return has_cap(caps, c); });
    syscalls.push_back(allowed_here ? rule(group.names, "SCMP_ACT_ALLOW") : rule(group.names, "SCMP_ACT_ERRNO", kEperm));
  }
  ojson profile = {{"defaultAction", "SCMP_ACT_ERRNO"}, {"defaultErrnoRet", kEnosys}};
  if (!info.scmp.empty()) profile["architectures"] = info.scmp;
  profile["syscalls"] = std::move(syscalls);
  return profile;
}

Result<ojson> parse_seccomp_profile(const std::string& text, const std::string& origin,
                                    const std::vector<std::string>& caps, const std::string& arch) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const std::exception& error) {
    return profile_error(origin, std::string("not valid JSON: ") + error.what());
  }
  if (!doc.is_object()) return profile_error(origin, "must be a JSON object");
  auto default_action = doc.find("defaultAction");
  if (default_action == doc.end() || !default_action->is_string())
    return profile_error(origin, "defaultAction: missing (e.g. \"SCMP_ACT_ERRNO\")");
  ojson profile = {{"defaultAction", default_action->get<std::string>()}};
  if (auto e = doc.find("defaultErrnoRet"); e != doc.end() && !e->is_null()) {
    if (!e->is_number_unsigned()) return profile_error(origin, "defaultErrnoRet: must be a number");
    profile["defaultErrnoRet"] = e->get<uint32_t>();
  }
  TRY_ASSIGN(architectures, profile_architectures(doc, origin, arch));
  if (!architectures.empty()) profile["architectures"] = architectures;
  Status status;
  auto flags = strings_at(doc, "flags", "", origin, status);
  if (!status) return status.error();
  if (!flags.empty()) profile["flags"] = flags;
  ojson syscalls = ojson::array();
  if (auto list = doc.find("syscalls"); list != doc.end() && !list->is_null()) {
    if (!list->is_array()) return profile_error(origin, "syscalls: must be a list");
    for (size_t i = 0; i < list->size(); ++i) {
      std::string field = "syscalls[" + std::to_string(i) + "]";
      TRY_ASSIGN(applies, rule_applies((*list)[i], field, origin, caps, arch));
      TRY_ASSIGN(converted, convert_syscall((*list)[i], field, origin));
      if (applies) syscalls.push_back(std::move(converted));
    }
  }
  profile["syscalls"] = std::move(syscalls);
  // Compile once here: an unknown action, operator or architecture is an
  // error of this command, not a failure when the container starts.
  auto compiled = compile_seccomp(to_runtime_model(profile));
  if (!compiled) return profile_error(origin, compiled.error().message);
  return profile;
}

Result<ojson> load_seccomp_profile(const std::string& path, const std::vector<std::string>& caps,
                                   const std::string& arch) {
  auto text = read_file(path);
  if (!text)
    return Error{text.error().code, "cannot read seccomp profile " + path + ": " + text.error().message +
                                        " (give a JSON profile file, or seccomp=unconfined)"};
  return parse_seccomp_profile(*text, path, caps, arch);
}

}  // namespace ctr::cmd
