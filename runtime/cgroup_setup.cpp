#include "runtime/cgroup_setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/cgroup_systemd.h"

namespace ctr::cgroup {
namespace {

constexpr const char* kStateFile = "cgroup.json";

std::string parent_of(const std::string& dir) {
  auto slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(0, slash);
}

// Inside a cgroup we own (a delegated scope or our cgroupfs parent): the
// shim into `supervisor`, the init into `container`.
Result<std::string> split_leaves(const std::string& parent, pid_t supervisor, pid_t init,
                                 const std::vector<std::string>& controllers) {
  TRY_ASSIGN(shim_leaf, Cgroup::create(parent, "supervisor", {}));
  TRY(shim_leaf.add_pid(supervisor));
  TRY_ASSIGN(leaf, Cgroup::create(parent, "container", controllers));
  TRY(leaf.add_pid(init));
  return leaf.dir();
}

Result<ContainerCgroup> place_systemd(const spec::Spec& spec, const SystemdPath& path, const std::string& id,
                                      const Host& host, const Resources& resources, pid_t pid, bool supervisor) {
  ScopeRequest request;
  request.unit = path.unit();
  request.slice = path.slice;
  request.description = "ctr container " + id;
  request.pids = {pid};
  if (supervisor) request.pids.push_back(::getppid());
  request.resources = resources;
  (void)spec;
  auto started = start_scope(request);
  // A restart (--restart policy) is launched from the old shim's exit
  // command, inside the scope, which lives on until that shim exits: the
  // new shim and init join it through its leaves instead.
  if (!started && started.error().code == EEXIST && supervisor) started = scope_control_group(request.unit);
  if (!started) return std::move(started).error();
  std::string group = *started;
  ContainerCgroup placed{host.v2_mount + group, request.unit, host.v2_mount + group};
  if (!supervisor) return placed;
  // systemd applies the limits to the scope; the leaves need no controllers.
  auto leaf = split_leaves(placed.scope_dir, ::getppid(), pid, {});
  if (!leaf) {
    (void)stop_unit(request.unit);
    return std::move(leaf).error().context("split systemd scope " + request.unit);
  }
  placed.dir = *leaf;
  return placed;
}

Result<ContainerCgroup> place_cgroupfs(const std::string& cgroups_path, const Host& host, const Resources& resources,
                                       pid_t pid, bool supervisor) {
  std::string dir = resolve_cgroupfs_path(cgroups_path, host);
  auto controllers = controllers_for(resources);
  std::string relative = dir.substr(host.v2_mount.size());
  std::string scope = supervisor ? parent_of(relative) : relative;
  // The controllers reach ctr-ID too: its `container` leaf takes them from there.
  auto made = Cgroup::create(host.v2_mount, scope, controllers);
  if (!made && resources.empty() && (made.error().code == EACCES || made.error().code == EROFS ||
                                     made.error().code == EPERM)) {
    // Rootless without delegation and nothing to enforce: run without a
    // cgroup, as runc does.
    return ContainerCgroup{};
  }
  if (!made) return std::move(made).error().context("linux.cgroupsPath");
  ContainerCgroup placed{made->dir(), "", made->dir()};
  if (supervisor) {
    TRY_ASSIGN(leaf, split_leaves(made->dir(), ::getppid(), pid, controllers));
    placed.dir = leaf;
  } else {
    TRY(made->add_pid(pid));
  }
  TRY_CTX(Cgroup(placed.dir).apply(resources), "linux.resources");
  return placed;
}

}  // namespace

Result<ContainerCgroup> place_container(const spec::Spec& spec, const std::string& id, pid_t pid, bool systemd) {
  TRY_ASSIGN(resources, parse_resources(spec.linux.resources_json));
  const std::string& path = spec.linux.cgroups_path;
  if (path.empty()) {
    if (!resources.empty())
      return make_error("linux.resources: limits need a cgroup, but linux.cgroupsPath is empty", EINVAL);
    return ContainerCgroup{};
  }
  Host host = detect_host();
  if (host.v2_mount.empty()) {
    if (!resources.empty())
      return make_error("linux.resources: limits need cgroup v2, and no cgroup2 file system is mounted here", ENOTSUP);
    return ContainerCgroup{};  // cgroup v1: not managed, as crun does rootless
  }
  auto annotation = spec.annotations.find(kSupervisorAnnotation);
  bool supervisor = annotation != spec.annotations.end() && annotation->second == "parent";
  auto systemd_path = parse_systemd_path(path);
  if (systemd) {
    if (!systemd_path)
      return make_error("linux.cgroupsPath `" + path + "`: with --systemd-cgroup it must be slice:prefix:name",
                        EINVAL);
    return place_systemd(spec, *systemd_path, id, host, resources, pid, supervisor);
  }
  if (systemd_path)
    return make_error("linux.cgroupsPath `" + path + "` is a systemd path (slice:prefix:name): pass --systemd-cgroup",
                      EINVAL);
  return place_cgroupfs(path, host, resources, pid, supervisor);
}

Status save_container_cgroup(const std::string& state_dir, const ContainerCgroup& cgroup) {
  nlohmann::json j{{"dir", cgroup.dir}, {"unit", cgroup.unit}, {"scope_dir", cgroup.scope_dir}};
  return write_file_atomic(state_dir + "/" + kStateFile, j.dump(), 0600, Durability::ephemeral);
}

std::optional<ContainerCgroup> load_container_cgroup(const std::string& state_dir) {
  auto text = read_file(state_dir + "/" + kStateFile);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  ContainerCgroup cg{j.value("dir", ""), j.value("unit", ""), j.value("scope_dir", "")};
  if (cg.dir.empty()) return std::nullopt;
  return cg;
}

Status kill_container_cgroup(const ContainerCgroup& cgroup) {
  if (cgroup.dir.empty() || !path_exists(cgroup.dir)) return {};
  return Cgroup(cgroup.dir).kill_all();
}

Status destroy_container_cgroup(const ContainerCgroup& cgroup) {
  if (cgroup.dir.empty()) return {};
  // With a supervisor leaf the shim still lives beside the container (it
  // may be running this very delete as its exit command): remove only the
  // container's leaf; the scope ends when the shim does.
  if (cgroup.dir != cgroup.scope_dir) return Cgroup(cgroup.dir).remove();
  if (!cgroup.unit.empty()) return stop_unit(cgroup.unit);
  return Cgroup(cgroup.dir).remove();
}

}  // namespace ctr::cgroup
