// The OCI runtime spec (config.json) as plain C++ types. Parsing and
// validation live in spec_parse.cpp; nothing here touches the system.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::spec {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct Capabilities {  // capability numbers (CAP_*), validated names converted
  std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
  int resource = 0;  // RLIMIT_* number
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct ConsoleSize {
  unsigned height = 0;
  unsigned width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;  // accepted, not applied (no AppArmor here)
  std::string selinux_label;     // accepted, not applied
};

struct Root {
  std::string path;  // absolute after parsing (relative paths resolved against the bundle)
  bool readonly = false;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

// Mount options, already decoded (see mount_options.h).
struct Mount {
  std::string destination;
  std::string type;    // "" for bind mounts given only through options
  std::string source;
  std::vector<std::string> options;  // raw, as written
  std::vector<IdMapping> uid_mappings, gid_mappings;  // idmapped mounts
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
  bool empty() const {
    return prestart.empty() && create_runtime.empty() && create_container.empty() && start_container.empty() &&
           poststart.empty() && poststop.empty();
  }
};

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup, time };

struct Namespace {
  NamespaceType type;
  std::string path;  // empty: create a new one
};

struct Device {
  char type = 'c';  // c, b, u, p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid, gid;
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_NE, SCMP_CMP_LT, ... (validated)
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_* (validated)
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::string resources_json;  // kept raw until the cgroup issue consumes it
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;  // "", shared, slave, private, unbindable, r*
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;
  std::optional<unsigned long> personality;  // PER_LINUX / PER_LINUX32

  const Namespace* find_namespace(NamespaceType type) const {
    for (const auto& ns : namespaces)
      if (ns.type == type) return &ns;
    return nullptr;
  }
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;
};

// Parses and validates config.json text. `bundle` resolves a relative
// root.path. Errors name the offending field, e.g.
// "linux.namespaces[2].type: unknown namespace type `netz`".
Result<Spec> parse_spec(const std::string& json_text, const std::string& bundle);
// Reads BUNDLE/config.json and parses it.
Result<Spec> load_spec(const std::string& bundle);
// A process object alone (ctr-runtime exec --process FILE).
Result<Process> parse_process(const std::string& json_text);

// The default config.json of `ctr-runtime spec` (runc's shape); `rootless`
// adds a user namespace with single-ID maps for the caller and drops the
// network namespace and the cgroup mount, as runc/crun --rootless do.
std::string default_spec_json(bool rootless);

const char* namespace_type_name(NamespaceType type);

}  // namespace ctr::spec
