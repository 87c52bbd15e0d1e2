// ctr-shim core: creation and its errors reported over the sync pipe, the
// k8s-file log, exit records (codes, signals, --timeout), and what a client
// learns when the shim is killed.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "tests/integration/shim_fixture.h"

namespace ctr::itest {
namespace {

class ShimCore : public ShimTest {};

TEST_F(ShimCore, LogsBothStreamsInK8sFileAndRecordsTheExitCode) {
  auto bundle = make_bundle();
  bundle.shell("echo out one; echo err one >&2; echo out two; printf 'no newline'; exit 3");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  ASSERT_GT(spawn_ok(o), 0);
  auto status = wait_exit(state);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->exit_code, 3);
  EXPECT_EQ(status.exit->signal, 0);
  EXPECT_EQ(status.exit->dropped_log_bytes, 0u);
  EXPECT_EQ(log_text(o, "stdout"), "out one\nout two\nno newline");
  EXPECT_EQ(log_text(o, "stderr"), "err one\n");
  std::regex record(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00 (stdout|stderr) [PF] .*$)");
  auto log_lines = lines(slurp(o.log_path));
  ASSERT_EQ(log_lines.size(), 4u) << slurp(o.log_path);
  for (const auto& line : log_lines) EXPECT_TRUE(std::regex_match(line, record)) << line;
  EXPECT_NE(slurp(o.log_path).find(" stdout P no newline\n"), std::string::npos) << slurp(o.log_path);
}

TEST_F(ShimCore, CreateWithoutStartWaitsForTheRuntimeStart) {
  auto bundle = make_bundle();
  bundle.shell("echo started");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  pid_t pid = spawn_ok(o);
  ASSERT_GT(pid, 0);
  auto status = shim::read_container_status(state);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->state, shim::ContainerState::running);
  EXPECT_EQ(status->pid, pid);
  EXPECT_EQ(this->status(o.id), "created");
  ASSERT_TRUE(rt({"start", o.id}).ok());
  auto exited = wait_exit(state);
  ASSERT_TRUE(exited.exit);
  EXPECT_EQ(exited.exit->exit_code, 0);
  EXPECT_EQ(log_text(o), "started\n");
}

TEST_F(ShimCore, MissingExecutableFailsAtOnceWith127) {
  auto bundle = make_bundle();
  bundle.args({"bahs"});
  auto state = new_state_dir();
  auto started = std::chrono::steady_clock::now();
  auto created = spawn(options(new_id(), bundle, state));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->ok());
  EXPECT_EQ(created->exit_code, 127);
  EXPECT_TRUE(contains_nocase(created->error, "\"bahs\""));
  EXPECT_TRUE(contains_nocase(created->error, "not found"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_FALSE(path_exists(state + "/shim.pid")) << "a shim whose container was never created leaves no pid file";
  EXPECT_FALSE(path_exists(state + "/attach"));
}

TEST_F(ShimCore, NonExecutableFileFailsWith126) {
  auto bundle = make_bundle();
  bundle.args({"/etc/passwd"});
  auto created = spawn(options(new_id(), bundle, new_state_dir()));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->ok());
  EXPECT_EQ(created->exit_code, 126);
  EXPECT_TRUE(contains_nocase(created->error, "permission denied"));
}

TEST_F(ShimCore, MissingRuntimeIsReportedBeforeAnythingStarts) {
  auto bundle = make_bundle();
  auto o = options(new_id(), bundle, new_state_dir());
  o.runtime = work() + "/no-such-runtime";
  auto created = spawn(o);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->ok());
  EXPECT_EQ(created->exit_code, 125);
  EXPECT_TRUE(contains_nocase(created->error, o.runtime));
  EXPECT_TRUE(contains_nocase(created->error, "--runtime"));
}

TEST_F(ShimCore, BrokenRuntimeMessageReachesTheCaller) {
  std::string broken = work() + "/broken-runtime";
  ASSERT_TRUE(write_file_atomic(broken, "#!/bin/sh\necho 'broken runtime: cannot frobnicate' >&2\nexit 1\n", 0755));
  auto bundle = make_bundle();
  auto o = options(new_id(), bundle, new_state_dir());
  o.runtime = broken;
  auto created = spawn(o);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->ok());
  EXPECT_EQ(created->exit_code, 125);
  EXPECT_TRUE(contains_nocase(created->error, "cannot frobnicate"));
}

TEST_F(ShimCore, UnwritableStateDirIsAClearError) {
  auto bundle = make_bundle();
  auto state = new_state_dir();
  ASSERT_EQ(::chmod(state.c_str(), 0500), 0);
  auto created = spawn(options(new_id(), bundle, state));
  (void)::chmod(state.c_str(), 0700);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->ok());
  EXPECT_EQ(created->exit_code, 125);
  EXPECT_TRUE(contains_nocase(created->error, "not writable"));
  EXPECT_TRUE(contains_nocase(created->error, state));
}

