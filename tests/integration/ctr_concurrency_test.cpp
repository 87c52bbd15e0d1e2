// Many ctr processes at once (issue 5): 20 parallel `run -d`, `ps -a` loops
// and 20 parallel `rm -f` never corrupt state, lose a container or hand out
// a name twice; `ps` never waits for the store lock a long create holds;
// `wait` on several containers and on unknown ones.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/base/file_lock.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : split(trim(text), '\n'))
    if (!line.empty()) out.emplace_back(line);
  return out;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The shim and runtime state of these tests goes to a run root of their own
// (CTR_RUNROOT, as --runroot sets it), so "nothing left behind" can be
// checked without seeing other tests' containers.
class CtrConcurrencyTest : public CtrContainerTest {
 protected:
  void SetUp() override {
    CtrContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    runroot_ = path("run");
    ::setenv("CTR_RUNROOT", runroot_.c_str(), 1);
  }
  void TearDown() override {
    CtrContainerTest::TearDown();
    ::unsetenv("CTR_RUNROOT");
  }

  // Runs `args` in `n` threads at once.
  std::vector<CommandOutput> parallel(int n, const std::function<std::vector<std::string>(int)>& args) {
    std::vector<CommandOutput> results(static_cast<size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = ctr(args(i), 120); });
    for (auto& t : threads) t.join();
    return results;
  }

  std::string runroot_;
};

TEST_F(CtrConcurrencyTest, TwentyParallelRunsAndRemovesKeepTheStoreConsistent) {
  constexpr int kContainers = 20;
  std::atomic<bool> done{false};
  std::mutex mutex;
  double slowest_ps = 0;
  int ps_runs = 0;
  std::vector<std::string> ps_errors;
  // Two `ps -a` loops while the runs go on: never an error, never slow.
  auto ps_loop = [&] {
    while (!done) {
      auto start = Clock::now();
      auto ps = ctr({"ps", "-a", "--no-trunc"});
      double took = seconds_since(start);
      std::lock_guard<std::mutex> hold(mutex);
      ++ps_runs;
      slowest_ps = std::max(slowest_ps, took);
      if (ps.code != 0) ps_errors.push_back(ps.describe());
    }
  };
  std::thread ps1(ps_loop), ps2(ps_loop);
  auto runs = parallel(kContainers, [](int) {
    return std::vector<std::string>{"run", "-d", "busybox", "sleep", "30"};
  });
  done = true;
  ps1.join();
  ps2.join();

  std::set<std::string> ids;
  for (const auto& run : runs) {
    EXPECT_EQ(run.code, 0) << run.describe();
    std::string id(trim(run.out));
    EXPECT_EQ(id.size(), 64u) << run.describe();
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kContainers)) << "IDs handed out twice";
  EXPECT_TRUE(ps_errors.empty()) << ps_errors.front();
  EXPECT_GT(ps_runs, 0);
  // Generous for a loaded 2-CPU machine: a ps that waited for the store
  // lock behind 20 creates would take far longer.
  EXPECT_LT(slowest_ps, 3.0) << "ps -a took " << slowest_ps << " s during 20 parallel runs";

  auto ps = ctr({"ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}"});
  ASSERT_EQ(ps.code, 0) << ps.describe();
  std::set<std::string> listed_ids, names;
  for (const auto& line : lines(ps.out)) {
    auto fields = split(line, ' ');
    ASSERT_GE(fields.size(), 3u) << line;
    listed_ids.insert(std::string(fields[0]));
    names.insert(std::string(fields[1]));
    EXPECT_EQ(fields[2], "Up") << line;
  }
  EXPECT_EQ(listed_ids, ids) << ps.out;
  EXPECT_EQ(names.size(), static_cast<size_t>(kContainers)) << "a name was handed out twice:\n" << ps.out;

  std::vector<std::string> id_list(ids.begin(), ids.end());
  auto removes = parallel(kContainers, [&](int i) {
    return std::vector<std::string>{"rm", "-f", id_list[static_cast<size_t>(i)]};
  });
  for (const auto& rm : removes) EXPECT_EQ(rm.code, 0) << rm.describe();
  auto after = ctr({"ps", "-a", "-q"});
  EXPECT_EQ(after.code, 0) << after.describe();
  EXPECT_EQ(trim(after.out), "");
  for (const auto& id : ids) {
    EXPECT_FALSE(path_exists(root_ + "/containers/" + id)) << "storage of " << id << " left behind";
    EXPECT_FALSE(path_exists(runroot_ + "/containers/" + id)) << "shim state of " << id << " left behind";
    EXPECT_FALSE(path_exists(runroot_ + "/runtime/" + id)) << "runtime state of " << id << " left behind";
  }
  EXPECT_TRUE(entries(root_ + "/containers").empty()) << join(entries(root_ + "/containers"), " ");
  EXPECT_TRUE(entries(runroot_ + "/containers").empty()) << join(entries(runroot_ + "/containers"), " ");
  EXPECT_TRUE(entries(runroot_ + "/runtime").empty()) << join(entries(runroot_ + "/runtime"), " ");
}

