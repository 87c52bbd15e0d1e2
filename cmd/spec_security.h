// The security and resource flags of `ctr create/run` (--cap-add/--cap-drop,
// --privileged, --security-opt, --read-only, --ulimit, --shm-size,
// --device, --group-add) and how they change the generated config.json,
// with podman's rootless meaning.
#pragma once

#include <sys/resource.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

struct SecurityFlags {
  std::vector<std::string> cap_add, cap_drop;
  bool privileged = false;
  std::vector<std::string> security_opts;
  bool read_only = false;
  bool read_only_tmpfs = true;
  std::vector<std::string> ulimits;
  std::string shm_size;  // "" = 64m
  std::vector<std::string> devices;
  std::vector<std::string> group_add;
};

// --security-opt, parsed.
struct SecurityOptions {
  enum class Seccomp { default_profile, unconfined, file };
  Seccomp seccomp = Seccomp::default_profile;
  std::string seccomp_file;
  std::optional<bool> no_new_privileges;
  std::vector<std::string> mask, unmask;  // extra masked paths; paths to unmask
  bool unmask_all = false;
};
Result<SecurityOptions> parse_security_opts(const std::vector<std::string>& opts);

// The bounding set: podman's rootless default, or every capability the
// kernel knows with --privileged, then --cap-drop and --cap-add (ALL
// allowed in both; CAP_ optional, any case). Unknown names are errors.
Result<std::vector<std::string>> resolve_capabilities(const std::vector<std::string>& cap_add,
                                                      const std::vector<std::string>& cap_drop, bool privileged);
// "CAP_SYS_ADMIN" from "sys_admin", "CAP_SYS_ADMIN"...
Result<std::string> normalize_capability(const std::string& name);

// --ulimit NAME=SOFT[:HARD] (-1 = unlimited) -> an OCI rlimit object.
// `hard_limit_of` gives the caller's hard limit for a resource: a rootless
// container cannot go above it, so that is an error naming the limit.
struct Ulimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t soft = 0, hard = 0;
};
Result<Ulimit> parse_ulimit(const std::string& text);
Status check_ulimit(const Ulimit& limit, const std::string& text);

// --device HOST[:CONTAINER][:PERMISSIONS].
struct DeviceFlag {
  std::string host, container;
  bool read_only = false;  // permissions without 'w'
};
Result<DeviceFlag> parse_device(const std::string& text);

// --group-add: a number, or a name from the image's /etc/group.
Result<std::vector<uint32_t>> resolve_groups(const std::vector<std::string>& groups, const std::string& group_file);

// What the security flags need from the rest of the spec.
struct SecurityContext {
  std::string group_file;  // the image's /etc/group
  bool root_user = true;   // the process runs as uid 0
  std::string arch;        // uname -m
};
// Rewrites the process (capabilities, noNewPrivileges, rlimits,
// additionalGids), root, mounts and linux (seccomp, masked/readonly paths)
// sections of `spec` that build_spec made with the defaults.
Status apply_security(nlohmann::ordered_json& spec, const SecurityFlags& flags, const SecurityContext& context);

}  // namespace ctr::cmd
