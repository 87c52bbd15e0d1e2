// The config.json that `ctr-runtime spec` writes: the same shape as
// `runc spec`, so bundles and habits carry over between runtimes.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/spec.h"

namespace ctr::spec {

namespace {

// ordered_json keeps runc's key order, so the file reads like runc's.
using ojson = nlohmann::ordered_json;

ojson default_process() {
  // Bounding, effective and permitted only: runc stopped granting inheritable
  // (and ambient) capabilities by default after CVE-2022-29162.
  const ojson caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", ojson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };
}

ojson mount(const char* destination, const char* type, const char* source, std::vector<std::string> options) {
  ojson m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = options;
  return m;
}

ojson default_mounts() {
  return ojson::array({
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
}

ojson default_linux() {
  ojson namespaces = ojson::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) namespaces.push_back({{"type", type}});
  return {
      // Deny every device in the devices cgroup; the runtime creates the
      // default ones explicitly.
      {"resources", {{"devices", ojson::array({{{"allow", false}, {"access", "rwm"}}})}}},
      {"namespaces", namespaces},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        // RAPL energy counters leak secrets through power side channels (CVE-2020-8694).
        "/sys/devices/virtual/powercap"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
}

// What runc's --rootless does: without privileges there is no new network
// namespace worth having (no way to configure it), no fresh sysfs (it needs a
// network namespace owned by our user namespace), no cgroup mount or device
// cgroup to manage, and no gid 5 (tty) to hand to devpts.
void make_rootless(ojson& spec) {
  ojson& linux = spec["linux"];
  ojson namespaces = ojson::array();
  for (const auto& ns : linux["namespaces"])
    if (ns["type"] != "network" && ns["type"] != "user") namespaces.push_back(ns);
  namespaces.push_back({{"type", "user"}});
  ojson kept = ojson::object();
  kept["uidMappings"] = ojson::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}});
  kept["gidMappings"] = ojson::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}});
  kept["namespaces"] = namespaces;
  kept["maskedPaths"] = linux["maskedPaths"];
  kept["readonlyPaths"] = linux["readonlyPaths"];
  linux = kept;  // drops "resources"

  ojson mounts = ojson::array();
  for (auto m : spec["mounts"]) {
    if (m["destination"] == "/sys/fs/cgroup") continue;
    if (m["destination"] == "/sys") {
      m = mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
    } else if (m.contains("options")) {
      ojson options = ojson::array();
      for (const auto& o : m["options"])
        if (o != "gid=5") options.push_back(o);
      m["options"] = options;
    }
    mounts.push_back(m);
  }
  spec["mounts"] = mounts;
}

}  // namespace

std::string default_spec_json(bool rootless) {
  ojson spec;
  spec["ociVersion"] = "1.1.0";
  spec["process"] = default_process();
  spec["root"] = {{"path", "rootfs"}, {"readonly", true}};
  spec["hostname"] = "ctr";
  spec["mounts"] = default_mounts();
  spec["linux"] = default_linux();
  if (rootless) make_rootless(spec);
  return spec.dump(2) + "\n";
}

}  // namespace ctr::spec