// A create that holds the store lock for long (here: the test holds it, as
// a slow create would) must not hold up ps, and the waiting run goes on
// as soon as the lock is free.
TEST_F(CtrConcurrencyTest, PsDoesNotWaitForTheStoreLock) {
  auto existing = ctr({"run", "-d", "--name", "before", "busybox", "sleep", "30"});
  ASSERT_EQ(existing.code, 0) << existing.describe();
  std::unique_ptr<FileLock> lock;
  {
    auto held = FileLock::acquire(root_ + "/store.lock");
    ASSERT_TRUE(held.ok()) << held.error().message;
    lock = std::make_unique<FileLock>(std::move(held).value());
  }
  CommandOutput blocked_run;
  std::atomic<bool> run_done{false};
  std::thread runner([&] {
    blocked_run = ctr({"run", "-d", "--name", "after", "busybox", "sleep", "30"});
    run_done = true;
  });
  for (int i = 0; i < 3; ++i) {
    auto start = Clock::now();
    auto ps = ctr({"ps", "-a", "--format", "{{.Names}}"}, 10);
    EXPECT_LT(seconds_since(start), 1.0) << "ps waited for the store lock";
    EXPECT_EQ(ps.code, 0) << ps.describe();
    EXPECT_EQ(trim(ps.out), "before");
  }
  EXPECT_FALSE(run_done) << "run did not wait for the store lock: " << blocked_run.describe();
  lock.reset();
  runner.join();
  EXPECT_EQ(blocked_run.code, 0) << blocked_run.describe();
  EXPECT_TRUE(has_state("after", "running"));
}

TEST_F(CtrConcurrencyTest, NamesStayUniqueUnderParallelCreatesWithTheSameName) {
  auto creates = parallel(6, [](int) {
    return std::vector<std::string>{"create", "--name", "same", "busybox", "true"};
  });
  int ok = 0;
  for (const auto& c : creates) {
    if (c.code == 0) {
      ++ok;
    } else {
      EXPECT_EQ(c.code, 125) << c.describe();
      EXPECT_NE(c.err.find("already in use"), std::string::npos) << c.describe();
    }
  }
  EXPECT_EQ(ok, 1);
  auto ps = ctr({"ps", "-a", "--format", "{{.Names}}"});
  EXPECT_EQ(trim(ps.out), "same");
}

