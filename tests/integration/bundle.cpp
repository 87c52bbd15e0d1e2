#include "tests/integration/bundle.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "runtime/base/files.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

// linux/capability.h order, CAP_CHOWN = 0 .. CAP_CHECKPOINT_RESTORE = 40.
constexpr std::array<const char*, 41> kCapabilityNames = {"CAP_CHOWN",
                                                          "CAP_DAC_OVERRIDE",
                                                          "CAP_DAC_READ_SEARCH",
                                                          "CAP_FOWNER",
                                                          "CAP_FSETID",
                                                          "CAP_KILL",
                                                          "CAP_SETGID",
                                                          "CAP_SETUID",
                                                          "CAP_SETPCAP",
                                                          "CAP_LINUX_IMMUTABLE",
                                                          "CAP_NET_BIND_SERVICE",
                                                          "CAP_NET_BROADCAST",
                                                          "CAP_NET_ADMIN",
                                                          "CAP_NET_RAW",
                                                          "CAP_IPC_LOCK",
                                                          "CAP_IPC_OWNER",
                                                          "CAP_SYS_MODULE",
                                                          "CAP_SYS_RAWIO",
                                                          "CAP_SYS_CHROOT",
                                                          "CAP_SYS_PTRACE",
                                                          "CAP_SYS_PACCT",
                                                          "CAP_SYS_ADMIN",
                                                          "CAP_SYS_BOOT",
                                                          "CAP_SYS_NICE",
                                                          "CAP_SYS_RESOURCE",
                                                          "CAP_SYS_TIME",
                                                          "CAP_SYS_TTY_CONFIG",
                                                          "CAP_MKNOD",
                                                          "CAP_LEASE",
                                                          "CAP_AUDIT_WRITE",
                                                          "CAP_AUDIT_CONTROL",
                                                          "CAP_SETFCAP",
                                                          "CAP_MAC_OVERRIDE",
                                                          "CAP_MAC_ADMIN",
                                                          "CAP_SYSLOG",
                                                          "CAP_WAKE_ALARM",
                                                          "CAP_BLOCK_SUSPEND",
                                                          "CAP_AUDIT_READ",
                                                          "CAP_PERFMON",
                                                          "CAP_BPF",
                                                          "CAP_CHECKPOINT_RESTORE"};

json single_id_map(uint32_t host_id) {
  return json::array({{{"containerID", 0}, {"hostID", host_id}, {"size", 1}}});
}

