#include "cmd/container_network.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "cmd/network_mode.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/network_helper.h"
#include "shim/records.h"

namespace ctr::cmd {
namespace {

// Checked at every start, not only at create: the helper may have been
// uninstalled since (and --network slirp4netns:OPTS is validated again).
Status check_network_helper(const NetworkMode& network) {
  if (!uses_network_helper(network)) return {};
  TRY(network_helper_arguments(network));
  if (network_helper_binary(network.kind).empty())
    return make_error("the container's network helper " + network_mode_name(network) +
                          " is not installed: install the passt package (pasta) or slirp4netns, or recreate the "
                          "container with --network=none",
                      ENOENT);
  return {};
}

// --network ns:PATH, rootless: the user namespace that owns that network
// namespace, when it is ours (made by ctr or `unshare -r`), must be the
// container's too, as for container:. An empty fd: nothing to join (the
// initial namespace, or someone else's: the runtime then reports EPERM).
Result<UniqueFd> owner_to_join(const std::string& netns_path) {
  TRY_ASSIGN(netns, open_fd(netns_path, O_RDONLY));
  UniqueFd owner(::ioctl(netns.get(), NS_GET_USERNS));
  if (!owner) return sys_error("--network ns:" + netns_path + ": find the user namespace that owns it");
  uid_t uid = 0;
  struct stat mine {}, theirs{};
  if (::ioctl(owner.get(), NS_GET_OWNER_UID, &uid) != 0 || uid != ::getuid()) return UniqueFd();
  if (::stat("/proc/self/ns/user", &mine) == 0 && ::fstat(owner.get(), &theirs) == 0 && mine.st_ino == theirs.st_ino)
    return UniqueFd();
  return owner;
}

// The user namespace of this process (its inode), 0 if unknown.
ino_t own_userns() {
  struct stat mine {};
  return ::stat("/proc/self/ns/user", &mine) == 0 ? mine.st_ino : 0;
}

// An open user namespace of ours (owned by our uid), but not the one we
// are in; an empty fd otherwise.
UniqueFd other_userns_of_ours(const std::string& ns_path) {
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  uid_t uid = 0;
  struct stat theirs {};
  if (!ns || ::fstat(ns.get(), &theirs) != 0 || theirs.st_ino == own_userns()) return UniqueFd();
  if (::ioctl(ns.get(), NS_GET_OWNER_UID, &uid) != 0 || uid != ::getuid()) return UniqueFd();
  return ns;
}

std::string joiners_dir(const image::Store& store, const std::string& id) {
  return container_dir(store, id) + "/network-joiners";
}

// The IDs of the containers that use `id`'s network (--network container:ID),
// from their markers (record_network_joiner): one failed open when there
// are none, where listing every record would cost each start.
std::vector<std::string> network_dependents(const image::Store& store, const std::string& id) {
  std::vector<std::string> ids;
  DIR* dir = ::opendir(joiners_dir(store, id).c_str());
  if (!dir) return ids;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    // A marker its container's removal missed names no record, or another target.
    auto other = find_record(store, name);
    if (!other) continue;
    NetworkMode mode = record_network_mode(other->network_mode, other->network_options);
    if (mode.kind == NetworkMode::Kind::container && mode.target == id) ids.push_back(other->id);
  }
  ::closedir(dir);
  return ids;
}

// A container that others joined (--network container:THIS) and that
// starts again (ctr restart, ctr start, its --restart policy) must own its
// new network namespace from the user namespace they are in: a network
// namespace can only be joined from the user namespace that owns it (or an
// ancestor), and their --restart relaunches run inside their user
// namespace. So while a process of one of them lives in a user namespace
// of ours (their shim, their exit command, their restart process: each
// names the container's ID on its command line, with no gap between them),
// this container starts in that user namespace instead of a new one.
// The fd holds it alive until the child has joined; empty: none found.
UniqueFd userns_of_network_dependents(const image::Store& store, const std::string& id) {
  std::vector<std::string> dependents = network_dependents(store, id);
  if (dependents.empty()) return UniqueFd();
  auto names_dependent = [&](const std::string& proc_dir) {
    auto cmdline = read_file(proc_dir + "/cmdline");
    if (!cmdline) return false;
    for (const auto& dependent : dependents)
      if (cmdline->find(dependent) != std::string::npos) return true;
    return false;
  };
  DIR* proc = ::opendir("/proc");
  if (!proc) return UniqueFd();
  UniqueFd found;
  while (dirent* entry = ::readdir(proc)) {
    if (!parse_u64(entry->d_name)) continue;
    std::string dir = "/proc/" + std::string(entry->d_name);
    if (!names_dependent(dir)) continue;
    UniqueFd ns = other_userns_of_ours(dir + "/ns/user");
    // Looked at again once the namespace is open: the pid was not reused
    // by another process in between.
    if (ns && names_dependent(dir)) {
      found = std::move(ns);
      break;
    }
  }
  ::closedir(proc);
  return found;
}

// The target of --network container:ID, running; the errors of `ctr start`.
Result<shim::ContainerStatus> running_target(const image::Store& store, const ContainerRecord& record,
                                             const std::string& target_id) {
  auto target = find_record(store, target_id);
  if (!target)
    return make_error("container " + record.name + " uses the network namespace of container " +
                          target_id.substr(0, 12) + ", which no longer exists: remove " + record.name +
                          " and create it again with another --network",
                      ENOENT);
  auto status = shim::read_container_status(shim_state_dir(target->id));
  if (!status || status->state != shim::ContainerState::running || status->pid <= 0 || status->shim_pid <= 0)
    return make_error("cannot join the network namespace of container " + target->name +
                          ": it is not running: start it first (ctr start " + target->name + ")",
                      ESRCH);
  return std::move(status).value();
}

}  // namespace