TEST_F(CtrConcurrencyTest, WaitOnSeveralContainersAndUnknownOnes) {
  auto a = ctr({"run", "-d", "--name", "wa", "busybox", "sh", "-c", "sleep 0.3; exit 3"});
  auto b = ctr({"run", "-d", "--name", "wb", "busybox", "sh", "-c", "exit 5"});
  ASSERT_EQ(a.code, 0) << a.describe();
  ASSERT_EQ(b.code, 0) << b.describe();
  auto waited = ctr({"wait", "wa", "wb"}, 30);
  EXPECT_EQ(waited.code, 0) << waited.describe();
  EXPECT_EQ(waited.out, "3\n5\n");

  // Unknown: 125, podman's message, and nothing waited for or printed.
  auto unknown = ctr({"wait", "wa", "nosuch"}, 30);
  EXPECT_EQ(unknown.code, 125) << unknown.describe();
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("no container with name or ID `nosuch` found"), std::string::npos) << unknown.describe();

  auto none = ctr({"wait"});
  EXPECT_EQ(none.code, 125) << none.describe();
  auto bad = ctr({"wait", "--condition", "bogus", "wa"});
  EXPECT_EQ(bad.code, 125) << bad.describe();
  EXPECT_NE(bad.err.find("unknown container state: bogus"), std::string::npos) << bad.describe();
  auto paused = ctr({"wait", "--condition", "paused", "wa"});
  EXPECT_EQ(paused.code, 125) << paused.describe();
  auto interval = ctr({"wait", "-i", "soon", "wa"});
  EXPECT_EQ(interval.code, 125) << interval.describe();

  // --condition running on a created container: returns (-1) once started.
  auto created = ctr({"create", "--name", "wc", "busybox", "sleep", "30"});
  ASSERT_EQ(created.code, 0) << created.describe();
  CommandOutput running;
  std::thread waiter([&] { running = ctr({"wait", "-i", "50ms", "--condition", "running", "wc"}, 30); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto started = ctr({"start", "wc"});
  waiter.join();
  EXPECT_EQ(started.code, 0) << started.describe();
  EXPECT_EQ(running.code, 0) << running.describe();
  EXPECT_EQ(running.out, "-1\n");
  auto latest = ctr({"wait", "--condition", "running", "--latest"});
  EXPECT_EQ(latest.code, 0) << latest.describe();
  EXPECT_EQ(latest.out, "-1\n");
}

// --replace removes a running container of that name first (as rm -f);
// --cidfile gets the new ID, and an existing file is refused before anything
// is made; --pull never/always with podman-like errors.
TEST_F(CtrConcurrencyTest, ReplaceCidfileAndPull) {
  auto first = ctr({"run", "-d", "--name", "web", "busybox", "sleep", "30"});
  ASSERT_EQ(first.code, 0) << first.describe();
  std::string cidfile = path("cid");
  auto second = ctr({"run", "-d", "--replace", "--cidfile", cidfile, "--name", "web", "busybox", "sleep", "30"});
  ASSERT_EQ(second.code, 0) << second.describe();
  auto ps = ctr({"ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"});
  EXPECT_EQ(trim(ps.out), std::string(trim(second.out)) + " web");
  EXPECT_FALSE(path_exists(runroot_ + "/containers/" + std::string(trim(first.out))));
  auto cid = read_file(cidfile);
  ASSERT_TRUE(cid.ok());
  EXPECT_EQ(*cid, trim(second.out));

  auto taken = ctr({"create", "--cidfile", cidfile, "busybox", "true"});
  EXPECT_EQ(taken.code, 125);
  EXPECT_NE(taken.err.find("container id file exists"), std::string::npos) << taken.describe();
  auto unnamed = ctr({"create", "--replace", "busybox", "true"});
  EXPECT_EQ(unnamed.code, 125);
  EXPECT_NE(unnamed.err.find("cannot replace container without --name being set"), std::string::npos);
  auto never = ctr({"create", "--pull", "never", "nosuchimage", "true"});
  EXPECT_EQ(never.code, 125);
  EXPECT_NE(never.err.find("nosuchimage: image not known"), std::string::npos) << never.describe();
  auto missing = ctr({"create", "nosuchimage", "true"});
  EXPECT_EQ(missing.code, 125);
  EXPECT_NE(missing.err.find("pulling images is not implemented yet"), std::string::npos) << missing.describe();
  auto always = ctr({"create", "--pull", "always", "busybox", "true"});
  EXPECT_EQ(always.code, 125);
  EXPECT_NE(always.err.find("not supported yet"), std::string::npos) << always.describe();
  auto present = ctr({"create", "--pull", "never", "busybox", "true"});
  EXPECT_EQ(present.code, 0) << present.describe();
  auto all = ctr({"ps", "-a", "-q"});
  EXPECT_EQ(lines(all.out).size(), 2u) << all.out;  // web and the --pull never one
}

}  // namespace
}  // namespace ctr::itest
