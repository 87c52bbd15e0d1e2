#include "runtime/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/cgroup_freeze.h"
#include "runtime/cgroup_setup.h"
#include "userns/idmap.h"

namespace ctr {

namespace {

constexpr size_t kMaxIdLength = 1024;

Error missing_container(const std::string& id) {
  return Error{ENOENT, "container \"" + id + "\" does not exist"};
}

struct StatFields {
  char state = '?';
  uint64_t start_time = 0;
};

// /proc/PID/stat fields 3 (state) and 22 (start time), counted from the
// last ')' since the command name may contain anything.
std::optional<StatFields> read_stat(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return std::nullopt;
  auto fields = split(std::string_view(*stat).substr(paren + 2), ' ');
  if (fields.size() < 20 || fields[0].empty()) return std::nullopt;
  auto start = parse_u64(fields[19]);
  if (!start) return std::nullopt;
  return StatFields{fields[0][0], *start};
}

// 'Z' (zombie) or 'X' (dead): exited, only waiting to be reaped.
bool process_is_zombie(pid_t pid) {
  auto stat = read_stat(pid);
  return stat && (stat->state == 'Z' || stat->state == 'X');
}

// The `creating` marker: "PID START_TIME" of the creating process.
bool creator_alive(const std::string& marker_text) {
  auto fields = split(std::string(trim(marker_text)), ' ');
  if (fields.size() != 2) return false;
  auto pid = parse_i64(fields[0]);
  auto start = parse_u64(fields[1]);
  if (!pid || !start || *pid <= 0) return false;
  auto stat = read_stat(static_cast<pid_t>(*pid));
  return stat && stat->start_time == *start && stat->state != 'Z' && stat->state != 'X';
}

Status write_create_marker(const std::string& dir) {
  auto self = read_stat(::getpid());
  if (!self) return make_error("cannot read our own /proc/PID/stat", EIO);
  std::string path = dir + "/" + kCreateMarker;
  TRY_ASSIGN(fd, open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
  TRY_CTX(write_all(fd.get(), std::to_string(::getpid()) + " " + std::to_string(self->start_time)),
          "write `" + path + "`");
  return {};
}

}  // namespace

const char* status_name(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::creating: return "creating";
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::stopped: return "stopped";
  }
  return "unknown";
}

std::string default_state_root() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  // XDG_RUNTIME_DIR is honoured as uid 0 too when that uid 0 is only the
  // owner of a user namespace (rootless podman runs its runtime that way, and
  // conmon does not pass USER): /run is not writable there.
  if (xdg && *xdg && userns::running_rootless()) return std::string(xdg) + "/ctr-runtime";
  if (::geteuid() != 0) return "/tmp/ctr-runtime-" + std::to_string(::geteuid());
  return "/run/ctr-runtime";
}

Status ensure_state_root(const std::string& root) {
  // One mkdir in the common case; the whole path only the first time.
  if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) TRY_CTX(mkdir_p(root, 0700), "create state root");
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) return sys_error("state root `" + root + "`");
  if (!S_ISDIR(st.st_mode)) return make_error("state root `" + root + "` is not a directory", ENOTDIR);
  // As root we may be pointed anywhere (--root); rootless, a dir owned by
  // someone else (e.g. pre-created in /tmp) would let them see and tamper
  // with our containers' state.
  if (::geteuid() != 0 && st.st_uid != ::geteuid())
    return make_error("state root `" + root + "` is owned by uid " + std::to_string(st.st_uid) +
                          ", not by you: remove it or pass --root",
                      EPERM);
  return {};
}

Status validate_container_id(std::string_view id) {
  std::string shown(id.substr(0, 64));
  if (id.size() > 64) shown += "...";
  if (id.empty()) return make_error("container id must not be empty", EINVAL);
  if (id == "." || id == "..") return make_error("invalid container id \"" + shown + "\"", EINVAL);
  if (id.size() > kMaxIdLength)
    return make_error("invalid container id \"" + shown + "\": longer than " + std::to_string(kMaxIdLength) +
                          " characters",
                      EINVAL);
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '+' || c == '-' || c == '.';
    if (!ok)
      return make_error("invalid container id \"" + shown + "\": only letters, digits and _ + - . are allowed",
                        EINVAL);
  }
  return {};
}

std::string container_dir(const std::string& root, const std::string& id) { return root + "/" + id; }

