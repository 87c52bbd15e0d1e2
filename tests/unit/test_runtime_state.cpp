// The runtime's state directory (runtime/state.h), signal names and the
// /proc helpers of ctr-runtime's kill/ps.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/cli/processes.h"
#include "runtime/cli/signals.h"
#include "runtime/state.h"

using namespace ctr;

namespace {

// The real start time, read here so these tests do not depend on
// container.cpp's process_start_time.
uint64_t real_start_time(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return 0;
  auto stat = cli::parse_proc_stat(*text);
  return stat ? stat->start_time : 0;
}

// Pretends every pid now belongs to a process started at another time.
uint64_t reused_start_time(pid_t pid) { return real_start_time(pid) + 12345; }

ContainerState sample_state(const std::string& id, pid_t pid, uint64_t start) {
  ContainerState s;
  s.id = id;
  s.pid = pid;
  s.bundle = "/bundles/" + id;
  s.rootfs = "/bundles/" + id + "/rootfs";
  s.created = "2024-05-01T10:20:30.5Z";
  s.owner = "alice";
  s.annotations = {{"org.example/key", "value"}};
  s.start_time = start;
  return s;
}

Status make_container(const std::string& root, const ContainerState& state) {
  std::string dir = container_dir(root, state.id);
  TRY(mkdir_p(dir, 0700));
  return write_state(dir, state);
}

void make_old(const std::string& path) {
  timespec times[2] = {{1, 0}, {1, 0}};  // 1970: long abandoned
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

Result<ChildProcess> sleeper() { return spawn_process({"/bin/sleep", "60"}); }

}  // namespace

TEST(RuntimeState, ValidatesIdsLikeRunc) {
  std::string longest(1024, 'a');
  for (std::string ok : {std::string("a"), std::string("web-1"), std::string("A_b+c.d"), std::string("x.y"), longest})
    EXPECT_TRUE(validate_container_id(ok)) << ok;
  for (const char* bad : {"", ".", "..", "a/b", "a b", "ä", "a:b", "../x"}) EXPECT_FALSE(validate_container_id(bad)) << bad;
  EXPECT_FALSE(validate_container_id(std::string(1025, 'a')));
  auto err = validate_container_id("bad/id");
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message.find("\"bad/id\""), std::string::npos) << err.error().message;
}

namespace {
// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};
}  // namespace

TEST(RuntimeState, DefaultRootDependsOnRootlessness) {
  ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/4242");
  if (::geteuid() == 0) {
    // Real root (not the owner of a user namespace posing as root).
    ScopedEnv user("USER", nullptr);
    EXPECT_EQ(default_state_root(), "/run/ctr-runtime");
    return;
  }
  EXPECT_EQ(default_state_root(), "/run/user/4242/ctr-runtime");
  ScopedEnv no_xdg("XDG_RUNTIME_DIR", nullptr);
  EXPECT_EQ(default_state_root(), "/tmp/ctr-runtime-" + std::to_string(::geteuid()));
}

