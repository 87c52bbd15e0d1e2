#include "cmd/spec_security.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "cmd/container_create.h"
#include "cmd/seccomp_profile.h"
#include "runtime/base/strings.h"
#include "runtime/capabilities.h"

namespace ctr::cmd {
namespace {

using ojson = nlohmann::ordered_json;

// podman's rootless default set (DESIGN.md section 6).
const std::vector<std::string> kDefaultCaps = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
                                               "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
                                               "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

void remove_item(std::vector<std::string>& list, const std::string& item) {
  list.erase(std::remove(list.begin(), list.end(), item), list.end());
}

// Every capability this kernel knows, in number order.
std::vector<std::string> all_capabilities() {
  std::vector<std::string> out;
  int last = last_capability();
  for (int cap = 0; cap <= last; ++cap) out.push_back(capability_name(cap));
  return out;
}

struct RlimitName {
  const char* name;
  const char* type;
  int resource;
};
constexpr std::array<RlimitName, 16> kRlimits = {{
    {"as", "RLIMIT_AS", RLIMIT_AS},
    {"core", "RLIMIT_CORE", RLIMIT_CORE},
    {"cpu", "RLIMIT_CPU", RLIMIT_CPU},
    {"data", "RLIMIT_DATA", RLIMIT_DATA},
    {"fsize", "RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"locks", "RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"memlock", "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"msgqueue", "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"nice", "RLIMIT_NICE", RLIMIT_NICE},
    {"nofile", "RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"nproc", "RLIMIT_NPROC", RLIMIT_NPROC},
    {"rss", "RLIMIT_RSS", RLIMIT_RSS},
    {"rtprio", "RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"rttime", "RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"sigpending", "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"stack", "RLIMIT_STACK", RLIMIT_STACK},
}};

std::optional<uint64_t> rlimit_value(const std::string& text) {
  if (text == "-1" || text == "unlimited") return RLIM_INFINITY;
  return parse_u64(text);
}

std::vector<std::string> colon_list(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& part : split(text, ':'))
    if (!part.empty()) out.push_back(part);
  return out;
}

Status parse_security_opt(const std::string& opt, SecurityOptions& out) {
  auto eq = opt.find('=');
  std::string key = opt.substr(0, eq);
  std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
  if (key == "no-new-privileges") {
    if (eq == std::string::npos || value == "true") return out.no_new_privileges = true, Status{};
    if (value == "false") return out.no_new_privileges = false, Status{};
    return make_error("invalid --security-opt `" + opt + "`: no-new-privileges takes true or false", EINVAL);
  }
  if (eq == std::string::npos || value.empty())
    return make_error("invalid --security-opt `" + opt + "`: use KEY=VALUE (seccomp=, no-new-privileges, mask=, " +
                          "unmask=, label=disable)",
                      EINVAL);
  if (key == "seccomp") {
    if (value == "unconfined") {
      out.seccomp = SecurityOptions::Seccomp::unconfined;
    } else {
      out.seccomp = SecurityOptions::Seccomp::file;
      out.seccomp_file = value;
    }
  } else if (key == "mask") {
    for (const auto& path : colon_list(value)) {
      if (path[0] != '/') return make_error("--security-opt mask: `" + path + "` must be an absolute path", EINVAL);
      out.mask.push_back(path);
    }
  } else if (key == "unmask") {
    for (const auto& path : colon_list(value)) {
      if (path == "ALL") {
        out.unmask_all = true;
      } else if (path[0] != '/') {
        return make_error("--security-opt unmask: `" + path + "` must be an absolute path or ALL", EINVAL);
      } else {
        out.unmask.push_back(path);
      }
    }
  } else if (key == "label") {
    // No SELinux on ctr's hosts: disabling labels is what already happens.
    if (value != "disable")
      return make_error("--security-opt label=" + value +
                            ": SELinux labels are not supported by ctr (only label=disable is accepted)",
                        ENOTSUP);
  } else if (key == "apparmor") {
    if (value != "unconfined")
      return make_error("--security-opt apparmor=" + value +
                            ": AppArmor profiles are not supported by ctr (only apparmor=unconfined is accepted)",
                        ENOTSUP);
  } else {
    return make_error("unknown --security-opt `" + opt +
                          "`: supported are seccomp=FILE|unconfined, no-new-privileges[=true|false], " +
                          "mask=PATHS, unmask=ALL|PATHS, label=disable, apparmor=unconfined",
                      EINVAL);
  }
  return {};
}

void set_capabilities(ojson& process, const std::vector<std::string>& bounding, const std::vector<std::string>& added,
                      bool root_user) {
  ojson caps = {{"bounding", bounding}, {"effective", bounding}, {"permitted", bounding}};
  if (!root_user) {
    // As podman: a non-root user gets only the capabilities asked for by
    // --cap-add, and keeps them across exec through the ambient set.
    std::vector<std::string> user_caps;
    for (const auto& cap : added)
      if (contains(bounding, cap)) user_caps.push_back(cap);
    caps["effective"] = user_caps;
    caps["permitted"] = user_caps;
    caps["inheritable"] = user_caps;
    caps["ambient"] = user_caps;
  }
  process["capabilities"] = caps;
}

Status apply_ulimits(ojson& process, const std::vector<std::string>& ulimits) {
  ojson& rlimits = process["rlimits"];
  for (const auto& text : ulimits) {
    TRY_ASSIGN(limit, parse_ulimit(text));
    TRY(check_ulimit(limit, text));
    ojson entry = {{"type", limit.type}, {"hard", limit.hard}, {"soft", limit.soft}};
    auto same = std::find_if(rlimits.begin(), rlimits.end(), [&](const ojson& r) { return r["type"] == limit.type; });
    if (same != rlimits.end()) {
      *same = entry;
    } else {
      rlimits.push_back(entry);
    }
  }
  return {};
}

ojson* find_mount(ojson& mounts, const std::string& destination) {
  for (auto& m : mounts)
    if (m["destination"] == destination) return &m;
  return nullptr;
}

void add_bind(ojson& mounts, const std::string& source, const std::string& destination, bool read_only) {
  std::vector<std::string> options = {"bind", "nosuid", "noexec"};
  if (read_only) options.push_back("ro");
  mounts.push_back({{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}});
}

// Rootless --device: the node cannot be made (mknod needs the host's
// CAP_MKNOD), so the host's node is bind-mounted, as rootless podman does.
Status apply_devices(ojson& mounts, const std::vector<std::string>& devices) {
  for (const auto& text : devices) {
    TRY_ASSIGN(device, parse_device(text));
    struct stat st {};
    if (::stat(device.host.c_str(), &st) != 0)
      return sys_error("--device " + text + ": cannot use `" + device.host + "`");
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode))
      return make_error("--device " + text + ": `" + device.host + "` is not a device node or a directory of them",
                        EINVAL);
    if (ojson* existing = find_mount(mounts, device.container)) *existing = ojson();
    add_bind(mounts, device.host, device.container, device.read_only);
  }
  mounts.erase(std::remove_if(mounts.begin(), mounts.end(), [](const ojson& m) { return m.is_null(); }), mounts.end());
  return {};
}

// --privileged: the host's device nodes this user may open, bind-mounted
// (those the default /dev already has are left out).
void add_host_devices(ojson& mounts) {
  static const std::vector<std::string> skip = {"console", "ptmx", "tty", "null", "zero", "full", "random", "urandom"};
  DIR* dir = ::opendir("/dev");
  if (!dir) return;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (contains(skip, name)) continue;
    std::string path = "/dev/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
    if (::access(path.c_str(), R_OK | W_OK) != 0) continue;
    if (!find_mount(mounts, path)) add_bind(mounts, path, path, false);
  }
  ::closedir(dir);
}