bool is_abandoned_create(const std::string& dir) {
  if (path_exists(dir + "/state.json")) return false;
  auto marker = read_file(dir + "/" + kCreateMarker);
  if (marker) return !creator_alive(*marker);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return false;
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return now.tv_sec - st.st_mtim.tv_sec >= kAbandonedCreateAge.count();
}

static Result<UniqueFd> open_locked_dir(const std::string& path, const std::string& id, int operation) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return missing_container(id);
    return sys_error("open `" + path + "`");
  }
  UniqueFd dir(fd);
  while (::flock(dir.get(), operation) != 0) {
    if (errno != EINTR) return sys_error("lock `" + path + "`");
  }
  // Whoever held the lock before us may have deleted the container.
  struct stat st;
  if (::fstat(dir.get(), &st) != 0) return sys_error("stat `" + path + "`");
  if (st.st_nlink == 0) return missing_container(id);
  return dir;
}

Result<std::string> create_container_dir(const std::string& root, const std::string& id) {
  TRY(validate_container_id(id));
  TRY(ensure_state_root(root));
  std::string path = container_dir(root, id);
  for (int attempt = 0;; ++attempt) {
    // mkdir is the existence check: two creates of one id cannot both win.
    if (::mkdir(path.c_str(), 0700) == 0) break;
    if (errno != EEXIST) return sys_error("create `" + path + "`");
    if (attempt == 0 && is_abandoned_create(path)) {
      TRY_CTX(remove_tree(path), "remove the leftovers of an interrupted create");
      continue;
    }
    return Error{EEXIST, "container \"" + id + "\" already exists"};
  }
  if (auto marked = write_create_marker(path); !marked) {
    (void)remove_tree(path);
    return std::move(marked).error();
  }
  return path;
}

void remove_create_marker(const std::string& dir) { ::unlink((dir + "/" + kCreateMarker).c_str()); }

Result<FileLock> lock_container_dir(const std::string& root, const std::string& id, FileLock::Mode mode) {
  TRY(validate_container_id(id));
  TRY_ASSIGN(dir, open_locked_dir(container_dir(root, id), id, mode == FileLock::Mode::shared ? LOCK_SH : LOCK_EX));
  return FileLock::adopt(std::move(dir));
}

// ordered_json: runc's key order, so `state` output reads the same.
static nlohmann::ordered_json common_json(const ContainerState& state, bool public_form) {
  nlohmann::ordered_json j;
  j["ociVersion"] = state.oci_version;
  j["id"] = state.id;
  j["pid"] = public_form && state.status == ContainerStatus::stopped ? 0 : state.pid;
  if (public_form) j["status"] = status_name(state.status);
  j["bundle"] = state.bundle;
  j["rootfs"] = state.rootfs;
  j["created"] = state.created;
  j["owner"] = state.owner;
  j["annotations"] = state.annotations;
  return j;
}

nlohmann::ordered_json state_to_file_json(const ContainerState& state) {
  auto j = common_json(state, false);
  j["init_process_start"] = state.start_time;
  return j;
}

nlohmann::ordered_json state_to_public_json(const ContainerState& state) { return common_json(state, true); }

Result<ContainerState> parse_state(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error("state.json: not a JSON object", EINVAL);
  ContainerState state;
  // nlohmann throws on type mismatches; convert at once (DESIGN.md, errors).
  try {
    state.oci_version = j.value("ociVersion", std::string(kOciVersion));
    state.id = j.at("id").get<std::string>();
    state.pid = j.at("pid").get<pid_t>();
    state.bundle = j.value("bundle", std::string());
    state.rootfs = j.value("rootfs", std::string());
    state.created = j.value("created", std::string());
    state.owner = j.value("owner", std::string());
    if (j.contains("annotations") && !j["annotations"].is_null())
      state.annotations = j["annotations"].get<std::map<std::string, std::string>>();
    state.start_time = j.value("init_process_start", uint64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("state.json: ") + e.what(), EINVAL);
  }
  return state;
}

Status write_state(const std::string& dir, const ContainerState& state) {
  auto text = state_to_file_json(state).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return write_file_atomic(dir + "/state.json", text, 0600, Durability::ephemeral);
}

