// ctr exec, attach, top, --init, --detach-keys and --sig-proxy, for real, as
// the unprivileged user on a fresh store with the busybox fixture.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

using namespace std::chrono_literals;

class CtrExecTest : public CtrContainerTest {
 protected:
  // Starts `sleep 1000` detached as `name`.
  void start_sleeper(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", "-d", "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"busybox", "sleep", "1000"});
    auto run = ctr(args);
    ASSERT_EQ(run.code, 0) << run.describe();
  }
  std::string id_of(const std::string& name) {
    return std::string(trim(ctr({"inspect", "--format", "{{.Id}}", name}).out));
  }
  // A `ctr` run in the background with its output in memfds; ends it with `signal`.
  struct Background {
    ChildProcess process;
    UniqueFd out, err;
    std::string read_out() const { return read_all(out.get()); }
    static std::string read_all(int fd) {
      std::string data;
      char buffer[4096];
      ssize_t n;
      ::lseek(fd, 0, SEEK_SET);
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
      return data;
    }
  };
  Background spawn_ctr(std::vector<std::string> args, int stdin_fd = -1) {
    Background bg;
    bg.out.reset(::memfd_create("out", MFD_CLOEXEC));
    bg.err.reset(::memfd_create("err", MFD_CLOEXEC));
    UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    SpawnOptions options;
    options.stdin_fd = stdin_fd >= 0 ? stdin_fd : null_in.get();
    options.stdout_fd = bg.out.get();
    options.stderr_fd = bg.err.get();
    args.insert(args.begin(), {ctr_binary(), "--root", root_});
    auto lock = spawn_lock();
    auto child = spawn_process(args, options);
    EXPECT_TRUE(child.ok()) << (child.ok() ? "" : child.error().message);
    if (child) {
      track_child(child->pid());
      bg.process = std::move(*child);
    }
    return bg;
  }
  int finish(Background& bg, std::chrono::seconds timeout = 20s) {
    pid_t pid = bg.process.pid();
    auto ended = bg.process.wait(timeout);
    untrack_child(pid);
    return ended ? ended->shell_code() : -1;
  }
};