void add_read_only_tmpfs(ojson& mounts) {
  for (const char* dir : {"/run", "/tmp", "/var/tmp"}) {
    if (find_mount(mounts, dir)) continue;  // a volume or --tmpfs there wins
    mounts.push_back({{"destination", dir},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"rw", "nosuid", "nodev", "tmpcopyup", "mode=1777"}}});
  }
}

Status apply_shm_size(ojson& mounts, const std::string& shm_size) {
  if (shm_size.empty()) return {};
  auto bytes = parse_size(shm_size);
  if (!bytes) return make_error("invalid --shm-size `" + shm_size + "`: use a positive number with b, k, m or g", EINVAL);
  ojson* shm = find_mount(mounts, "/dev/shm");
  if (!shm) return {};  // a volume on /dev/shm replaced the tmpfs
  std::vector<std::string> options;
  for (const auto& o : (*shm)["options"])
    if (o.get<std::string>().rfind("size=", 0) != 0) options.push_back(o.get<std::string>());
  options.push_back("size=" + std::to_string(*bytes));
  (*shm)["options"] = options;
  return {};
}

void apply_paths(ojson& linux_json, const SecurityOptions& opts, bool privileged) {
  if (privileged || opts.unmask_all) {
    linux_json["maskedPaths"] = ojson::array();
    linux_json["readonlyPaths"] = ojson::array();
  }
  for (const char* key : {"maskedPaths", "readonlyPaths"}) {
    ojson kept = ojson::array();
    for (const auto& path : linux_json[key])
      if (!contains(opts.unmask, path.get<std::string>())) kept.push_back(path);
    linux_json[key] = kept;
  }
  for (const auto& path : opts.mask)
    if (std::find(linux_json["maskedPaths"].begin(), linux_json["maskedPaths"].end(), path) ==
        linux_json["maskedPaths"].end())
      linux_json["maskedPaths"].push_back(path);
}