TEST_F(ShimCore, BadOptionsAreRejectedUpFront) {
  auto bundle = make_bundle();
  auto o = options(new_id(), bundle, new_state_dir());
  o.log_path.clear();
  auto created = spawn(o);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->ok());
  EXPECT_TRUE(contains_nocase(created->error, "--log-path"));
}

TEST_F(ShimCore, RecordsTheSignalThatKilledTheContainer) {
  auto bundle = make_bundle();
  bundle.shell("echo ready; exec sleep 1000");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  ASSERT_GT(spawn_ok(o), 0);
  ASSERT_TRUE(wait_for_log(o, "ready"));
  ASSERT_TRUE(rt({"kill", o.id, "KILL"}).ok());
  auto status = wait_exit(state);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->signal, 9);
  EXPECT_EQ(status.exit->exit_code, 137);
  EXPECT_FALSE(status.exit->timed_out);
  EXPECT_FALSE(status.exit->finished_at.empty());
}

TEST_F(ShimCore, TimeoutKillsTheContainer) {
  auto bundle = make_bundle();
  bundle.shell("exec sleep 1000");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  o.timeout = 1;
  auto started = std::chrono::steady_clock::now();
  ASSERT_GT(spawn_ok(o), 0);
  auto status = wait_exit(state, 20s);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->signal, 9);
  EXPECT_TRUE(status.exit->timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
}

TEST_F(ShimCore, KilledShimIsReportedAsExitedWithUnknownStatus) {
  auto bundle = make_bundle();
  bundle.shell("echo ready; exec sleep 1000");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  ASSERT_GT(spawn_ok(o), 0);
  ASSERT_TRUE(wait_for_log(o, "ready"));
  auto before = shim::read_container_status(state);
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_EQ(before->state, shim::ContainerState::running);
  ASSERT_GT(before->shim_pid, 0);
  ASSERT_EQ(::kill(before->shim_pid, SIGKILL), 0);
  auto after = shim::wait_container(state, 10s);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->state, shim::ContainerState::exited_unknown);
  EXPECT_FALSE(after->exit);
  EXPECT_EQ(after->pid, before->pid) << "the container's pid stays known, so ctr can still kill it";
}

TEST_F(ShimCore, ContainerClosingItsStdoutEarlyIsFine) {
  auto bundle = make_bundle();
  bundle.shell("echo before; exec >&- 2>&-; sleep 0.3; exit 2");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  ASSERT_GT(spawn_ok(o), 0);
  auto status = wait_exit(state);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->exit_code, 2);
  EXPECT_EQ(log_text(o), "before\n");
}

TEST_F(ShimCore, NoInheritedFdLeaksIntoTheShimOrTheContainer) {
  // An fd the caller forgot to mark close-on-exec.
  std::string marker = work() + "/leak-marker";
  ASSERT_TRUE(write_file_atomic(marker, "x"));
  UniqueFd leaky(::open(marker.c_str(), O_RDONLY));
  ASSERT_TRUE(leaky);
  auto bundle = make_bundle();
  bundle.shell("echo ready; ls /proc/self/fd | tr '\\n' ' '; echo; exec sleep 1000");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  pid_t pid = spawn_ok(o);
  leaky.reset();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_log(o, "ready"));
  auto status = shim::read_container_status(state);
  ASSERT_TRUE(status);
  for (pid_t holder : {status->shim_pid, pid}) {
    std::string fd_dir = "/proc/" + std::to_string(holder) + "/fd";
    DIR* dir = ::opendir(fd_dir.c_str());
    ASSERT_NE(dir, nullptr) << fd_dir;
    while (dirent* entry = ::readdir(dir)) {
      char target[4096];
      ssize_t n = ::readlinkat(::dirfd(dir), entry->d_name, target, sizeof target - 1);
      std::string link = n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
      EXPECT_NE(link, marker) << "leaked into " << fd_dir;
    }
    ::closedir(dir);
  }
  ASSERT_TRUE(wait_for_log(o, "0 1 2 3"));
  EXPECT_NE(log_text(o).find("\n0 1 2 3 \n"), std::string::npos) << "the container has only stdio: " << log_text(o);
  ASSERT_TRUE(rt({"kill", o.id, "KILL"}).ok());
  wait_exit(state);
}

TEST_F(ShimCore, ExitCommandRunsAfterTheRecordIsWritten) {
  auto bundle = make_bundle();
  bundle.shell("exit 5");
  auto state = new_state_dir();
  std::string script = work() + "/exit-command";
  std::string copy = work() + "/exit-seen";
  ASSERT_TRUE(
      write_file_atomic(script, "#!/bin/sh\ncat \"$1/exit.json\" > \"$2.tmp\" && mv \"$2.tmp\" \"$2\"\n", 0755));
  auto o = options(new_id(), bundle, state);
  o.start = true;
  o.exit_command = script;
  o.exit_args = {state, copy};
  ASSERT_GT(spawn_ok(o), 0);
  wait_exit(state);
  ASSERT_TRUE(wait_for_file(copy, 10s));
  auto record = shim::parse_exit_record(slurp(copy));
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->exit_code, 5);
}

}  // namespace
}  // namespace ctr::itest