Result<NetworkJoin> prepare_container_network(const image::Store& store, const userns::StoreMaps& maps,
                                              const ContainerRecord& record) {
  NetworkMode network = record_network_mode(record.network_mode, record.network_options);
  TRY(check_network_helper(network));
  NetworkJoin join;
  if (network.kind == NetworkMode::Kind::container) {
    TRY_ASSIGN(shim_pid, prepare_network_join(store, record, network.target));
    join.userns = "/proc/" + std::to_string(shim_pid) + "/ns/user";
  } else if (network.kind == NetworkMode::Kind::ns && !maps.uid.empty()) {
    TRY_ASSIGN(fd, owner_to_join(network.target));
    join.owner = std::move(fd);
  } else if (network.kind != NetworkMode::Kind::host && !maps.uid.empty()) {
    join.owner = userns_of_network_dependents(store, record.id);
  }
  if (join.owner) join.userns = "/proc/self/fd/" + std::to_string(join.owner.get());
  return join;
}

Result<pid_t> prepare_network_join(const image::Store& store, const ContainerRecord& record,
                                   const std::string& target_id) {
  TRY_ASSIGN(status, running_target(store, record, target_id));
  TRY(set_spec_network_path(container_dir(store, record.id), "/proc/" + std::to_string(status.pid) + "/ns/net"));
  return status.shim_pid;
}

Status prepare_relaunch_network(const image::Store& store, const ContainerRecord& record,
                                std::chrono::milliseconds wait) {
  NetworkMode network = record_network_mode(record.network_mode, record.network_options);
  if (network.kind != NetworkMode::Kind::container) return {};
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto target = running_target(store, record, network.target);
  // The target may be restarting itself (ctr restart, its own policy):
  // polled, as there is nothing to wait on across user namespaces.
  while (!target && target.error().code == ESRCH && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    target = running_target(store, record, network.target);
  }
  if (!target) return std::move(target).error();
  std::string netns = "/proc/" + std::to_string(target->pid) + "/ns/net";
  TRY_ASSIGN(netns_fd, open_fd(netns, O_RDONLY));
  UniqueFd owner(::ioctl(netns_fd.get(), NS_GET_USERNS));
  struct stat theirs {};
  if (!owner || ::fstat(owner.get(), &theirs) != 0) return sys_error("find the user namespace that owns " + netns);
  if (theirs.st_ino != own_userns())
    return make_error("cannot join the network namespace of container " + network.target.substr(0, 12) +
                          ": it was started again in a user namespace container " + record.name +
                          " cannot enter: start " + record.name + " again (ctr start " + record.name + ")",
                      EPERM);
  return set_spec_network_path(container_dir(store, record.id), netns);
}

Status record_network_joiner(const image::Store& store, const ContainerRecord& joiner) {
  NetworkMode mode = record_network_mode(joiner.network_mode, joiner.network_options);
  if (mode.kind != NetworkMode::Kind::container) return {};
  std::string dir = joiners_dir(store, mode.target);
  TRY(mkdir_p(dir, 0700));
  return write_file_atomic(dir + "/" + joiner.id, "", 0600);
}

void forget_network_joiner(const image::Store& store, const ContainerRecord& joiner) {
  NetworkMode mode = record_network_mode(joiner.network_mode, joiner.network_options);
  if (mode.kind == NetworkMode::Kind::container)
    (void)::unlink((joiners_dir(store, mode.target) + "/" + joiner.id).c_str());
}

void set_network_helper_options(shim::ShimOptions& options, const ContainerRecord& record) {
  NetworkMode network = record_network_mode(record.network_mode, record.network_options);
  if (!uses_network_helper(network)) return;
  options.network_helper = network_mode_name(network);
  options.network_helper_bin = network_helper_binary(network.kind);
  if (auto args = network_helper_arguments(network)) options.network_helper_args = *args;
  options.port_handler = slirp4netns_port_handler(network);
  options.publish = record.ports;
}

void kill_leftover_network_helper(const std::string& state_dir) {
  auto text = read_file(state_dir + "/" + shim::kNetworkHelperPidFile);
  auto identity = text ? shim::parse_identity(*text) : Result<shim::ProcessIdentity>(text.error());
  if (!identity) return;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, identity->pid, 0)));
  // Checked after the pidfd is open: the pidfd then names that same process.
  if (!pidfd || !shim::identity_alive(*identity)) return;
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0) return;
  pollfd pfd{pidfd.get(), POLLIN, 0};
  while (::poll(&pfd, 1, 5000) < 0 && errno == EINTR) {
  }
}

}  // namespace ctr::cmd