json default_config(const std::string& rootfs) {
  json caps = default_capabilities();
  return {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps},
          {"effective", caps},
          {"permitted", caps},
          {"inheritable", json::array()},
          {"ambient", json::array()}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", rootfs}, {"readonly", true}}},
      {"hostname", "ctr-itest"},
      {"mounts", json::array({
                     {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                     {{"destination", "/dev"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
                     {{"destination", "/dev/pts"},
                      {"type", "devpts"},
                      {"source", "devpts"},
                      {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
                     {{"destination", "/dev/shm"},
                      {"type", "tmpfs"},
                      {"source", "shm"},
                      {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
                     {{"destination", "/dev/mqueue"},
                      {"type", "mqueue"},
                      {"source", "mqueue"},
                      {"options", {"nosuid", "noexec", "nodev"}}},
                     {{"destination", "/sys"},
                      {"type", "none"},
                      {"source", "/sys"},
                      {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}},
                     {{"destination", "/tmp"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "nodev", "mode=1777"}}},
                 })},
      {"linux",
       {{"uidMappings", single_id_map(::getuid())},
        {"gidMappings", single_id_map(::getgid())},
        {"namespaces",
         json::array(
             {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "user"}}})},
        {"maskedPaths",
         {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
          "/proc/timer_list", "/proc/timer_stats", "/proc/interrupts", "/sys/firmware", "/sys/fs/selinux",
          "/sys/devices/virtual/powercap"}},
        {"readonlyPaths", {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
}

}  // namespace

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
                                                "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
                                                "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};
  return caps;
}

int capability_number(const std::string& name) {
  for (size_t i = 0; i < kCapabilityNames.size(); ++i) {
    if (name == kCapabilityNames[i]) return static_cast<int>(i);
  }
  return -1;
}

std::string capability_mask(const std::vector<std::string>& names) {
  unsigned long long mask = 0;
  for (const auto& name : names) {
    int bit = capability_number(name);
    if (bit < 0) throw std::invalid_argument("unknown capability " + name);
    mask |= 1ULL << bit;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", mask);
  return text;
}

Bundle::Bundle(std::string dir, const std::string& rootfs) : dir_(std::move(dir)), config_(default_config(rootfs)) {
  (void)mkdir_p(dir_, 0700);
}

Bundle& Bundle::args(std::vector<std::string> argv) {
  process()["args"] = std::move(argv);
  return *this;
}

Bundle& Bundle::shell(const std::string& script) {
  return args({"sh", "-c", script});
}

Bundle& Bundle::env(const std::string& key_value) {
  auto key = key_value.substr(0, key_value.find('=') + 1);
  auto& list = process()["env"];
  for (auto& entry : list) {
    if (entry.get<std::string>().rfind(key, 0) == 0) {
      entry = key_value;
      return *this;
    }
  }
  list.push_back(key_value);
  return *this;
}

Bundle& Bundle::cwd(const std::string& path) {
  process()["cwd"] = path;
  return *this;
}

Bundle& Bundle::hostname(const std::string& name) {
  config_["hostname"] = name;
  return *this;
}

Bundle& Bundle::user(uint32_t uid, uint32_t gid, std::vector<uint32_t> additional_gids) {
  process()["user"] = {{"uid", uid}, {"gid", gid}};
  if (!additional_gids.empty()) process()["user"]["additionalGids"] = additional_gids;
  return *this;
}

Bundle& Bundle::terminal(bool on, std::optional<std::pair<unsigned, unsigned>> rows_cols) {
  process()["terminal"] = on;
  if (rows_cols) process()["consoleSize"] = {{"height", rows_cols->first}, {"width", rows_cols->second}};
  return *this;
}

Bundle& Bundle::capabilities(const std::vector<std::string>& names) {
  json caps = names;
  process()["capabilities"] = {{"bounding", caps},
                               {"effective", caps},
                               {"permitted", caps},
                               {"inheritable", json::array()},
                               {"ambient", json::array()}};
  return *this;
}

Bundle& Bundle::rlimit(const std::string& type, uint64_t soft, uint64_t hard) {
  process()["rlimits"].push_back({{"type", type}, {"soft", soft}, {"hard", hard}});
  return *this;
}

Bundle& Bundle::no_new_privileges(bool on) {
  process()["noNewPrivileges"] = on;
  return *this;
}

Bundle& Bundle::root(const std::string& path, bool readonly) {
  config_["root"] = {{"path", path}, {"readonly", readonly}};
  return *this;
}

Bundle& Bundle::add_mount(json mount) {
  config_["mounts"].push_back(std::move(mount));
  return *this;
}

Bundle& Bundle::tmpfs(const std::string& destination, std::vector<std::string> options) {
  remove_mount(destination);
  return add_mount({{"destination", destination}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
}

Bundle& Bundle::bind(const std::string& source, const std::string& destination, bool readonly) {
  json options = {"rbind"};
  if (readonly) options.push_back("ro");
  return add_mount({{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}});
}

Bundle& Bundle::remove_mount(const std::string& destination) {
  auto& mounts = config_["mounts"];
  for (auto it = mounts.begin(); it != mounts.end();) {
    it = (*it)["destination"] == destination ? mounts.erase(it) : it + 1;
  }
  return *this;
}

Bundle& Bundle::add_namespace(const std::string& type, const std::string& path) {
  remove_namespace(type);
  json ns = {{"type", type}};
  if (!path.empty()) ns["path"] = path;
  config_["linux"]["namespaces"].push_back(ns);
  return *this;
}

Bundle& Bundle::remove_namespace(const std::string& type) {
  auto& list = config_["linux"]["namespaces"];
  for (auto it = list.begin(); it != list.end();) it = (*it)["type"] == type ? list.erase(it) : it + 1;
  return *this;
}

Bundle& Bundle::network_namespace() {
  add_namespace("network");
  remove_mount("/sys");
  // Keep /sys before the mounts that tests add after it.
  auto& mounts = config_["mounts"];
  json sysfs = {{"destination", "/sys"},
                {"type", "sysfs"},
                {"source", "sysfs"},
                {"options", {"nosuid", "noexec", "nodev", "ro"}}};
  mounts.insert(mounts.begin() + 1, sysfs);
  return *this;
}

Bundle& Bundle::uid_mappings(json mappings) {
  config_["linux"]["uidMappings"] = std::move(mappings);
  return *this;
}

Bundle& Bundle::gid_mappings(json mappings) {
  config_["linux"]["gidMappings"] = std::move(mappings);
  return *this;
}

Bundle& Bundle::multi_range_maps() {
  auto subuid = subordinate_range("/etc/subuid").value_or(SubidRange{});
  auto subgid = subordinate_range("/etc/subgid").value_or(SubidRange{});
  uid_mappings(json::array({{{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}},
                            {{"containerID", 1}, {"hostID", subuid.start}, {"size", 65536}}}));
  return gid_mappings(json::array({{{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}},
                                   {{"containerID", 1}, {"hostID", subgid.start}, {"size", 65536}}}));
}

Bundle& Bundle::masked_paths(std::vector<std::string> paths) {
  config_["linux"]["maskedPaths"] = std::move(paths);
  return *this;
}

Bundle& Bundle::readonly_paths(std::vector<std::string> paths) {
  config_["linux"]["readonlyPaths"] = std::move(paths);
  return *this;
}

Bundle& Bundle::seccomp(json profile) {
  config_["linux"]["seccomp"] = std::move(profile);
  return *this;
}

Bundle& Bundle::hooks(json hooks) {
  config_["hooks"] = std::move(hooks);
  return *this;
}

std::string Bundle::write() const {
  auto status = write_file_atomic(dir_ + "/config.json", config_.dump(2) + "\n");
  if (!status) throw std::runtime_error(status.error().message);
  return dir_;
}

}  // namespace ctr::itest
