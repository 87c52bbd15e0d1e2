#include "cmd/container_spec.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cmd/seccomp_profile.h"
#include "runtime/cgroup_setup.h"

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

using ojson = nlohmann::ordered_json;
constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::vector<std::string> string_list(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_array()) return {};
  std::vector<std::string> out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string string_field(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  return it != config.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<uint32_t> number(std::string_view text) {
  auto value = parse_u64(text);
  if (!value || *value > 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

// Lines of an /etc/passwd-style file split on ':'.
std::vector<std::vector<std::string>> colon_records(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  for (const auto& line : split(text, '\n'))
    if (!line.empty() && line[0] != '#') out.push_back(split(line, ':'));
  return out;
}

// KEY=VALUE list with later entries replacing earlier ones of the same key.
void set_env(std::vector<std::string>& env, const std::string& entry) {
  std::string key = entry.substr(0, entry.find('='));
  for (auto& e : env)
    if (e.substr(0, e.find('=')) == key) {
      e = entry;
      return;
    }
  env.push_back(entry);
}

bool has_env(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env)
    if (e.substr(0, e.find('=')) == key) return true;
  return false;
}

ojson mount(const char* destination, const char* type, const char* source, std::vector<std::string> options) {
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

ojson default_mounts(bool single_id) {
  std::vector<std::string> pts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  if (!single_id) pts.push_back("gid=5");  // tty group: mapped only with subordinate IDs
  return ojson::array({
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", pts),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      // A bind of the host's /sys, as rootless runc/podman do without a
      // network namespace of their own to show.
      mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}),
  });
}

ojson linux_section() {
  ojson namespaces = ojson::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) namespaces.push_back({{"type", type}});
  return {
      {"namespaces", namespaces},
      {"maskedPaths",
       {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
        "/proc/timer_list", "/proc/timer_stats", "/proc/interrupts", "/sys/firmware", "/sys/fs/selinux",
        "/sys/devices/virtual/powercap"}},
      {"readonlyPaths", {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
}

ojson process_section(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& cwd,
                      const ResolvedUser& user, bool tty) {
  // podman's rootless default set (DESIGN.md section 6).
  const std::vector<std::string> caps = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
                                         "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
                                         "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};
  ojson user_json = {{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) user_json["additionalGids"] = user.additional_gids;
  ojson capabilities = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  if (user.uid != 0) capabilities["effective"] = ojson::array();  // a non-root user starts without effective caps
  rlimit nofile{}, nproc{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  ::getrlimit(RLIMIT_NPROC, &nproc);
  auto limit = [](const char* type, const rlimit& l) {
    return ojson{{"type", type}, {"hard", l.rlim_max}, {"soft", l.rlim_max}};
  };
  return {{"terminal", tty},
          {"user", user_json},
          {"args", args},
          {"env", env},
          {"cwd", cwd},
          {"capabilities", capabilities},
          {"rlimits", ojson::array({limit("RLIMIT_NOFILE", nofile), limit("RLIMIT_NPROC", nproc)})},
          {"noNewPrivileges", false}};
}

Result<std::vector<std::string>> process_env(const ImageRunConfig& image, const ProcessFlags& flags,
                                             const ResolvedUser& user, const std::string& hostname) {
  std::vector<std::string> env;
  set_env(env, kDefaultPath);
  if (flags.tty) set_env(env, "TERM=xterm");
  set_env(env, "container=ctr");
  for (const auto& e : image.env) set_env(env, e);
  // --env-host: ctr's environment over the image's, as podman.
  if (flags.env_host)
    for (char** e = environ; *e; ++e) set_env(env, *e);
  set_env(env, "HOSTNAME=" + hostname);
  if (!has_env(env, "HOME")) set_env(env, "HOME=" + user.home);
  for (const auto& file : flags.env_files) {
    auto text = read_file(file);
    if (!text) return text.error().context("--env-file " + file);
    TRY_ASSIGN(entries, parse_env_file(*text, file));
    for (const auto& e : entries) set_env(env, e);
  }
  for (const auto& e : flags.env) {
    if (e.empty() || e[0] == '=') return make_error("invalid environment variable `" + e + "`: use KEY=VALUE", EINVAL);
    if (e.find('=') != std::string::npos) {
      set_env(env, e);
    } else if (const char* value = std::getenv(e.c_str())) {
      set_env(env, e + "=" + value);  // -e KEY: the value from ctr's environment, as podman
    }
  }
  return env;
}

}  // namespace

Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& origin) {
  std::vector<std::string> out;
  size_t number = 0;
  for (const auto& raw : split(text, '\n')) {
    ++number;
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    size_t eq = line.find('=');
    std::string key = line.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key.empty() || key.find_first_of(" \t") != std::string::npos)
      return make_error(origin + ":" + std::to_string(number) + ": invalid variable `" + line +
                            "`: use KEY=VALUE or KEY",
                        EINVAL);
    if (eq != std::string::npos) {
      out.push_back(key + "=" + line.substr(eq + 1));
    } else if (const char* value = std::getenv(key.c_str())) {
      out.push_back(key + "=" + value);
    }
  }
  return out;
}

Result<std::pair<std::string, std::string>> parse_key_value(const std::string& text, const std::string& what) {
  size_t eq = text.find('=');
  if (eq == 0 || text.empty())
    return make_error("invalid " + what + " `" + text + "`: use KEY=VALUE", EINVAL);
  if (eq == std::string::npos) return std::pair<std::string, std::string>{text, ""};
  return std::pair<std::string, std::string>{text.substr(0, eq), text.substr(eq + 1)};
}

Result<ImageRunConfig> read_image_run_config(const image::Store& store, const image::ImageRecord& image) {
  TRY_ASSIGN(text, store.read_blob(image.config_digest));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const std::exception& error) {
    return make_error("image " + image.id + ": config blob is not JSON: " + error.what(), EINVAL);
  }
  ImageRunConfig out;
  auto it = doc.find("config");
  if (it == doc.end() || !it->is_object()) return out;
  out.env = string_list(*it, "Env");
  out.cmd = string_list(*it, "Cmd");
  out.entrypoint = string_list(*it, "Entrypoint");
  out.workdir = string_field(*it, "WorkingDir");
  out.user = string_field(*it, "User");
  out.stop_signal = string_field(*it, "StopSignal");
  if (auto labels = it->find("Labels"); labels != it->end() && labels->is_object())
    for (const auto& [key, value] : labels->items())
      if (value.is_string()) out.labels[key] = value.get<std::string>();
  return out;
}

std::string read_image_file(const image::Store& store, const image::ImageRecord& image, const std::string& path) {
  for (auto it = image.layer_chain_ids.rbegin(); it != image.layer_chain_ids.rend(); ++it) {
    auto text = read_file(store.layer_diff_dir(*it) + path);
    if (text) return *text;
  }
  return {};
}

Result<ResolvedUser> resolve_user(const std::string& text, const std::string& passwd, const std::string& group) {
  ResolvedUser user;
  size_t colon = text.find(':');
  std::string user_part(std::string_view(text).substr(0, colon));
  std::optional<std::string> group_part;
  if (colon != std::string::npos) group_part = std::string(std::string_view(text).substr(colon + 1));
  if (user_part.empty()) user_part.assign(1, '0');
  std::string user_name;
  bool found = false;
  for (const auto& f : colon_records(passwd)) {
    if (f.size() < 6) continue;
    auto uid = number(f[2]);
    auto gid = number(f[3]);
    if (!uid || !gid) continue;
    if (f[0] == user_part || (number(user_part) && *number(user_part) == *uid)) {
      user.uid = *uid, user.gid = *gid, user.home = f[5].empty() ? "/" : f[5], user_name = f[0];
      found = true;
      break;
    }
  }
  if (!found) {
    auto uid = number(user_part);
    if (!uid)
      return make_error("unable to find user " + user_part +
                            ": no matching entries in the image's /etc/passwd "
                            "(use a numeric UID, or a user the image defines)",
                        ENOENT);
    user.uid = *uid;
  }
  if (group_part) {
    std::optional<uint32_t> gid = number(*group_part);
    for (const auto& f : colon_records(group))
      if (!gid && f.size() >= 3 && f[0] == *group_part) gid = number(f[2]);
    if (!gid)
      return make_error("unable to find group " + *group_part + ": no matching entries in the image's /etc/group",
                        ENOENT);
    user.gid = *gid;
  } else if (!user_name.empty()) {
    // Supplementary groups from /etc/group membership, as podman does.
    for (const auto& f : colon_records(group)) {
      if (f.size() < 4) continue;
      auto gid = number(f[2]);
      if (!gid || *gid == user.gid) continue;
      for (const auto& member : split(f[3], ','))
        if (member == user_name) user.additional_gids.push_back(*gid);
    }
  }
  return user;
}

// --init: ctr-init (read-only, from the host) runs as PID 1 and the
// command as its child: `/run/ctr-init -- ARGS...`, as podman's catatonit.
static void add_init(nlohmann::ordered_json& spec, const std::string& init_binary) {
  auto args = spec["process"]["args"];
  spec["process"]["args"] = nlohmann::ordered_json::array({kInitPath, "--"});
  for (const auto& arg : args) spec["process"]["args"].push_back(arg);
  spec["mounts"].push_back({{"destination", kInitPath},
                            {"type", "bind"},
                            {"source", init_binary},
                            {"options", {"bind", "ro", "nosuid", "nodev"}}});
}

namespace {

ojson id_mappings(const userns::IdMap& map) {
  ojson out = ojson::array();
  for (const auto& r : map) out.push_back({{"containerID", r.inside}, {"hostID", r.outside}, {"size", r.count}});
  return out;
}

// The runtime runs as root of the store's namespace: the container gets a
// nested one whose maps are relative to it (written directly, no newuidmap).
void add_keep_id(ojson& linux, const ProcessFlags::KeepId& keep) {
  linux["namespaces"].push_back({{"type", "user"}});
  linux["uidMappings"] = id_mappings(keep.uid_map);
  linux["gidMappings"] = id_mappings(keep.gid_map);
}

bool has_id(const std::string& text, size_t field, uint32_t id) {
  for (const auto& f : colon_records(text))
    if (f.size() > field && f[field] == std::to_string(id)) return true;
  return false;
}

std::string with_line(std::string text, const std::string& line) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text + line + "\n";
}

// --network host: no network namespace entry; container:/ns:: join a path.
void set_network_namespace(ojson& namespaces, const ProcessFlags& flags) {
  for (auto it = namespaces.begin(); it != namespaces.end(); ++it) {
    if ((*it)["type"] != "network") continue;
    if (flags.host_network)
      namespaces.erase(it);
    else if (!flags.network_ns_path.empty())
      (*it)["path"] = flags.network_ns_path;
    return;
  }
}

// linux.cgroupsPath/resources and process.oomScoreAdj (cmd/cgroup_flags.h).
void add_cgroup(ojson& spec, const ProcessFlags& flags) {
  if (flags.oom_score_adj) spec["process"]["oomScoreAdj"] = *flags.oom_score_adj;
  if (!flags.cgroups_path.empty()) {
    spec["linux"]["cgroupsPath"] = flags.cgroups_path;
    // Its own cgroup as the root of a cgroup2 mount (the cgroup namespace
    // makes the container's cgroup `/`), read-only as podman's.
    spec["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                              {"type", "cgroup"},
                              {"source", "cgroup"},
                              {"options", {"rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"}}});
  }
  if (!flags.resources_json.empty() && flags.resources_json != "{}")
    spec["linux"]["resources"] = ojson::parse(flags.resources_json);
  if (flags.cgroup_supervisor) spec["annotations"][cgroup::kSupervisorAnnotation] = "parent";
}

}  // namespace

