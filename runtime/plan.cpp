// The create/run plan: namespaces, root filesystem, devices, hooks.
#include "runtime/plan.h"

#include <fcntl.h>
#include <algorithm>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/mount_options.h"
#include "userns/idmap.h"

namespace ctr {
namespace {

using spec::NamespaceType;

int clone_flag(NamespaceType type) {
  switch (type) {
    case NamespaceType::pid: return CLONE_NEWPID;
    case NamespaceType::network: return CLONE_NEWNET;
    case NamespaceType::mount: return CLONE_NEWNS;
    case NamespaceType::ipc: return CLONE_NEWIPC;
    case NamespaceType::uts: return CLONE_NEWUTS;
    case NamespaceType::user: return CLONE_NEWUSER;
    case NamespaceType::cgroup: return CLONE_NEWCGROUP;
    case NamespaceType::time: return CLONE_NEWTIME;
  }
  return 0;
}

bool creates(const spec::Spec& spec, NamespaceType type) {
  const spec::Namespace* ns = spec.linux.find_namespace(type);
  return ns && ns->path.empty();
}

Status plan_namespaces(PlanStorage& storage, const spec::Spec& spec, bool in_user_namespace) {
  child::Plan& plan = storage.plan;
  std::vector<child::JoinStep> joins;
  // The user namespace is joined first: it grants the rights to join the rest.
  auto ordered = spec.linux.namespaces;
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const spec::Namespace& ns) { return ns.type == NamespaceType::user; });
  for (const auto& ns : ordered) {
    const char* name = spec::namespace_type_name(ns.type);
    if (ns.type == NamespaceType::time)
      return make_error("linux.namespaces: time namespaces are not supported by ctr-runtime yet", ENOTSUP);
    if (ns.path.empty() && ns.type == NamespaceType::cgroup) {
      plan.unshare_cgroup = true;  // after the runtime placed us (see child::Plan)
      continue;
    }
    if (ns.path.empty()) {
      plan.clone_flags |= static_cast<unsigned long>(clone_flag(ns.type));
      continue;
    }
    auto fd = open_fd(ns.path, O_RDONLY);
    if (!fd) return std::move(fd).error().context(std::string("linux.namespaces: ") + name + " namespace path");
    joins.push_back({fd->get(), clone_flag(ns.type), storage.keep(name)});
    storage.namespace_fds.push_back(std::move(*fd));
    if (ns.type == NamespaceType::pid) plan.join_pid = true;
  }
  plan.joins = storage.keep_span(std::move(joins));
  plan.wait_for_maps = creates(spec, NamespaceType::user);
  plan.loopback_up = creates(spec, NamespaceType::network);
  plan.user_namespace = in_user_namespace;
  if (!spec.linux.find_namespace(NamespaceType::mount))
    return make_error("linux.namespaces: a mount namespace is required to set up the rootfs", EINVAL);
  if (!spec.hostname.empty() && !creates(spec, NamespaceType::uts))
    return make_error("hostname: setting a hostname needs a new uts namespace in linux.namespaces", EINVAL);
  if (plan.wait_for_maps && spec.linux.uid_mappings.empty())
    return make_error("linux.uidMappings: a new user namespace needs uidMappings", EINVAL);
  if (plan.wait_for_maps && spec.linux.gid_mappings.empty())
    return make_error("linux.gidMappings: a new user namespace needs gidMappings", EINVAL);
  return {};
}

bool gid_mapped(const spec::Spec& spec, uint32_t gid) {
  if (!creates(spec, NamespaceType::user)) return true;  // the caller's namespace maps what it maps
  for (const auto& m : spec.linux.gid_mappings)
    if (gid >= m.container_id && gid - m.container_id < m.size) return true;
  return false;
}

// devpts refuses gid=N when N has no mapping (single-ID rootless maps):
// drop the option, as crun does, rather than fail.
std::string devpts_data(const spec::Spec& spec, const std::string& data) {
  std::vector<std::string> kept;
  for (auto& option : split(data, ',')) {
    if (starts_with(option, "gid=")) {
      auto gid = parse_u64(option.substr(4));
      if (gid && !gid_mapped(spec, static_cast<uint32_t>(*gid))) continue;
    }
    if (!option.empty()) kept.push_back(option);
  }
  return join(kept, ",");
}

// Rootless, some filesystems can only be mounted with a namespace of our
// own; without one, the host's instance is bound instead.
const char* fallback_for(const spec::Spec& spec, const std::string& type, bool in_user_namespace) {
  if (!in_user_namespace) return nullptr;
  if (type == "sysfs") return "/sys";
  if (type == "cgroup" || type == "cgroup2") return "/sys/fs/cgroup";
  if (type == "mqueue") return "/dev/mqueue";
  if (type == "proc" && !creates(spec, NamespaceType::pid)) return "/proc";
  return nullptr;
}