Status apply_seccomp(ojson& linux_json, const SecurityOptions& opts, bool privileged,
                     const std::vector<std::string>& bounding, const std::string& arch) {
  linux_json.erase("seccomp");
  switch (opts.seccomp) {
    case SecurityOptions::Seccomp::unconfined:
      return {};
    case SecurityOptions::Seccomp::file: {
      TRY_ASSIGN(profile, load_seccomp_profile(opts.seccomp_file, bounding, arch));
      linux_json["seccomp"] = std::move(profile);
      return {};
    }
    case SecurityOptions::Seccomp::default_profile:
      // podman: --privileged turns seccomp off unless a profile is named.
      if (!privileged) linux_json["seccomp"] = default_seccomp_profile(bounding, arch);
      return {};
  }
  return {};
}

}  // namespace

Result<SecurityOptions> parse_security_opts(const std::vector<std::string>& opts) {
  SecurityOptions out;
  for (const auto& opt : opts) TRY(parse_security_opt(opt, out));
  return out;
}

Result<std::string> normalize_capability(const std::string& name) {
  std::string up = upper(name);
  if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
  auto number = capability_from_name(up);
  if (!number)
    return make_error("unknown capability `" + name + "`: use a name such as NET_ADMIN or CAP_SYS_PTRACE, or ALL",
                      EINVAL);
  return capability_name(*number);
}

Result<std::vector<std::string>> resolve_capabilities(const std::vector<std::string>& cap_add,
                                                      const std::vector<std::string>& cap_drop, bool privileged) {
  std::vector<std::string> caps = privileged ? all_capabilities() : kDefaultCaps;
  for (const auto& name : cap_drop) {
    if (upper(name) == "ALL") {
      caps.clear();
      continue;
    }
    TRY_ASSIGN(cap, normalize_capability(name));
    remove_item(caps, cap);
  }
  for (const auto& name : cap_add) {
    if (upper(name) == "ALL") {
      for (const auto& cap : all_capabilities())
        if (!contains(caps, cap)) caps.push_back(cap);
      continue;
    }
    TRY_ASSIGN(cap, normalize_capability(name));
    if (!contains(caps, cap)) caps.push_back(cap);
  }
  return caps;
}

Result<Ulimit> parse_ulimit(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos)
    return make_error("invalid --ulimit `" + text + "`: use NAME=SOFT[:HARD], e.g. nofile=1024:2048", EINVAL);
  std::string name = text.substr(0, eq), values = text.substr(eq + 1);
  auto known = std::find_if(kRlimits.begin(), kRlimits.end(), [&](const RlimitName& r) { return name == r.name; });
  if (known == kRlimits.end()) {
    std::string names;
    for (const auto& r : kRlimits) names += std::string(names.empty() ? "" : ", ") + r.name;
    return make_error("invalid --ulimit `" + text + "`: unknown limit `" + name + "` (known: " + names + ")", EINVAL);
  }
  auto colon = values.find(':');
  auto soft = rlimit_value(values.substr(0, colon));
  auto hard = colon == std::string::npos ? soft : rlimit_value(values.substr(colon + 1));
  if (!soft || !hard)
    return make_error("invalid --ulimit `" + text + "`: the limits must be numbers or -1 (unlimited)", EINVAL);
  if (*soft > *hard)
    return make_error("invalid --ulimit `" + text + "`: the soft limit is above the hard limit", EINVAL);
  return Ulimit{known->type, *soft, *hard};
}