TEST(RuntimeState, StateJsonRoundTripKeepsPrivateFields) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto state = sample_state("c1", 4321, 987654);
  ASSERT_TRUE(write_state(dir->path(), state));
  auto text = read_file(dir->path() + "/state.json");
  ASSERT_TRUE(text);
  auto parsed = parse_state(*text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->id, "c1");
  EXPECT_EQ(parsed->pid, 4321);
  EXPECT_EQ(parsed->bundle, state.bundle);
  EXPECT_EQ(parsed->rootfs, state.rootfs);
  EXPECT_EQ(parsed->created, state.created);
  EXPECT_EQ(parsed->owner, "alice");
  EXPECT_EQ(parsed->annotations, state.annotations);
  EXPECT_EQ(parsed->start_time, 987654u);
  EXPECT_EQ(parsed->oci_version, "1.1.0");
  struct stat st;
  ASSERT_EQ(::stat((dir->path() + "/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(parse_state("{\"id\": 5}"));
  EXPECT_FALSE(parse_state("not json"));
}

TEST(RuntimeState, PublicJsonHidesStartTimeAndZeroesStoppedPid) {
  auto state = sample_state("c1", 4321, 987654);
  state.status = ContainerStatus::stopped;
  auto j = state_to_public_json(state);
  EXPECT_EQ(j["pid"], 0);
  EXPECT_EQ(j["status"], "stopped");
  EXPECT_FALSE(j.contains("init_process_start"));
  EXPECT_EQ(j.begin().key(), "ociVersion");
  state.status = ContainerStatus::running;
  EXPECT_EQ(state_to_public_json(state)["pid"], 4321);
  auto hook = nlohmann::json::parse(hook_state_json("c1", "/b", {{"k", "v"}}, 77, "creating"));
  EXPECT_EQ(hook["status"], "creating");
  EXPECT_EQ(hook["pid"], 77);
  EXPECT_EQ(hook["bundle"], "/b");
  EXPECT_EQ(hook["annotations"]["k"], "v");
  EXPECT_EQ(hook["ociVersion"], "1.1.0");
}

TEST(RuntimeStateStatus, PureRule) {
  using S = ContainerStatus;
  EXPECT_EQ(compute_status(10, 100, 100, false, true), S::created);
  EXPECT_EQ(compute_status(10, 100, 100, false, false), S::running);
  EXPECT_EQ(compute_status(10, 100, 0, false, true), S::stopped);    // gone
  EXPECT_EQ(compute_status(10, 100, 555, false, false), S::stopped);  // pid reused: never "running"
  EXPECT_EQ(compute_status(10, 100, 100, true, false), S::stopped);   // exited, not reaped yet
  EXPECT_EQ(compute_status(0, 0, 0, false, false), S::stopped);
}

TEST(RuntimeStateStatus, FromARealProcessAndTheFifo) {
  auto root = TempDir::create();
  ASSERT_TRUE(root);
  auto child = sleeper();
  ASSERT_TRUE(child) << child.error().message;
  pid_t pid = child->pid();
  auto state = sample_state("live", pid, real_start_time(pid));
  ASSERT_NE(state.start_time, 0u);
  ASSERT_TRUE(make_container(root->path(), state));
  std::string dir = container_dir(root->path(), "live");
  ASSERT_EQ(::mkfifo((dir + "/exec.fifo").c_str(), 0600), 0);

  auto loaded = load_container(root->path(), "live", real_start_time);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->status, ContainerStatus::created);
  ASSERT_EQ(::unlink((dir + "/exec.fifo").c_str()), 0);
  EXPECT_EQ(load_container(root->path(), "live", real_start_time)->status, ContainerStatus::running);
  // Same pid, another start time: a reused pid must read as stopped.
  EXPECT_EQ(load_container(root->path(), "live", reused_start_time)->status, ContainerStatus::stopped);

  ASSERT_TRUE(child->kill(SIGKILL));
  // Killed but not reaped: a zombie, so stopped already.
  for (int i = 0; i < 200 && load_container(root->path(), "live", real_start_time)->status != ContainerStatus::stopped; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(load_container(root->path(), "live", real_start_time)->status, ContainerStatus::stopped);
  ASSERT_TRUE(child->wait());
  EXPECT_EQ(load_container(root->path(), "live", real_start_time)->status, ContainerStatus::stopped);
}

TEST(RuntimeState, MissingContainerNamesTheId) {
  auto root = TempDir::create();
  ASSERT_TRUE(root);
  auto missing = load_container(root->path(), "nope", real_start_time);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "container \"nope\" does not exist");
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_FALSE(load_container(root->path(), "../etc", real_start_time));
}