Result<child::MountStep> plan_mount(PlanStorage& storage, const spec::Spec& spec, const spec::Mount& mount,
                                    size_t index, const std::string& bundle, bool in_user_namespace) {
  std::string field = "mounts[" + std::to_string(index) + "] (" + mount.destination + ")";
  auto options = parse_mount_options(mount.options);
  if (!options) return std::move(options).error().context(field);
  if (!mount.uid_mappings.empty() || options->idmap)
    return make_error(field + ": idmapped mounts are not supported by ctr-runtime yet", ENOTSUP);
  child::MountStep step;
  step.destination = storage.keep(mount.destination);
  step.flags = options->flags;
  step.propagation = options->propagation;
  step.attr_set = options->attr_set;
  step.attr_clr = options->attr_clr;
  step.bind = options->bind || mount.type == "bind";
  if (step.bind) {
    std::string source = mount.source.empty() || mount.source[0] == '/' ? mount.source : bundle + "/" + mount.source;
    struct stat st;
    if (source.empty() || ::stat(source.c_str(), &st) != 0)
      return make_error(field + ": bind source `" + source + "` does not exist", ENOENT);
    step.source = storage.keep(source);
    step.source_is_dir = S_ISDIR(st.st_mode);
    step.flags |= MS_BIND;
    return step;
  }
  static const char* const known_types[] = {"proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2",
                                            "overlay", "ramfs", "securityfs", "debugfs", "tracefs", "fuse",
                                            "binfmt_misc", "hugetlbfs", "bpf", "configfs", "none"};
  if (std::find(std::begin(known_types), std::end(known_types), mount.type) == std::end(known_types) &&
      !starts_with(mount.type, "fuse."))
    return make_error(field + ": unknown mount type `" + mount.type + "`", EINVAL);
  std::string type = mount.type == "cgroup" ? "cgroup2" : mount.type;  // cgroup v1 is not mounted in containers
  step.fstype = storage.keep(type);
  step.source = storage.keep(mount.source.empty() ? type : mount.source);
  std::string data = type == "devpts" ? devpts_data(spec, options->data) : options->data;
  step.data = data.empty() ? nullptr : storage.keep(data);
  step.fallback_bind_source = fallback_for(spec, type, in_user_namespace);
  bool own_netns = creates(spec, NamespaceType::network);
  if (type == "sysfs" && in_user_namespace && !own_netns) {
    // Known to fail (sysfs belongs to the host's network namespace): bind at once.
    step.bind = true;
    step.source = "/sys";
    step.flags |= MS_BIND | MS_REC;
  }
  return step;
}