std::string passwd_with_user(const std::string& passwd, const std::string& name, uint32_t uid, uint32_t gid,
                             const std::string& home) {
  if (has_id(passwd, 2, uid)) return {};
  return with_line(passwd, name + ":*:" + std::to_string(uid) + ":" + std::to_string(gid) + "::" + home + ":/bin/sh");
}

std::string group_with_group(const std::string& group, const std::string& name, uint32_t gid) {
  if (has_id(group, 2, gid)) return {};
  return with_line(group, name + ":x:" + std::to_string(gid) + ":" + name);
}

Result<SpecResult> build_spec(const image::Store& store, const image::ImageRecord& image, const ProcessFlags& flags,
                              const std::string& id, const std::string& rootfs, bool single_id) {
  TRY_ASSIGN(config, read_image_run_config(store, image));
  std::vector<std::string> args;
  if (flags.entrypoint) {
    if (!flags.entrypoint->empty()) args.push_back(*flags.entrypoint);
  } else {
    args = config.entrypoint;
  }
  // An explicit entrypoint drops the image's Cmd, as in podman.
  const auto& cmd = !flags.command.empty() ? flags.command : (flags.entrypoint ? flags.command : config.cmd);
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty())
    return make_error("no command specified: the image has no Cmd or Entrypoint; give one after the image name",
                      EINVAL);
  std::string user_text = flags.user ? *flags.user : config.user;
  if (flags.keep_id && !flags.user)  // podman: keep-id runs as you unless -u says otherwise
    user_text = std::to_string(flags.keep_id->uid) + ":" + std::to_string(flags.keep_id->gid);
  ResolvedUser user;
  if (!user_text.empty()) {
    TRY_ASSIGN(resolved, resolve_user(user_text, read_image_file(store, image, "/etc/passwd"),
                                      read_image_file(store, image, "/etc/group")));
    user = resolved;
  } else {
    auto root = resolve_user("0", read_image_file(store, image, "/etc/passwd"), "");
    if (root) user.home = root->home;
  }
  // podman's keep-id user is a member of the group it adds (id: groups=GID).
  if (flags.keep_id && !flags.user && user.additional_gids.empty()) user.additional_gids.push_back(user.gid);
  std::string hostname = flags.hostname ? *flags.hostname : id.substr(0, 12);
  TRY_ASSIGN(env, process_env(config, flags, user, hostname));
  std::string cwd = flags.workdir ? *flags.workdir : (config.workdir.empty() ? "/" : config.workdir);
  if (cwd.empty() || cwd[0] != '/')
    return make_error("working directory `" + cwd + "` must be an absolute path", EINVAL);

  ojson spec;
  spec["ociVersion"] = "1.1.0";
  spec["process"] = process_section(args, env, cwd, user, flags.tty);
  spec["root"] = {{"path", rootfs}, {"readonly", false}};
  spec["hostname"] = hostname;
  spec["mounts"] = default_mounts(single_id);
  for (const auto& m : flags.mounts) {  // user mounts (volume_flags.h) after, replacing a default at the same place
    auto& mounts = spec["mounts"];
    for (auto it = mounts.begin(); it != mounts.end();)
      it = (*it)["destination"] == m.destination ? mounts.erase(it) : it + 1;
    mounts.push_back({{"destination", m.destination}, {"type", m.type}, {"source", m.source}, {"options", m.options}});
  }
  if (!flags.init_binary.empty()) add_init(spec, flags.init_binary);
  spec["linux"] = linux_section();
  set_network_namespace(spec["linux"]["namespaces"], flags);
  if (flags.keep_id) add_keep_id(spec["linux"], *flags.keep_id);
  if (!flags.annotations.empty()) {
    ojson annotations = ojson::object();
    for (const auto& text : flags.annotations) {
      TRY_ASSIGN(kv, parse_key_value(text, "--annotation"));
      annotations[kv.first] = kv.second;
    }
    spec["annotations"] = annotations;
  }
  add_cgroup(spec, flags);
  SecurityContext security{read_image_file(store, image, "/etc/group"), user.uid == 0, host_arch()};
  TRY(apply_security(spec, flags.security, security));
  return SpecResult{spec.dump(2) + "\n", args, config.stop_signal.empty() ? "SIGTERM" : config.stop_signal,
                    config.labels};
}

}  // namespace ctr::cmd
