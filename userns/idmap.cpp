#include "userns/idmap.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "userns/subid.h"

namespace ctr::userns {

namespace {

// The kernel accepts at most this many lines in one uid_map/gid_map write
// (UID_GID_MAP_MAX_EXTENTS, since Linux 4.15).
constexpr size_t kMaxExtents = 340;

constexpr uint64_t kIdLimit = 0xFFFFFFFFull;  // (uint32_t)-1 is never a valid id

std::string describe_range(const IdRange& r) {
  return "`" + std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count) + "`";
}

bool overlaps(uint32_t a_start, uint32_t b_start, uint32_t count_a, uint32_t count_b) {
  uint64_t a_end = uint64_t{a_start} + count_a, b_end = uint64_t{b_start} + count_b;
  return a_start < b_end && b_start < a_end;
}

// Searches PATH, then the usual system directories: newuidmap lives in
// /usr/bin, but sudo or cron may run us with a PATH that lacks it.
std::string find_helper(const std::string& name) {
  const char* env_path = std::getenv("PATH");
  std::vector<std::string> dirs = split(env_path ? env_path : "", ':');
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) dirs.emplace_back(dir);
  for (const auto& dir : dirs) {
    if (dir.empty() || dir[0] != '/') continue;  // relative PATH entries are a trap for a setuid helper
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

Status write_directly(pid_t pid, IdKind kind, const IdMap& map, bool deny_setgroups) {
  const char* file = kind == IdKind::uid ? "uid_map" : "gid_map";
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  // The kernel takes the whole map in a single write(2) at offset 0.
  auto written = write_file(path, format_id_map(map));
  if (written.ok()) return {};
  Error err = std::move(written).error();
  if (err.code == EPERM && kind == IdKind::gid && !deny_setgroups)
    err.message += " (an unprivileged process may only write a gid map after writing \"deny\" to setgroups)";
  return err;
}

std::string helper_hint(IdKind kind, const std::string& helper) {
  bool uid = kind == IdKind::uid;
  std::string user = user_name(::geteuid());
  std::string file = uid ? "/etc/subuid" : "/etc/subgid";
  return "check that " + file + " has a range for `" + user + "` (usermod --add-sub" + (uid ? "uids" : "gids") +
         " 100000-165535 " + user + ") and that " + helper +
         " is setuid root or has file capabilities (setcap cap_set" + (uid ? "uid" : "gid") + "+ep " + helper + ")";
}

// A newuidmap/newgidmap run in flight: started, not yet waited for.
struct HelperRun {
  std::string helper, command;
  IdKind kind;
  ChildProcess child;
  UniqueFd output;  // its stdout + stderr
};

Result<HelperRun> start_helper(pid_t pid, IdKind kind, const IdMap& map) {
  const char* name = kind == IdKind::uid ? "newuidmap" : "newgidmap";
  std::string helper = find_helper(name);
  if (helper.empty())
    return make_error(std::string(name) + " not found: install the uidmap package (apt-get install uidmap)", ENOENT);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd output_read(fds[0]), output_write(fds[1]);
  SpawnOptions options;
  options.stdout_fd = output_write.get();
  options.stderr_fd = output_write.get();
  auto argv = id_map_helper_argv(helper, pid, map);
  TRY_ASSIGN(child, spawn_process(argv, options));
  // output_write closes on return, so reading the output ends when the helper exits.
  return HelperRun{helper, join(argv, " "), kind, std::move(child), std::move(output_read)};
}

Status finish_helper(HelperRun& run) {
  auto output = read_fd(run.output.get());
  TRY_ASSIGN(status, run.child.wait(std::chrono::seconds(30)));
  if (!status.timed_out && status.signal == 0 && status.code == 0) return {};
  std::string text = output ? std::string(trim(*output)) : std::string();
  return make_error("`" + run.command + "` " + status.describe() + (text.empty() ? "" : ": " + text) + "; " +
                        helper_hint(run.kind, run.helper),
                    EPERM);
}

// CAP_SETUID/CAP_SETGID in our own namespace: enough to write any map for a
// child namespace, e.g. root of the store's namespace making a --userns=keep-id
// container (newuidmap would look up /etc/subuid for "root" there and fail).
bool has_setid_capability(IdKind kind) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  int cap = kind == IdKind::uid ? CAP_SETUID : CAP_SETGID;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

std::string map_context(pid_t pid, IdKind kind) {
  return std::string("write ") + (kind == IdKind::uid ? "uid map" : "gid map") + " of process " + std::to_string(pid);
}

// Validates the map; writes it directly when the kernel lets us (true), else
// leaves it to a helper (false).
Result<bool> write_map_if_direct(pid_t pid, IdKind kind, const IdMap& map, bool deny_setgroups) {
  TRY(validate_id_map(map, kind == IdKind::uid ? "uid map" : "gid map"));
  if (kind == IdKind::gid && deny_setgroups) {
    // Must precede the gid map: the kernel refuses "deny" once a map exists.
    TRY_CTX(write_file("/proc/" + std::to_string(pid) + "/setgroups", "deny"), map_context(pid, kind));
  }
  uint32_t own_id = kind == IdKind::uid ? ::geteuid() : ::getegid();
  if (!can_write_map_directly(map, own_id, may_write_any_map(kind))) return false;
  TRY_CTX(write_directly(pid, kind, map, deny_setgroups), map_context(pid, kind));
  return true;
}

}  // namespace

std::string format_id_map(const IdMap& map) {
  std::string out;
  for (const auto& r : map)
    out += std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count) + "\n";
  return out;
}

