#include "runtime/cgroup_manager.h"

#include <unistd.h>

#include <algorithm>

#include "runtime/base/strings.h"
#include "runtime/cgroup_systemd.h"

namespace ctr::cgroup {

const char* manager_name(Manager manager) {
  switch (manager) {
    case Manager::systemd: return "systemd";
    case Manager::cgroupfs: return "cgroupfs";
    case Manager::none: return "none";
  }
  return "none";
}

Result<Manager> parse_manager(const std::string& text) {
  if (text == "systemd") return Manager::systemd;
  if (text == "cgroupfs") return Manager::cgroupfs;
  if (text == "none") return Manager::none;
  return make_error("invalid cgroup manager `" + text + "`: use systemd, cgroupfs or none", EINVAL);
}

Result<CgroupsMode> parse_cgroups_mode(const std::string& text) {
  if (text == "enabled") return CgroupsMode::enabled;
  if (text == "disabled") return CgroupsMode::disabled;
  if (text == "split") return CgroupsMode::split;
  if (text == "no-conmon")
    return make_error("--cgroups=no-conmon is not supported: the shim always shares the container's scope; use "
                      "enabled, disabled or split",
                      EINVAL);
  return make_error("invalid --cgroups value `" + text + "`: use enabled, disabled or split", EINVAL);
}

ManagerInputs probe_manager_inputs(const Host& host) {
  ManagerInputs in;
  in.layout = host.layout;
  if (host.v2_mount.empty()) return in;
  std::string own = host.own_dir();
  // A sub-cgroup needs write access to our cgroup (mkdir) and to its
  // cgroup.procs (moving a process is checked against the common ancestor).
  in.own_writable = ::access(own.c_str(), W_OK) == 0 && ::access((own + "/cgroup.procs").c_str(), W_OK) == 0;
  in.user_bus = user_bus_available();
  return in;
}

namespace {

std::string no_cgroup_reason(const ManagerInputs& in) {
  if (in.layout == Layout::v1) return "cgroup v1 only: containers run without a cgroup";
  if (in.layout == Layout::none) return "no cgroup file system mounted: containers run without a cgroup";
  return "no systemd user bus and no delegated cgroup v2 subtree writable by this user: containers run without a "
         "cgroup";
}

}  // namespace

Result<ManagerChoice> choose_manager(const ManagerInputs& in, std::optional<Manager> requested) {
  bool v2 = in.layout == Layout::v2 || in.layout == Layout::hybrid;
  if (requested == Manager::none) return ManagerChoice{Manager::none, "--cgroup-manager none"};
  if (requested == Manager::systemd) {
    if (!v2) return make_error("--cgroup-manager systemd needs cgroup v2 (" + no_cgroup_reason(in) + ")", ENOTSUP);
    if (!in.user_bus)
      return make_error("--cgroup-manager systemd: the systemd user bus is not reachable (no user session: log in "
                        "with systemd-logind, or use --cgroup-manager cgroupfs|none)",
                        ENOTCONN);
    return ManagerChoice{Manager::systemd, "--cgroup-manager systemd"};
  }
  if (requested == Manager::cgroupfs) {
    if (!v2 || !in.own_writable)
      return make_error("--cgroup-manager cgroupfs: our cgroup v2 subtree is not delegated to this user (" +
                            no_cgroup_reason(in) + ")",
                        EACCES);
    return ManagerChoice{Manager::cgroupfs, "--cgroup-manager cgroupfs"};
  }
  if (v2 && in.user_bus) return ManagerChoice{Manager::systemd, "systemd user bus reachable, cgroup v2"};
  if (v2 && in.own_writable)
    return ManagerChoice{Manager::cgroupfs, "no systemd user bus, but our cgroup v2 subtree is writable"};
  return ManagerChoice{Manager::none, no_cgroup_reason(in)};
}

Result<ManagerChoice> choose_for_container(const ManagerChoice& global, const ManagerInputs& in, CgroupsMode mode) {
  switch (mode) {
    case CgroupsMode::enabled: return global;
    case CgroupsMode::disabled: return ManagerChoice{Manager::none, "--cgroups=disabled"};
    case CgroupsMode::split:
      if ((in.layout != Layout::v2 && in.layout != Layout::hybrid) || !in.own_writable)
        return make_error("--cgroups=split: our own cgroup is not delegated to this user (run inside a unit with "
                          "Delegate=yes)",
                          EACCES);
      return ManagerChoice{Manager::cgroupfs, "--cgroups=split: below our own delegated cgroup"};
  }
  return global;
}

Error limits_need_cgroup(const std::vector<std::string>& controllers, const std::string& why) {
  return make_error("cannot enforce the requested limits (" + join(controllers, ", ") + " controller" +
                        (controllers.size() == 1 ? "" : "s") + "): " + why +
                        "; delegate them with a drop-in /etc/systemd/system/user@.service.d/delegate.conf "
                        "containing [Service] Delegate=cpu cpuset io memory pids, or drop the limit flags",
                    ENOTSUP);
}

std::vector<std::string> missing_controllers(const std::vector<std::string>& needed,
                                             const std::vector<std::string>& available) {
  std::vector<std::string> out;
  for (const auto& c : needed)
    if (std::find(available.begin(), available.end(), c) == available.end()) out.push_back(c);
  return out;
}

}  // namespace ctr::cgroup