Status check_ulimit(const Ulimit& limit, const std::string& text) {
  auto known = std::find_if(kRlimits.begin(), kRlimits.end(), [&](const RlimitName& r) { return limit.type == r.type; });
  rlimit current{};
  if (known == kRlimits.end() || ::getrlimit(known->resource, &current) != 0) return {};
  if (current.rlim_max != RLIM_INFINITY && limit.hard > current.rlim_max)
    return make_error("--ulimit " + text + ": the hard limit is above yours (" + std::to_string(current.rlim_max) +
                          "): a rootless container cannot raise it (raise it for your user, e.g. in " +
                          "/etc/security/limits.conf, or ask for less)",
                      EPERM);
  return {};
}

Result<DeviceFlag> parse_device(const std::string& text) {
  auto parts = split(text, ':');
  if (parts.empty() || parts.size() > 3 || parts[0].empty() || parts[0][0] != '/')
    return make_error("invalid --device `" + text + "`: use /dev/HOST[:/dev/CONTAINER][:PERMISSIONS]", EINVAL);
  DeviceFlag device{parts[0], parts[0], false};
  auto is_permissions = [](const std::string& p) {
    return !p.empty() && p.find_first_not_of("rwm") == std::string::npos;
  };
  std::string permissions;
  if (parts.size() == 2) {
    if (is_permissions(parts[1]))
      permissions = parts[1];
    else
      device.container = parts[1];
  } else if (parts.size() == 3) {
    device.container = parts[1];
    permissions = parts[2];
    if (!is_permissions(permissions))
      return make_error("invalid --device `" + text + "`: permissions are a combination of r, w and m", EINVAL);
  }
  if (device.container.empty() || device.container[0] != '/')
    return make_error("invalid --device `" + text + "`: the container path must be absolute", EINVAL);
  device.read_only = !permissions.empty() && permissions.find('w') == std::string::npos;
  return device;
}

Result<std::vector<uint32_t>> resolve_groups(const std::vector<std::string>& groups, const std::string& group_file) {
  std::vector<uint32_t> out;
  for (const auto& name : groups) {
    if (name == "keep-groups")
      return make_error("--group-add keep-groups is not supported by ctr's runtime (it needs crun's "
                        "run.oci.keep_original_groups): name the groups instead",
                        ENOTSUP);
    std::optional<uint32_t> gid;
    if (auto number = parse_u64(name); number && *number <= 0xffffffffULL) gid = static_cast<uint32_t>(*number);
    for (const auto& line : split(group_file, '\n')) {
      if (gid) break;
      auto fields = split(line, ':');
      if (fields.size() >= 3 && fields[0] == name)
        if (auto number = parse_u64(fields[2]); number && *number <= 0xffffffffULL) gid = static_cast<uint32_t>(*number);
    }
    if (!gid)
      return make_error("--group-add " + name + ": no such group in the image's /etc/group (use a number)", ENOENT);
    if (std::find(out.begin(), out.end(), *gid) == out.end()) out.push_back(*gid);
  }
  return out;
}

Status apply_security(ojson& spec, const SecurityFlags& flags, const SecurityContext& context) {
  TRY_ASSIGN(opts, parse_security_opts(flags.security_opts));
  TRY_ASSIGN(bounding, resolve_capabilities(flags.cap_add, flags.cap_drop, flags.privileged));
  std::vector<std::string> added;
  for (const auto& name : flags.cap_add)
    if (upper(name) != "ALL") added.push_back(*normalize_capability(name));
  ojson& process = spec["process"];
  set_capabilities(process, bounding, added, context.root_user);
  if (opts.no_new_privileges) process["noNewPrivileges"] = *opts.no_new_privileges;
  TRY(apply_ulimits(process, flags.ulimits));
  if (!flags.group_add.empty()) {
    TRY_ASSIGN(gids, resolve_groups(flags.group_add, context.group_file));
    ojson& user = process["user"];
    std::vector<uint32_t> all = user.value("additionalGids", std::vector<uint32_t>{});
    for (uint32_t gid : gids)
      if (std::find(all.begin(), all.end(), gid) == all.end()) all.push_back(gid);
    user["additionalGids"] = all;
  }
  ojson& mounts = spec["mounts"];
  TRY(apply_shm_size(mounts, flags.shm_size));
  if (flags.privileged) add_host_devices(mounts);
  TRY(apply_devices(mounts, flags.devices));
  if (flags.read_only) {
    spec["root"]["readonly"] = true;
    if (flags.read_only_tmpfs) add_read_only_tmpfs(mounts);
  }
  ojson& linux_json = spec["linux"];
  apply_paths(linux_json, opts, flags.privileged);
  return apply_seccomp(linux_json, opts, flags.privileged, bounding, context.arch);
}

}  // namespace ctr::cmd
