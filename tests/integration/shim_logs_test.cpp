// ctr-shim logging: json-file, rotation, long lines, a full disk, and the seed
// scenario (the container keeps logging after its launcher is SIGKILLed).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "runtime/base/strings.h"
#include "tests/integration/shim_fixture.h"

namespace ctr::itest {
namespace {

// The seed scenario's launcher is this test binary run again with
// CTR_SHIM_TEST_LAUNCHER set: before main() it starts a shim through the
// client library with the arguments in CTR_SHIM_TEST_ARGS (separated by
// \x1f), prints "pid N" (or "error ..."), and waits to be killed.
[[maybe_unused]] const bool launcher_mode = [] {
  const char* args_env = std::getenv("CTR_SHIM_TEST_ARGS");
  if (!std::getenv("CTR_SHIM_TEST_LAUNCHER") || !args_env) return false;
  auto parsed = shim::parse_options(split(args_env, '\x1f'), std::getenv("CTR_SHIM_TEST_LAUNCHER"));
  std::string line;
  if (!parsed) {
    line = "error " + parsed.error().message + "\n";
  } else {
    shim::SpawnShimOptions spawn;
    spawn.shim_binary = std::getenv("CTR_SHIM_TEST_LAUNCHER");
    spawn.shim = *parsed;
    auto created = shim::spawn_shim(spawn);
    if (!created)
      line = "error " + created.error().message + "\n";
    else if (!created->ok())
      line = "error " + created->error + "\n";
    else
      line = "pid " + std::to_string(created->pid) + "\n";
  }
  (void)write_all(1, line);
  for (;;) ::pause();
}();

class ShimLogs : public ShimTest {
 protected:
  // Runs the launcher (this binary in launcher mode) for `o`; its stdout
  // goes to `reply`.
  ChildProcess launch(const shim::ShimOptions& o, UniqueFd& reply) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    reply.reset(fds[0]);
    UniqueFd out_write(fds[1]);
    SpawnOptions launch;
    launch.inherit_env = false;
    launch.env = {"PATH=/usr/bin:/bin", "CTR_SHIM_TEST_LAUNCHER=" + shim_binary(),
                  "CTR_SHIM_TEST_ARGS=" + join(shim::shim_arguments(o), "\x1f")};
    launch.stdout_fd = out_write.get();
    auto lock = spawn_lock();
    auto spawned = spawn_process({"/proc/self/exe"}, launch);
    EXPECT_TRUE(spawned) << spawned.error().message;
    if (!spawned) return ChildProcess();
    track_child(spawned->pid());
    return std::move(*spawned);
  }
  void kill_launcher(ChildProcess& launcher) {
    ASSERT_TRUE(launcher.kill(SIGKILL));
    auto ended = launcher.wait();
    untrack_child(launcher.pid());
    ASSERT_TRUE(ended && ended->signal == SIGKILL);
  }
};

TEST_F(ShimLogs, KeepsLoggingAfterTheLauncherIsKilled) {
  auto bundle = make_bundle();
  bundle.shell("i=0; while true; do echo \"line $i\"; i=$((i+1)); sleep 0.1; done");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  UniqueFd out_read;
  ChildProcess launcher = launch(o, out_read);
  ASSERT_GT(launcher.pid(), 0);
  std::string reply;
  char c;
  while (reply.find('\n') == std::string::npos && ::read(out_read.get(), &c, 1) == 1) reply += c;
  ASSERT_TRUE(starts_with(reply, "pid ")) << "launcher said: " << reply;
  ASSERT_TRUE(wait_for_log(o, "line 3")) << log_text(o);
  kill_launcher(launcher);
  // Well after the launcher's death the container still runs and logs.
  ASSERT_TRUE(wait_for_log(o, "line 25", 20s)) << log_text(o);
  auto status = shim::read_container_status(state);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->state, shim::ContainerState::running);
  ASSERT_TRUE(rt({"kill", o.id, "KILL"}).ok());
  wait_exit(state);
  auto logged = lines(log_text(o, "stdout"));
  ASSERT_GE(logged.size(), 26u);
  for (size_t i = 0; i < logged.size(); ++i) ASSERT_EQ(logged[i], "line " + std::to_string(i)) << "gap or reorder";
}

TEST_F(ShimLogs, SurvivesTheLauncherKilledDuringCreate) {
  auto bundle = make_bundle();
  bundle.shell("echo first; sleep 0.5; echo second; exit 6");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  UniqueFd reply;
  ChildProcess launcher = launch(o, reply);
  ASSERT_GT(launcher.pid(), 0);
  // shim.pid appears as the shim starts, before it asks the runtime to create.
  ASSERT_TRUE(wait_for_file(state + "/shim.pid", 10s));
  kill_launcher(launcher);
  auto status = wait_exit(state);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->exit_code, 6);
  EXPECT_EQ(log_text(o), "first\nsecond\n");
}