std::string hook_state_json(const std::string& id, const std::string& bundle,
                            const std::map<std::string, std::string>& annotations, pid_t pid,
                            std::string_view status) {
  nlohmann::json j{{"ociVersion", kOciVersion}, {"id", id},          {"status", std::string(status)},
                   {"pid", pid},                {"bundle", bundle}, {"annotations", annotations}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ContainerStatus compute_status(pid_t pid, uint64_t saved_start_time, uint64_t current_start_time, bool zombie,
                               bool exec_fifo_exists) {
  if (pid <= 0 || current_start_time == 0) return ContainerStatus::stopped;
  // Another process now has this pid: ours is gone.
  if (current_start_time != saved_start_time) return ContainerStatus::stopped;
  if (zombie) return ContainerStatus::stopped;
  // The init blocks on the fifo until start opens it and removes it.
  return exec_fifo_exists ? ContainerStatus::created : ContainerStatus::running;
}

ContainerStatus probe_status(const std::string& dir, const ContainerState& state, StartTimeFn start_time_of) {
  if (state.pid <= 0) return ContainerStatus::stopped;
  uint64_t now = start_time_of(state.pid);
  if (now == 0 || now != state.start_time) return ContainerStatus::stopped;
  auto status = compute_status(state.pid, state.start_time, now, process_is_zombie(state.pid),
                               path_exists(dir + "/exec.fifo"));
  // crun's rule: a running container whose cgroup is asked to freeze is paused.
  if (status == ContainerStatus::running) {
    auto cgroup = cgroup::load_container_cgroup(dir);
    if (cgroup && cgroup::freeze_requested(cgroup->dir)) return ContainerStatus::paused;
  }
  return status;
}

static Result<ContainerState> load_from_dir(const std::string& dir, const std::string& id,
                                            StartTimeFn start_time_of) {
  auto text = read_file(dir + "/state.json");
  if (!text) {
    if (text.error().code == ENOENT || text.error().code == ENOTDIR) return missing_container(id);
    return std::move(text).error();
  }
  auto state = parse_state(*text);
  if (!state) return std::move(state).error().context("container \"" + id + "\"");
  state->status = probe_status(dir, *state, start_time_of);
  return state;
}

Result<ContainerState> load_container(const std::string& root, const std::string& id, StartTimeFn start_time_of) {
  TRY(validate_container_id(id));
  return load_from_dir(container_dir(root, id), id, start_time_of);
}

Result<std::vector<ContainerState>> list_containers(const std::string& root, StartTimeFn start_time_of) {
  std::vector<ContainerState> states;
  DIR* dir = ::opendir(root.c_str());
  if (!dir) {
    if (errno == ENOENT) return states;
    return sys_error("open state root `" + root + "`");
  }
  std::vector<std::string> ids;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
    std::string name = entry->d_name;
    if (validate_container_id(name).ok()) ids.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) {
    // No state.json yet (or ever, for a killed create): not a container.
    auto state = load_from_dir(container_dir(root, id), id, start_time_of);
    if (state) states.push_back(std::move(*state));
  }
  return states;
}

Result<UniqueFd> open_init_pidfd(const ContainerState& state, StartTimeFn start_time_of) {
  Error gone{ESRCH, "container \"" + state.id + "\": init process " + std::to_string(state.pid) + " is gone"};
  if (state.pid <= 0) return gone;
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return gone;
    return sys_error("pidfd_open " + std::to_string(state.pid));
  }
  UniqueFd pidfd(fd);
  // Checked after opening: if the pid was reused before the open, the start
  // time differs now; if it is reused after, the fd still names our process.
  if (start_time_of(state.pid) != state.start_time) return gone;
  return pidfd;
}

// Days since 1970-01-01 -> civil date (proleptic Gregorian), after Howard
// Hinnant's days_from_civil inverse. Done by hand because glibc's gmtime_r
// reads /etc/localtime on first use, and `run` is timed.
static void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2);
}

std::string format_rfc3339_nano(const timespec& ts) {
  int64_t secs = ts.tv_sec;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(year), month, day,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out = buf;
  if (ts.tv_nsec > 0) {
    std::snprintf(buf, sizeof buf, ".%09ld", static_cast<long>(ts.tv_nsec));
    std::string fraction = buf;
    while (fraction.back() == '0') fraction.pop_back();
    out += fraction;
  }
  return out + "Z";
}

std::string now_rfc3339_nano() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return format_rfc3339_nano(ts);
}

std::string current_user_name() {
  uid_t uid = ::geteuid();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<size_t>(size) : 16384, '\0');
  passwd pw;
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_name)
    return found->pw_name;
  return std::to_string(uid);
}

}  // namespace ctr
