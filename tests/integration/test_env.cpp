#include "tests/integration/test_env.h"

#include <dirent.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "runtime/base/child_process.h"
#include "runtime/base/file_lock.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

#ifndef CTR_BUILD_DIR
#define CTR_BUILD_DIR "/work/main/build"
#endif

namespace ctr::itest {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

std::string source_dir() {
#ifdef CTR_SOURCE_DIR
  return env_or("CTR_SOURCE_DIR", CTR_SOURCE_DIR);
#else
  return env_or("CTR_SOURCE_DIR", "/work/main");
#endif
}

// $XDG_CACHE_HOME/ctr-itest, ~/.cache/ctr-itest, else /var/tmp/ctr-itest-UID.
std::string cache_dir() {
  std::vector<std::string> candidates;
  if (auto xdg = env_or("XDG_CACHE_HOME", ""); !xdg.empty()) candidates.push_back(xdg + "/ctr-itest");
  if (auto home = env_or("HOME", ""); !home.empty()) candidates.push_back(home + "/.cache/ctr-itest");
  candidates.push_back("/var/tmp/ctr-itest-" + std::to_string(::getuid()));
  for (const auto& dir : candidates) {
    if (mkdir_p(dir, 0755) && ::access(dir.c_str(), W_OK) == 0) return dir;
  }
  return candidates.back();
}

struct Fixture {
  std::string rootfs;
  std::string error;
};

Fixture locate_fixture() {
  if (const char* fixtures = std::getenv("CTR_FIXTURES"); fixtures && *fixtures) {
    std::string rootfs = std::string(fixtures) + "/busybox-rootfs";
    if (!path_exists(rootfs + "/bin/busybox"))
      return {"", "CTR_FIXTURES is set but " + rootfs + "/bin/busybox is missing"};
    return {rootfs, ""};
  }
  // Built once per user and kept: the script is a no-op when the rootfs is
  // complete. Locked, because ctest runs test processes in parallel.
  std::string cache = cache_dir();
  if (auto made = mkdir_p(cache, 0755); !made) return {"", made.error().message};
  auto lock = FileLock::acquire(cache + "/.lock");
  if (!lock) return {"", lock.error().message};
  std::string rootfs = cache + "/busybox-rootfs";
  std::string script = source_dir() + "/tests/fixtures/build-busybox-rootfs.sh";
  auto status = run_process({"bash", script, rootfs}, {}, std::chrono::seconds(120));
  if (!status) return {"", status.error().message};
  if (status->code != 0 || status->signal != 0 || !path_exists(rootfs + "/bin/busybox"))
    return {"", "building the busybox rootfs with " + script + " " + status->describe() +
                    " (set CTR_FIXTURES, or CTR_SOURCE_DIR to the source tree)"};
  return {rootfs, ""};
}

const Fixture& fixture() {
  static const Fixture value = locate_fixture();
  return value;
}

bool userns_works() {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) _exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool in_path(const std::string& name) {
  for (const auto& dir : split(env_or("PATH", "/usr/bin:/bin"), ':')) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  for (const char* dir : {"/usr/bin", "/usr/sbin", "/bin", "/sbin"}) {
    if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::mutex tracked_mutex;
std::set<pid_t>& tracked() {
  static std::set<pid_t> pids;
  return pids;
}

char process_state(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return 0;
  return (*stat)[close + 2];
}

}  // namespace

const std::string& runtime_binary() {
  static const std::string path = env_or("CTR_RUNTIME_BIN", std::string(CTR_BUILD_DIR) + "/runtime/ctr-runtime");
  return path;
}

const std::string& busybox_rootfs() {
  return fixture().rootfs;
}
const std::string& fixture_error() {
  return fixture().error;
}

std::optional<std::string> environment_problem() {
  static const std::optional<std::string> problem = []() -> std::optional<std::string> {
    if (::geteuid() == 0)
      return "RUNS-AS-ROOT: the integration tests exercise rootless containers and must run as an ordinary user "
             "(scripts/test.sh runs them as the test user)";
    if (!userns_works())
      return "NO-USERNS: unprivileged user namespaces are disabled on this machine "
             "(kernel.unprivileged_userns_clone / user.max_user_namespaces)";
    return std::nullopt;
  }();
  return problem;
}

std::optional<SubidRange> subordinate_range(const std::string& file) {
  auto text = read_file(file);
  if (!text) return std::nullopt;
  std::string uid = std::to_string(::getuid());
  std::string name;
  if (passwd* pw = ::getpwuid(::getuid())) name = pw->pw_name;
  for (const auto& line : split(*text, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() != 3 || (fields[0] != uid && fields[0] != name)) continue;
    auto start = parse_u64(trim(fields[1]));
    auto count = parse_u64(trim(fields[2]));
    if (start && count && *count > 0) return SubidRange{static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)};
  }
  return std::nullopt;
}

std::optional<std::string> multi_range_problem() {
  if (!in_path("newuidmap") || !in_path("newgidmap"))
    return std::string("NO-NEWUIDMAP: newuidmap/newgidmap are not installed (apt-get install uidmap)");
  if (!subordinate_range("/etc/subuid") || !subordinate_range("/etc/subgid"))
    return std::string("NO-SUBUID: the current user has no range in /etc/subuid and /etc/subgid");
  if (subordinate_range("/etc/subuid")->count < 65536 || subordinate_range("/etc/subgid")->count < 65536)
    return std::string("NO-SUBUID: the current user's subordinate ranges are narrower than 65536 ids");
  return std::nullopt;
}

void enable_subreaper() {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    std::thread([] {
      for (;;) {
        reap_orphans();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }).detach();
  });
}

std::unique_lock<std::mutex> spawn_lock() {
  return std::unique_lock(tracked_mutex);
}

void track_child(pid_t pid) {
  tracked().insert(pid);
}

void untrack_child(pid_t pid) {
  std::lock_guard lock(tracked_mutex);
  tracked().erase(pid);
}

void reap_orphans() {
  std::lock_guard lock(tracked_mutex);
  DIR* tasks = ::opendir("/proc/self/task");
  if (!tasks) return;
  std::vector<pid_t> children;
  while (dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    auto text = read_file(std::string("/proc/self/task/") + task->d_name + "/children");
    if (!text) continue;
    for (const auto& word : split(*text, ' ')) {
      if (auto pid = parse_u64(trim(word))) children.push_back(static_cast<pid_t>(*pid));
    }
  }
  ::closedir(tasks);
  for (pid_t pid : children) {
    if (tracked().count(pid) || process_state(pid) != 'Z') continue;
    int status = 0;
    (void)::waitpid(pid, &status, WNOHANG);
  }
}

std::vector<pid_t> processes_where(const std::function<bool(pid_t)>& wanted) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  while (dirent* entry = ::readdir(proc)) {
    auto pid = parse_u64(entry->d_name);
    if (!pid || !wanted(static_cast<pid_t>(*pid))) continue;
    if (process_state(static_cast<pid_t>(*pid)) == 'Z') continue;
    found.push_back(static_cast<pid_t>(*pid));
  }
  ::closedir(proc);
  return found;
}

std::vector<pid_t> processes_with_env(const std::string& needle) {
  return processes_where([&](pid_t pid) {
    auto environ = read_file("/proc/" + std::to_string(pid) + "/environ");
    return environ && environ->find(needle) != std::string::npos;
  });
}

bool process_gone(pid_t pid) {
  char state = process_state(pid);
  return state == 0 || state == 'Z' || state == 'X';
}

}  // namespace ctr::itest