Status validate_id_map(const IdMap& map, const char* what) {
  std::string name = what;
  if (map.empty()) return make_error(name + ": no ranges", EINVAL);
  if (map.size() > kMaxExtents)
    return make_error(
        name + ": " + std::to_string(map.size()) + " ranges, the kernel accepts at most " + std::to_string(kMaxExtents),
        EINVAL);
  for (size_t i = 0; i < map.size(); ++i) {
    const IdRange& r = map[i];
    std::string here = name + "[" + std::to_string(i) + "] " + describe_range(r);
    if (r.count == 0) return make_error(here + ": count must be positive", EINVAL);
    if (uint64_t{r.inside} + r.count > kIdLimit || uint64_t{r.outside} + r.count > kIdLimit)
      return make_error(here + ": range goes past the largest id 4294967294", EINVAL);
    for (size_t j = 0; j < i; ++j) {
      const IdRange& other = map[j];
      bool inside = overlaps(r.inside, other.inside, r.count, other.count);
      if (!inside && !overlaps(r.outside, other.outside, r.count, other.count)) continue;
      return make_error(here + (inside ? ": inside" : ": outside") + " ids overlap those of " + name + "[" +
                            std::to_string(j) + "] " + describe_range(other),
                        EINVAL);
    }
  }
  return {};
}

bool may_write_any_map(IdKind kind) { return !running_rootless() || (::geteuid() == 0 && has_setid_capability(kind)); }

bool can_write_map_directly(const IdMap& map, uint32_t own_id, bool privileged) {
  if (privileged) return true;
  // Without CAP_SET[UG]ID in the parent namespace the kernel allows exactly
  // one line mapping our own id (user_namespaces(7), "Defining user and group ID mappings").
  return map.size() == 1 && map[0].count == 1 && map[0].outside == own_id;
}

std::vector<std::string> id_map_helper_argv(const std::string& helper, pid_t pid, const IdMap& map) {
  std::vector<std::string> argv{helper, std::to_string(pid)};
  for (const auto& r : map) {
    argv.push_back(std::to_string(r.inside));
    argv.push_back(std::to_string(r.outside));
    argv.push_back(std::to_string(r.count));
  }
  return argv;
}

Status write_id_map(pid_t pid, IdKind kind, const IdMap& map, bool deny_setgroups) {
  TRY_ASSIGN(direct, write_map_if_direct(pid, kind, map, deny_setgroups));
  if (direct) return {};
  TRY_ASSIGN(run, start_helper(pid, kind, map));
  TRY_CTX(finish_helper(run), map_context(pid, kind));
  return {};
}

Status write_id_maps(pid_t pid, const IdMap& uid_map, const IdMap& gid_map, bool deny_setgroups) {
  TRY_ASSIGN(uid_direct, write_map_if_direct(pid, IdKind::uid, uid_map, false));
  TRY_ASSIGN(gid_direct, write_map_if_direct(pid, IdKind::gid, gid_map, deny_setgroups));
  std::optional<HelperRun> uid_run, gid_run;
  // Both helpers at once: they are independent, and each is a setuid exec
  // on the path of every container start.
  if (!uid_direct) {
    TRY_ASSIGN(run, start_helper(pid, IdKind::uid, uid_map));
    uid_run.emplace(std::move(run));
  }
  if (!gid_direct) {
    auto run = start_helper(pid, IdKind::gid, gid_map);
    if (!run) {
      if (uid_run) (void)finish_helper(*uid_run);
      return std::move(run).error().context(map_context(pid, IdKind::gid));
    }
    gid_run.emplace(std::move(run).value());
  }
  Status uid_done = uid_run ? finish_helper(*uid_run) : Status{};
  Status gid_done = gid_run ? finish_helper(*gid_run) : Status{};
  TRY_CTX(uid_done, map_context(pid, IdKind::uid));
  TRY_CTX(gid_done, map_context(pid, IdKind::gid));
  return {};
}

bool running_rootless() {
  if (::geteuid() != 0) return true;
  // euid 0 may still be a mapped root inside someone else's user namespace;
  // only the identity map of the whole id space is the initial namespace.
  auto text = read_file("/proc/self/uid_map");
  if (!text) return false;  // no procfs to tell otherwise: trust euid
  std::vector<std::string> fields;
  for (const auto& part : split(trim(*text), ' '))
    if (!part.empty()) fields.push_back(part);
  return !(fields.size() == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295");
}

}  // namespace ctr::userns