TEST_F(CtrExecTest, ExecRunsWithTheContainersEnvAndTheGivenFlags) {
  start_sleeper("box", {"-e", "FOO=bar", "-w", "/tmp"});
  auto plain = ctr({"exec", "box", "sh", "-c", "echo $FOO; pwd; id -u; echo $$"});
  EXPECT_EQ(plain.code, 0) << plain.describe();
  auto lines = split(plain.out, '\n');
  ASSERT_GE(lines.size(), 4u) << plain.describe();
  EXPECT_EQ(lines[0], "bar");
  EXPECT_EQ(lines[1], "/tmp");
  EXPECT_EQ(lines[2], "0");
  EXPECT_NE(lines[3], "1") << "an exec process is not the container's init";

  std::string env_file = path("exec.env");
  ASSERT_TRUE(write_file_atomic(env_file, "# comment\nFROMFILE=yes\nFOO=file\n").ok());
  auto flags = ctr({"container", "exec", "-e", "FOO=baz", "--env-file", env_file, "-w", "/", "-u", "nobody", "box",
                    "sh", "-c", "echo $FOO $FROMFILE; pwd; id -u; id -g"});
  EXPECT_EQ(flags.code, 0) << flags.describe();
  EXPECT_EQ(flags.out, "baz yes\n/\n65534\n65534\n");

  auto status = ctr({"exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(status.code, 3) << status.describe();
  EXPECT_EQ(status.out, "out\n");
  EXPECT_EQ(status.err, "err\n");

  auto interactive = run_shell("printf 'hello\\nworld\\n' | " + shell_quote(ctr_binary()) + " --root " +
                               shell_quote(root_) + " exec -i box sh -c 'cat; exit 5'");
  EXPECT_EQ(interactive.code, 5) << interactive.describe();
  EXPECT_EQ(interactive.out, "hello\nworld\n");

  auto detached = ctr({"exec", "-d", "box", "sh", "-c", "echo done > /tmp/marker"});
  EXPECT_EQ(detached.code, 0) << detached.describe();
  EXPECT_TRUE(std::regex_match(detached.out, std::regex("[0-9a-f]{64}\n"))) << detached.out;  // the session ID
  EXPECT_TRUE(eventually([&] { return ctr({"exec", "box", "cat", "/tmp/marker"}).out == "done\n"; }, 10s));

  std::string id = id_of("box");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(eventually([&] { return exec_sessions(id).empty(); }, 10s))
      << "exec session state left behind: " << join(exec_sessions(id), " ");
}

TEST_F(CtrExecTest, ExecFailuresGivePodmanCodes) {
  start_sleeper("box");
  auto missing = ctr({"exec", "box", "nosuchcommand"});
  EXPECT_EQ(missing.code, 127) << missing.describe();
  EXPECT_NE(missing.err.find("nosuchcommand"), std::string::npos) << missing.describe();
  auto not_executable = ctr({"exec", "box", "/etc/passwd"});
  EXPECT_EQ(not_executable.code, 126) << not_executable.describe();
  auto unknown = ctr({"exec", "nosuchbox", "true"});
  EXPECT_EQ(unknown.code, 125) << unknown.describe();
  EXPECT_NE(unknown.err.find("nosuchbox"), std::string::npos) << unknown.describe();
  auto no_command = ctr({"exec", "box"});
  EXPECT_EQ(no_command.code, 125) << no_command.describe();
  auto bad_user = ctr({"exec", "-u", "nosuchuser", "box", "true"});
  EXPECT_EQ(bad_user.code, 125) << bad_user.describe();
  EXPECT_NE(bad_user.err.find("nosuchuser"), std::string::npos) << bad_user.describe();
  auto bad_keys = ctr({"exec", "--detach-keys", "ctrl-1", "box", "true"});
  EXPECT_EQ(bad_keys.code, 125) << bad_keys.describe();
  EXPECT_NE(bad_keys.err.find("--detach-keys"), std::string::npos) << bad_keys.describe();

  ASSERT_EQ(ctr({"create", "--name", "idle", "busybox", "sleep", "1000"}).code, 0);
  auto created = ctr({"exec", "idle", "true"});
  EXPECT_EQ(created.code, 125) << created.describe();
  EXPECT_NE(created.err.find("can only create exec sessions on running containers"), std::string::npos)
      << created.describe();
  EXPECT_NE(created.err.find("idle"), std::string::npos) << created.describe();

  std::string id = id_of("box");
  EXPECT_TRUE(eventually([&] { return exec_sessions(id).empty(); }, 10s))
      << "failed sessions left state: " << join(exec_sessions(id), " ");
}

TEST_F(CtrExecTest, TopListsTheContainersProcesses) {
  start_sleeper("box");
  ASSERT_EQ(ctr({"exec", "-d", "box", "sleep", "999"}).code, 0);
  std::string out;
  ASSERT_TRUE(eventually([&] {
    out = ctr({"top", "box"}).out;
    return out.find("sleep 999") != std::string::npos;
  }, 10s)) << out;
  auto lines = split(trim(out), '\n');
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_TRUE(std::regex_search(lines[0], std::regex("^USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND$")))
      << lines[0];
  EXPECT_TRUE(std::regex_search(lines[1], std::regex("^root +1 +0 +[0-9.]+ +\\S+ +\\? +\\S+ +sleep 1000$")))
      << lines[1];

  auto chosen = ctr({"container", "top", "box", "pid,comm", "user"});
  EXPECT_EQ(chosen.code, 0) << chosen.describe();
  EXPECT_TRUE(std::regex_search(chosen.out, std::regex("PID +COMMAND +USER\n1 +sleep +root\n"))) << chosen.out;

  auto bad = ctr({"top", "box", "pid", "bogus"});
  EXPECT_EQ(bad.code, 125) << bad.describe();
  EXPECT_NE(bad.err.find("bogus"), std::string::npos) << bad.describe();
  EXPECT_NE(bad.err.find("etime"), std::string::npos) << "lists the valid descriptors: " << bad.err;
  ASSERT_EQ(ctr({"create", "--name", "idle", "busybox", "true"}).code, 0);
  EXPECT_EQ(ctr({"top", "idle"}).code, 125);
}

TEST_F(CtrExecTest, AttachRelaysOutputAndReturnsTheExitStatus) {
  auto run = ctr({"run", "-d", "--name", "waiter", "busybox", "sh", "-c",
                  "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo hi; echo oops >&2; exit 4"});
  ASSERT_EQ(run.code, 0) << run.describe();
  auto attached = spawn_ctr({"attach", "waiter"});
  // Give attach time to connect; output before that is only in the log.
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(ctr({"exec", "waiter", "touch", "/tmp/go"}).code, 0);
  EXPECT_EQ(finish(attached), 4) << Background::read_all(attached.err.get());
  EXPECT_EQ(attached.read_out(), "hi\n");

  auto stopped = ctr({"attach", "waiter"});
  EXPECT_EQ(stopped.code, 125) << stopped.describe();
  EXPECT_NE(stopped.err.find("running"), std::string::npos) << stopped.describe();
  EXPECT_EQ(ctr({"attach", "nosuchbox"}).code, 125);
}

TEST_F(CtrExecTest, AttachDetachesWithTheKeys) {
  ASSERT_EQ(ctr({"run", "-d", "-i", "--name", "cat", "busybox", "cat"}).code, 0);
  auto detach = [&](const std::string& keys_flag, const std::string& typed) {
    return run_shell("printf '" + typed + "' | " + shell_quote(ctr_binary()) + " --root " + shell_quote(root_) +
                     " attach " + keys_flag + " cat; echo \"status $?\"", 30);
  };
  auto by_default = detach("", "echo me\\n\\020\\021");
  EXPECT_NE(by_default.out.find("status 0"), std::string::npos) << by_default.describe();
  EXPECT_TRUE(has_state("cat", "running")) << state_of("cat");
  EXPECT_TRUE(eventually([&] { return ctr({"logs", "cat"}).out.find("echo me\n") != std::string::npos; }, 10s))
      << "what was typed before the keys reached the container";
  auto custom = detach("--detach-keys ctrl-x,x", "\\030x");
  EXPECT_NE(custom.out.find("status 0"), std::string::npos) << custom.describe();
  EXPECT_TRUE(has_state("cat", "running")) << state_of("cat");
  auto bad = ctr({"attach", "--detach-keys", "ctrl-p,nope", "cat"});
  EXPECT_EQ(bad.code, 125) << bad.describe();
  EXPECT_EQ(ctr({"run", "--rm", "--detach-keys", "bogus-key", "busybox", "true"}).code, 125);
}

TEST_F(CtrExecTest, ForegroundRunForwardsSignals) {
  // The container traps SIGTERM itself: its exit code is the result.
  auto trapped = spawn_ctr({"run", "--rm", "--name", "trap", "busybox", "sh", "-c",
                            "trap 'echo got TERM; exit 7' TERM; touch /tmp/ready; while :; do sleep 0.05; done"});
  ASSERT_TRUE(eventually([&] { return ctr({"exec", "trap", "test", "-e", "/tmp/ready"}).code == 0; }, 15s));
  ASSERT_EQ(trapped.process.kill(SIGTERM).ok(), true);
  EXPECT_EQ(finish(trapped), 7) << Background::read_all(trapped.err.get());
  EXPECT_NE(trapped.read_out().find("got TERM"), std::string::npos) << trapped.read_out();

  // --init forwards it to a command that dies of it: 128 + 2.
  auto dies = spawn_ctr({"run", "--rm", "--init", "--name", "dies", "busybox", "sleep", "1000"});
  ASSERT_TRUE(eventually([&] { return has_state("dies", "running"); }, 15s));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(dies.process.kill(SIGINT).ok());
  EXPECT_EQ(finish(dies), 130) << Background::read_all(dies.err.get());

  // --sig-proxy=false: ctr itself dies of the signal, the container lives on.
  auto unproxied = spawn_ctr({"run", "--sig-proxy=false", "--name", "kept", "busybox", "sleep", "1000"});
  ASSERT_TRUE(eventually([&] { return has_state("kept", "running"); }, 15s));
  ASSERT_TRUE(unproxied.process.kill(SIGTERM).ok());
  EXPECT_EQ(finish(unproxied), 128 + SIGTERM);
  EXPECT_TRUE(has_state("kept", "running")) << state_of("kept");
}

TEST_F(CtrExecTest, InitRunsTheCommandAsPid2ReapsAndForwardsStop) {
  auto pids = ctr({"run", "--rm", "--init", "busybox", "sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline"});
  EXPECT_EQ(pids.code, 0) << pids.describe();
  EXPECT_EQ(pids.out, "2\n/run/ctr-init -- sh -c echo $$; tr '\\0' ' ' < /proc/1/cmdline ");
  auto code = ctr({"run", "--rm", "--init", "busybox", "sh", "-c", "exit 9"});
  EXPECT_EQ(code.code, 9) << code.describe();

  // An orphan (the backgrounded sleep of a subshell that exits) is
  // reparented to ctr-init, which reaps it when it ends.
  start_sleeper("reaper", {"--init"});
  ASSERT_EQ(ctr({"exec", "reaper", "sh", "-c", "(sleep 0.2 &) ; true"}).code, 0);
  auto zombies = [&] {
    return ctr({"exec", "reaper", "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ' || true"}).out;
  };
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(zombies(), "0\n");

  auto start = std::chrono::steady_clock::now();
  auto stopped = ctr({"stop", "reaper"});
  EXPECT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "SIGTERM reached sleep through ctr-init";
  auto status = ctr({"inspect", "--format", "{{.State.ExitCode}}", "reaper"});
  EXPECT_EQ(trim(status.out), "143") << status.describe();
}

}  // namespace
}  // namespace ctr::itest