TEST_F(ShimLogs, PassthroughGivesTheContainerTheCallersStdio) {
  auto bundle = make_bundle();
  bundle.shell("echo straight through; echo and err >&2");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  o.log_driver = shim::LogDriver::passthrough;
  o.log_path.clear();
  Capture output;
  shim::SpawnShimOptions spawn;
  spawn.shim_binary = shim_binary();
  spawn.shim = o;
  spawn.stdout_fd = spawn.stderr_fd = output.fd();
  {
    auto lock = spawn_lock();
    auto created = shim::spawn_shim(spawn);
    ASSERT_TRUE(created && created->ok()) << (created ? created->error : created.error().message);
  }
  wait_exit(state);
  EXPECT_EQ(output.read(), "straight through\nand err\n");
}

TEST_F(ShimLogs, JsonFileIsDockersFormat) {
  auto bundle = make_bundle();
  bundle.shell("echo 'say \"hi\"'; printf 'tab\\there\\n' >&2; printf 'end'");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  o.log_driver = shim::LogDriver::json_file;
  ASSERT_GT(spawn_ok(o), 0);
  wait_exit(state);
  auto text = slurp(o.log_path);
  auto records = lines(text);
  ASSERT_EQ(records.size(), 3u) << text;
  std::vector<nlohmann::json> parsed;
  for (const auto& line : records) {
    auto value = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(value.is_discarded()) << line;
    ASSERT_TRUE(value["log"].is_string() && value["stream"].is_string() && value["time"].is_string()) << line;
    parsed.push_back(value);
  }
  auto find = [&](const std::string& log) {
    for (const auto& value : parsed)
      if (value["log"] == log) return value;
    return nlohmann::json();
  };
  EXPECT_EQ(find("say \"hi\"\n")["stream"], "stdout") << text;
  EXPECT_EQ(find("tab\there\n")["stream"], "stderr") << text;
  EXPECT_EQ(find("end")["stream"], "stdout") << text;
  EXPECT_EQ(log_text(o, "stdout"), "say \"hi\"\nend");
}

TEST_F(ShimLogs, RotatesAtMaxSizeKeepingMaxFiles) {
  auto bundle = make_bundle();
  bundle.shell("i=0; while [ $i -lt 3000 ]; do echo \"rotation line $i\"; i=$((i+1)); done");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  o.log_max_size = 8192;
  o.log_max_files = 3;
  ASSERT_GT(spawn_ok(o), 0);
  wait_exit(state);
  for (const char* suffix : {"", ".1", ".2"}) {
    struct stat st;
    ASSERT_EQ(::stat((o.log_path + suffix).c_str(), &st), 0) << suffix;
    EXPECT_LE(st.st_size, 8192) << suffix;
    EXPECT_GT(st.st_size, 0) << suffix;
  }
  EXPECT_FALSE(path_exists(o.log_path + ".3"));
  auto logged = lines(log_text(o));
  ASSERT_GT(logged.size(), 100u);
  // The kept files hold the newest lines, consecutive, ending with the last one.
  size_t first = 3000 - logged.size();
  for (size_t i = 0; i < logged.size(); ++i) ASSERT_EQ(logged[i], "rotation line " + std::to_string(first + i));
}

TEST_F(ShimLogs, SplitsLongLinesIntoPartialRecords) {
  auto bundle = make_bundle();
  bundle.shell("i=0; while [ $i -lt 4000 ]; do printf 0123456789; i=$((i+1)); done; echo; echo short");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  ASSERT_GT(spawn_ok(o), 0);
  wait_exit(state);
  auto entries = shim::read_log(o.log_driver, o.log_path);
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_GE(entries->size(), 4u);
  for (const auto& entry : *entries) EXPECT_LE(entry.text.size(), 16384u);
  std::string expected;
  for (int i = 0; i < 4000; ++i) expected += "0123456789";
  EXPECT_EQ(shim::log_text(*entries), expected + "\nshort\n");
}

TEST_F(ShimLogs, FullDiskDropsAndCountsWithoutBlockingTheContainer) {
  // /dev/full fails every write with ENOSPC, as a full disk does.
  std::string log = work() + "/full.log";
  ASSERT_EQ(::symlink("/dev/full", log.c_str()), 0);
  auto bundle = make_bundle();
  bundle.shell("i=0; while [ $i -lt 2000 ]; do echo \"0123456789 $i\"; i=$((i+1)); done; exit 4");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.start = true;
  o.log_path = log;
  ASSERT_GT(spawn_ok(o), 0);
  auto status = wait_exit(state, 20s);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->exit_code, 4);
  uint64_t written = 0;
  for (int i = 0; i < 2000; ++i) written += 11 + std::to_string(i).size();  // text without newlines
  EXPECT_EQ(status.exit->dropped_log_bytes, written);
}

}  // namespace
}  // namespace ctr::itest
