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
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr {

namespace {

constexpr size_t kMaxIdLength = 1024;

Error missing_container(const std::string& id) {
  return Error{ENOENT, "container \"" + id + "\" does not exist"};
}

// runc honours XDG_RUNTIME_DIR as uid 0 too when that uid 0 is only the
// owner of a user namespace (rootless podman runs its runtime that way) and
// USER says we are someone else: /run is not writable there.
bool in_user_namespace() {
  auto map = read_file("/proc/self/uid_map");
  if (!map) return false;
  auto fields = split(std::string(trim(*map)), ' ');
  fields.erase(std::remove(fields.begin(), fields.end(), ""), fields.end());
  return !(fields.size() == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295");
}

bool honour_xdg_runtime_dir() {
  if (::geteuid() != 0) return true;
  const char* user = std::getenv("USER");
  if (!user || !*user || std::string_view(user) == "root") return false;
  return in_user_namespace();
}

// Field 3 of /proc/PID/stat: 'Z' (zombie) or 'X' (dead) means exited.
bool process_is_zombie(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  char state = (*stat)[paren + 2];
  return state == 'Z' || state == 'X';
}

bool lock_is_free(int dir_fd) {
  if (::flock(dir_fd, LOCK_EX | LOCK_NB) != 0) return false;
  ::flock(dir_fd, LOCK_UN);
  return true;
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
  if (xdg && *xdg && honour_xdg_runtime_dir()) return std::string(xdg) + "/ctr-runtime";
  if (::geteuid() != 0) return "/tmp/ctr-runtime-" + std::to_string(::geteuid());
  return "/run/ctr-runtime";
}

Status ensure_state_root(const std::string& root) {
  TRY_CTX(mkdir_p(root, 0700), "create state root");
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

bool is_abandoned_create(const std::string& dir, bool caller_holds_lock) {
  if (path_exists(dir + "/state.json")) return false;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  UniqueFd guard(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (now.tv_sec - st.st_mtim.tv_sec < kAbandonedCreateAge.count()) return false;
  // A live create holds the lock for as long as it works (prestart hooks may
  // take a while), so a held lock means "in progress", whatever the age.
  return caller_holds_lock || lock_is_free(fd);
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

Result<NewContainerDir> create_container_dir(const std::string& root, const std::string& id) {
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
  auto dir = open_locked_dir(path, id, LOCK_EX);
  if (!dir) {
    (void)remove_tree(path);
    return std::move(dir).error();
  }
  return NewContainerDir{path, FileLock::adopt(std::move(*dir))};
}

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
  return write_file_atomic(dir + "/state.json", text, 0600);
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
  return compute_status(state.pid, state.start_time, now, process_is_zombie(state.pid),
                        path_exists(dir + "/exec.fifo"));
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

std::string format_rfc3339_nano(const timespec& ts) {
  struct tm tm;
  ::gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  ::strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = base;
  if (ts.tv_nsec > 0) {
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09ld", static_cast<long>(ts.tv_nsec));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
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