TEST(RuntimeState, CreateDirIsExclusiveWhileItsCreatorLives) {
  auto root = TempDir::create();
  ASSERT_TRUE(root);
  std::string state_root = root->path() + "/state";
  auto first = create_container_dir(state_root, "c1");
  ASSERT_TRUE(first) << first.error().message;
  struct stat st;
  ASSERT_EQ(::stat(first->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(path_exists(*first + "/" + kCreateMarker));
  // Old and without state.json, but its creator (this process) is alive.
  make_old(*first);
  EXPECT_FALSE(is_abandoned_create(*first));
  auto second = create_container_dir(state_root, "c1");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message, "container \"c1\" already exists");
  EXPECT_EQ(second.error().code, EEXIST);
  // Once state.json exists it is a container, whatever the marker says.
  ASSERT_TRUE(write_state(*first, sample_state("c1", 0, 0)));
  remove_create_marker(*first);
  EXPECT_FALSE(path_exists(*first + "/" + kCreateMarker));
  EXPECT_FALSE(is_abandoned_create(*first));
  EXPECT_FALSE(create_container_dir(state_root, "c1"));
  EXPECT_FALSE(create_container_dir(state_root, "bad/id"));
}

TEST(RuntimeState, AbandonedCreateIsReplaced) {
  auto root = TempDir::create();
  ASSERT_TRUE(root);
  // No marker (killed between mkdir and marker): judged by age.
  std::string dir = container_dir(root->path(), "c1");
  ASSERT_TRUE(mkdir_p(dir, 0700));
  ASSERT_TRUE(write_file_atomic(dir + "/config.json", "{}"));
  EXPECT_FALSE(is_abandoned_create(dir));
  EXPECT_FALSE(create_container_dir(root->path(), "c1"));
  make_old(dir);
  EXPECT_TRUE(is_abandoned_create(dir));
  auto again = create_container_dir(root->path(), "c1");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(path_exists(dir + "/config.json"));  // the leftovers went

  // A marker naming a dead creator: abandoned at once, however fresh.
  auto creator = run_process({"/bin/true"});
  ASSERT_TRUE(creator);
  std::string dead = container_dir(root->path(), "c2");
  ASSERT_TRUE(mkdir_p(dead, 0700));
  ASSERT_TRUE(write_file_atomic(dead + "/" + kCreateMarker, "999999999 12345"));
  EXPECT_TRUE(is_abandoned_create(dead));
  // A marker naming a live pid with another start time: a reused pid.
  ASSERT_TRUE(write_file_atomic(dead + "/" + kCreateMarker,
                                std::to_string(::getpid()) + " " + std::to_string(real_start_time(::getpid()) + 1)));
  EXPECT_TRUE(is_abandoned_create(dead));
  EXPECT_TRUE(create_container_dir(root->path(), "c2"));
}

TEST(RuntimeState, LockSeesRemovalByThePreviousHolder) {
  auto root = TempDir::create();
  ASSERT_TRUE(root);
  EXPECT_EQ(lock_container_dir(root->path(), "none").error().code, ENOENT);
  auto created = create_container_dir(root->path(), "c1");
  ASSERT_TRUE(created);
  auto held = lock_container_dir(root->path(), "c1");
  ASSERT_TRUE(held);
  std::optional<Result<FileLock>> waiter;
  std::thread t([&] { waiter.emplace(lock_container_dir(root->path(), "c1")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(remove_tree(*created));
  { auto release = std::move(*held); }
  t.join();
  ASSERT_TRUE(waiter.has_value());
  ASSERT_FALSE(*waiter);
  EXPECT_EQ(waiter->error().message, "container \"c1\" does not exist");
}

TEST(RuntimeState, ListSkipsDirsWithoutStateAndJunk) {
  auto root = TempDir::create();
  ASSERT_TRUE(root);
  EXPECT_TRUE(list_containers(root->path() + "/missing", real_start_time)->empty());
  ASSERT_TRUE(make_container(root->path(), sample_state("b-container", 0, 0)));
  ASSERT_TRUE(make_container(root->path(), sample_state("a-container", 0, 0)));
  ASSERT_TRUE(mkdir_p(root->path() + "/half-created", 0700));
  std::string old_garbage = root->path() + "/garbage";
  ASSERT_TRUE(mkdir_p(old_garbage, 0700));
  make_old(old_garbage);
  ASSERT_TRUE(mkdir_p(root->path() + "/broken", 0700));
  ASSERT_TRUE(write_file_atomic(root->path() + "/broken/state.json", "{oops"));
  ASSERT_TRUE(write_file_atomic(root->path() + "/a-file", "x"));
  auto list = list_containers(root->path(), real_start_time);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "a-container");
  EXPECT_EQ((*list)[1].id, "b-container");
  EXPECT_EQ((*list)[0].status, ContainerStatus::stopped);
}

TEST(RuntimeState, InitPidfdOnlyForTheProcessWeCreated) {
  auto child = sleeper();
  ASSERT_TRUE(child);
  auto state = sample_state("c", child->pid(), real_start_time(child->pid()));
  auto pidfd = open_init_pidfd(state, real_start_time);
  ASSERT_TRUE(pidfd) << pidfd.error().message;
  auto reused = open_init_pidfd(state, reused_start_time);
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, ESRCH);
  state.pid = 0;
  EXPECT_FALSE(open_init_pidfd(state, real_start_time));
}

TEST(RuntimeState, EnsureRootCreatesPrivateDirAndRejectsFiles) {
  auto tmp = TempDir::create();
  ASSERT_TRUE(tmp);
  std::string root = tmp->path() + "/a/b";
  ASSERT_TRUE(ensure_state_root(root));
  struct stat st;
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_TRUE(write_file_atomic(tmp->path() + "/file", "x"));
  EXPECT_FALSE(ensure_state_root(tmp->path() + "/file"));
}

TEST(RuntimeState, Rfc3339NanoLikeGo) {
  EXPECT_EQ(format_rfc3339_nano({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_nano({1714558830, 500000000}), "2024-05-01T10:20:30.5Z");
  EXPECT_EQ(format_rfc3339_nano({1714558830, 123456789}), "2024-05-01T10:20:30.123456789Z");
  EXPECT_EQ(format_rfc3339_nano({951782400, 0}), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_rfc3339_nano({-1, 0}), "1969-12-31T23:59:59Z");
  // Agrees with gmtime over a wide range (leap years, centuries).
  for (time_t t = -2208988800; t < 4102444800; t += 86400 * 97 + 3607) {
    struct tm tm;
    ::gmtime_r(&t, &tm);
    char expected[32];
    ::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSERT_EQ(format_rfc3339_nano({t, 0}), expected) << t;
  }
  EXPECT_FALSE(current_user_name().empty());
}

TEST(SignalParse, NumbersNamesAnyCaseAndRealtime) {
  using cli::parse_signal;
  EXPECT_EQ(parse_signal("9"), SIGKILL);
  EXPECT_EQ(parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(parse_signal("sigkill"), SIGKILL);
  EXPECT_EQ(parse_signal("Term"), SIGTERM);
  EXPECT_EQ(parse_signal("hup"), SIGHUP);
  EXPECT_EQ(parse_signal("SIGWINCH"), SIGWINCH);
  EXPECT_EQ(parse_signal("SIGRTMIN"), SIGRTMIN);
  EXPECT_EQ(parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("rtmin+3"), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("RTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(parse_signal(std::to_string(SIGRTMAX)), SIGRTMAX);
  for (const char* bad : {"", "0", "-9", "65", "SIGFOO", "SIG", "RTMIN-1", "RTMAX+1", "RTMIN+99", "9x", " 9"})
    EXPECT_FALSE(parse_signal(bad)) << bad;
  auto err = cli::parse_signal_or_error("SIGFOO");
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message.find("SIGFOO"), std::string::npos);
}

TEST(SignalForwarding, SkipsChildAndUncatchableAndWinchWhenRelaying) {
  sigset_t plain = cli::forwarded_signals(false);
  EXPECT_TRUE(sigismember(&plain, SIGTERM));
  EXPECT_TRUE(sigismember(&plain, SIGINT));
  EXPECT_TRUE(sigismember(&plain, SIGWINCH));
  EXPECT_TRUE(sigismember(&plain, SIGRTMIN + 3));
  EXPECT_FALSE(sigismember(&plain, SIGCHLD));
  EXPECT_FALSE(sigismember(&plain, SIGKILL));
  EXPECT_FALSE(sigismember(&plain, SIGSTOP));
  sigset_t relaying = cli::forwarded_signals(true);
  EXPECT_FALSE(sigismember(&relaying, SIGWINCH));
}

TEST(RuntimeCliProcesses, ParsesProcStatWithTrickyNames) {
  std::string text = "1234 (a) b (c) S 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 200";
  auto stat = cli::parse_proc_stat(text);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->ppid, 77);
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->start_time, 98765u);
  EXPECT_FALSE(cli::parse_proc_stat("garbage"));
}

TEST(RuntimeCliProcesses, WithoutOwnPidNamespaceFindsInitAndDescendants) {
  // After its children die the shell must still be there for the SIGKILL
  // that --all sends to the init last, hence the exec.
  auto child = spawn_process({"/bin/sh", "-c", "/bin/sleep 60 & /bin/sleep 60 & wait; exec /bin/sleep 60"});
  ASSERT_TRUE(child) << child.error().message;
  std::vector<cli::ProcessRef> found;
  for (int i = 0; i < 400; ++i) {
    auto processes = cli::container_processes(child->pid());
    ASSERT_TRUE(processes) << processes.error().message;
    found = *processes;
    if (found.size() >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].pid, child->pid());  // sorted: the children came later
  for (const auto& p : found) EXPECT_EQ(p.start_time, real_start_time(p.pid));
  // --all semantics: signal everyone, init through the verified pidfd.
  auto state = sample_state("c", child->pid(), real_start_time(child->pid()));
  auto pidfd = open_init_pidfd(state, real_start_time);
  ASSERT_TRUE(pidfd);
  ASSERT_TRUE(cli::signal_container(state, pidfd->get(), SIGKILL, true));
  auto status = child->wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGKILL);
  for (const auto& p : found) {
    if (p.pid == found[0].pid) continue;
    // The grandchildren were reparented; whoever reaps them may be slow,
    // so a zombie counts as dead.
    auto dead = [&] {
      auto text = read_file("/proc/" + std::to_string(p.pid) + "/stat");
      auto stat = text ? cli::parse_proc_stat(*text) : std::nullopt;
      return !stat || stat->state == 'Z' || stat->start_time != p.start_time;
    };
    for (int i = 0; i < 400 && !dead(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(dead()) << p.pid;
  }
}