void plan_default_devices(PlanStorage& storage, std::vector<child::DeviceStep>& devices, bool bind) {
  struct Default {
    const char* path;
    unsigned major, minor;
  };
  static const Default defaults[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                                     {"/dev/tty", 5, 0},    {"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}};
  for (const auto& d : defaults) {
    for (const auto& existing : devices)
      if (std::string(existing.path) == d.path) goto next;  // linux.devices wins
    devices.push_back({d.path, S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0, bind});
  next:;
  }
  (void)storage;
}

Result<std::vector<child::DeviceStep>> plan_devices(PlanStorage& storage, const spec::Spec& spec, bool bind,
                                                    bool default_devices) {
  std::vector<child::DeviceStep> devices;
  for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
    const auto& d = spec.linux.devices[i];
    mode_t kind = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = kind | (d.file_mode ? (*d.file_mode & 07777) : 0666);
    devices.push_back({storage.keep(d.path), mode, makedev(d.major, d.minor), d.uid.value_or(0), d.gid.value_or(0),
                       bind});
    if (bind && !path_exists(d.path))
      return make_error("linux.devices[" + std::to_string(i) + "]: `" + d.path +
                            "` must exist on the host to be bound into a rootless container",
                        ENOENT);
  }
  if (default_devices) plan_default_devices(storage, devices, bind);
  return devices;
}

std::vector<child::SymlinkStep> plan_dev_symlinks(const spec::Spec& spec) {
  std::vector<child::SymlinkStep> links = {{"/dev/fd", "/proc/self/fd"},
                                           {"/dev/stdin", "/proc/self/fd/0"},
                                           {"/dev/stdout", "/proc/self/fd/1"},
                                           {"/dev/stderr", "/proc/self/fd/2"}};
  if (path_exists("/proc/kcore")) links.push_back({"/dev/core", "/proc/kcore"});
  for (const auto& m : spec.mounts)
    if (m.destination == "/dev/pts" && m.type == "devpts") links.push_back({"/dev/ptmx", "pts/ptmx"});
  return links;
}

std::vector<child::HookStep> plan_hooks(PlanStorage& storage, const std::vector<spec::Hook>& hooks) {
  std::vector<child::HookStep> steps;
  for (const auto& hook : hooks) {
    std::vector<std::string> argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    steps.push_back({storage.keep(hook.path), storage.keep_argv(argv), storage.keep_argv(hook.env),
                     hook.timeout ? *hook.timeout * 1000 : 0});
  }
  return steps;
}

Status plan_rootfs(PlanStorage& storage, const spec::Spec& spec, const CreatePlanInputs& inputs, bool in_userns) {
  child::Plan& plan = storage.plan;
  plan.setup_rootfs = true;
  plan.rootfs = storage.keep(spec.root.path);
  plan.rootfs_readonly = spec.root.readonly;
  plan.no_pivot = inputs.no_pivot;
  const std::string& propagation = spec.linux.rootfs_propagation;
  if (!propagation.empty()) {
    auto parsed = parse_mount_options({propagation});
    if (!parsed) return std::move(parsed).error().context("linux.rootfsPropagation");
    plan.rootfs_propagation = parsed->propagation;
  }
  std::vector<child::MountStep> mounts;
  bool dev_mounted = false, dev_bound = false;
  const std::string& bundle = inputs.bundle;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    TRY_ASSIGN(step, plan_mount(storage, spec, spec.mounts[i], i, bundle, in_userns));
    if (spec.mounts[i].destination == "/dev") (step.bind ? dev_bound : dev_mounted) = true;
    mounts.push_back(step);
  }
  plan.mounts = storage.keep_span(std::move(mounts));
  bool default_devices = !dev_bound;  // a /dev bound from elsewhere already has its nodes
  TRY_ASSIGN(devices, plan_devices(storage, spec, in_userns, default_devices));
  plan.devices = storage.keep_span(std::move(devices));
  if (default_devices) plan.symlinks = storage.keep_span(plan_dev_symlinks(spec));
  (void)dev_mounted;
  std::vector<const char*> masked, readonly;
  for (const auto& p : spec.linux.masked_paths) masked.push_back(storage.keep(p));
  for (const auto& p : spec.linux.readonly_paths) readonly.push_back(storage.keep(p));
  plan.masked_paths = storage.keep_span(std::move(masked));
  plan.readonly_paths = storage.keep_span(std::move(readonly));
  return {};
}

void plan_settings(PlanStorage& storage, const spec::Spec& spec, const CreatePlanInputs& inputs) {
  child::Plan& plan = storage.plan;
  std::vector<child::SysctlStep> sysctls;
  for (const auto& [key, value] : spec.linux.sysctl) {
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    sysctls.push_back({storage.keep(path), storage.keep(value)});
  }
  plan.sysctls = storage.keep_span(std::move(sysctls));
  if (!spec.hostname.empty()) plan.hostname = storage.keep(spec.hostname);
  if (!spec.domainname.empty()) plan.domainname = storage.keep(spec.domainname);
  if (spec.linux.personality) plan.personality = static_cast<long>(*spec.linux.personality);
  if (inputs.new_keyring) plan.session_keyring = storage.keep("_ses." + inputs.id);
  plan.create_container_hooks = storage.keep_span(plan_hooks(storage, spec.hooks.create_container));
  plan.start_container_hooks = storage.keep_span(plan_hooks(storage, spec.hooks.start_container));
}

}  // namespace

bool setgroups_denied(const spec::Spec& spec) {
  if (!creates(spec, NamespaceType::user) || !userns::running_rootless()) return false;
  userns::IdMap map;
  for (const auto& m : spec.linux.gid_mappings) map.push_back({m.container_id, m.host_id, m.size});
  // With CAP_SETGID over the parent namespace no "deny" is needed (and it
  // would break setgroups in a --userns=keep-id container).
  if (userns::may_write_any_map(userns::IdKind::gid)) return false;
  return userns::can_write_map_directly(map, ::getegid(), false);
}


bool spec_creates_user_namespace(const spec::Spec& spec) { return creates(spec, NamespaceType::user); }

Result<std::unique_ptr<PlanStorage>> build_create_plan(const CreatePlanInputs& inputs) {
  const spec::Spec& spec = *inputs.spec;
  if (!spec.process) return make_error("process: the config has no process to run", EINVAL);
  auto storage = std::make_unique<PlanStorage>();
  bool in_userns = spec_creates_user_namespace(spec) || userns::running_rootless();
  TRY(plan_namespaces(*storage, spec, in_userns));
  TRY(plan_rootfs(*storage, spec, inputs, in_userns));
  plan_settings(*storage, spec, inputs);
  TRY(plan_process(*storage, *spec.process, spec, inputs.seccomp_cache_dir));
  storage->plan.setgroups_allowed = !setgroups_denied(spec);
  storage->plan.preserve_fds = inputs.preserve_fds;
  return storage;
}

}  // namespace ctr
