// `exec`: a new process joins a running container's namespaces, with the
// command line form, --process P.json, --detach with --pid-file, stdio and
// exit status passthrough.
#include <unistd.h>

#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Exec : public RuntimeTest {
 protected:
  // Starts a detached `sleep 30` container with a known hostname.
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto bundle = make_bundle();
    bundle.hostname("exec-target").args({"sleep", "30"});
    id_ = new_id("target");
    auto started = rt({"run", "--detach", "--bundle", bundle.write(), id_}, RunOptions().output(output_.fd()));
    ASSERT_TRUE(started.ok()) << started.describe() << output_.read();
    ASSERT_EQ(status(id_), "running");
    init_pid_ = state(id_).value_or(json::object()).value("pid", 0);
    ASSERT_GT(init_pid_, 0);
  }

  std::string host_ns(pid_t pid, const std::string& kind) {
    char link[64] = {};
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + kind;
    if (::readlink(path.c_str(), link, sizeof link - 1) < 0) return "unreadable " + path;
    return link;
  }

  std::string id_;
  pid_t init_pid_ = 0;
  Capture output_;
};

TEST_F(Exec, JoinsTheContainersNamespaces) {
  auto result = rt({"exec", id_, "sh", "-c",
                    "echo $$; hostname; tr '\\0' ' ' < /proc/1/cmdline; echo;"
                    " for ns in pid mnt uts ipc user net; do readlink /proc/self/ns/$ns; done"});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 9u) << result.out;
  EXPECT_NE(out[0], "1") << "exec'd process is the container's init";
  EXPECT_GT(std::stoi(out[0]), 1);
  EXPECT_EQ(out[1], "exec-target");
  EXPECT_EQ(trimmed(out[2]), "sleep 30") << "PID 1 seen by exec is not the container's process";
  const char* kinds[] = {"pid", "mnt", "uts", "ipc", "user", "net"};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[3 + i], host_ns(init_pid_, kinds[i])) << kinds[i] << " namespace differs";
}

TEST_F(Exec, SeesTheContainersFilesystemAndConfinement) {
  // A masked file that unmasked is unreadable to the container (0400, host root).
  std::string masked = path_exists("/proc/kcore") ? "/proc/kcore" : "/proc/timer_list";
  auto result = rt({"exec", id_, "sh", "-c",
                    "wc -c < " + masked +
                        "; grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1;"
                        " cat /proc/self/uid_map"});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 3u) << result.out;
  EXPECT_EQ(trimmed(out[0]), "0") << "masked path not masked for exec";
  EXPECT_EQ(out[1], "ro");
  EXPECT_EQ(words(out[2]), (std::vector<std::string>{"0", std::to_string(::getuid()), "1"}));
}

TEST_F(Exec, PassesTheExitStatusThrough) {
  auto result = rt({"exec", id_, "sh", "-c", "echo before-exit; exit 7"});
  EXPECT_EQ(result.exit_code, 7) << result.describe();
  EXPECT_EQ(result.out, "before-exit\n");
  EXPECT_EQ(status(id_), "running") << "the container died with its exec'd process";
}

TEST_F(Exec, PassesStdinThrough) {
  auto result = rt({"exec", id_, "cat"}, RunOptions().input("exec stdin\n"));
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "exec stdin\n");
}

TEST_F(Exec, ProcessJson) {
  json process = {
      {"terminal", false},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh", "-c", "echo \"$EXEC_VAR\"; pwd; ulimit -n; grep ^CapEff /proc/self/status"}},
      {"env", {"PATH=/bin:/usr/bin", "EXEC_VAR=from-process-json", marker_}},
      {"cwd", "/tmp"},
      {"capabilities", {{"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}, {"permitted", {"CAP_KILL"}}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 256}, {"hard", 256}}}},
      {"noNewPrivileges", true}};
  std::string path = work() + "/process.json";
  ASSERT_TRUE(write_file_atomic(path, process.dump()));
  auto result = rt({"exec", "--process", path, id_});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 4u) << result.out;
  EXPECT_EQ(out[0], "from-process-json");
  EXPECT_EQ(out[1], "/tmp");
  EXPECT_EQ(out[2], "256");
  EXPECT_EQ(words(out[3]), (std::vector<std::string>{"CapEff:", capability_mask({"CAP_KILL"})}));
}

TEST_F(Exec, DetachWithPidFile) {
  std::string pid_file = work() + "/exec.pid";
  auto result = rt({"exec", "--detach", "--pid-file", pid_file, id_, "sleep", "31"});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto text = read_file(pid_file);
  ASSERT_TRUE(text) << "no pid file: " << text.error().message;
  int pid = std::stoi(trimmed(*text));
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(process_gone(pid)) << "the detached process is not running";
  // The runtime may return before the process has exec'd (runc does).
  const std::string expected(
      "sleep\0"
      "31\0",
      9);
  std::string cmdline;
  for (int i = 0; i < 100 && (cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline")) != expected; ++i)
    usleep(20 * 1000);
  EXPECT_EQ(cmdline, expected);
  EXPECT_EQ(host_ns(pid, "pid"), host_ns(init_pid_, "pid"));
  EXPECT_EQ(host_ns(pid, "mnt"), host_ns(init_pid_, "mnt"));
  // The container's delete --force (in TearDown) must take it down too.
}

TEST_F(Exec, IntoAStoppedContainerFails) {
  ASSERT_TRUE(rt({"kill", id_, "KILL"}).ok());
  ASSERT_TRUE(wait_for_status(id_, "stopped"));
  auto result = rt({"exec", id_, "true"});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_FALSE(result.err.empty());
}

TEST_F(Exec, UnknownExecutableFails) {
  auto result = rt({"exec", id_, "bahs"});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(contains_nocase(result.all(), "bahs"));
  EXPECT_TRUE(contains_nocase(result.all(), "not found"));
  EXPECT_EQ(status(id_), "running");
}

}  // namespace
}  // namespace ctr::itest
