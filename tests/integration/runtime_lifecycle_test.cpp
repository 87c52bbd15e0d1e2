// The container lifecycle through the runtime's command line: create/start
// split, state, kill, delete, list, pid files, foreground `run` with its
// exit status and stdio, --preserve-fds.
#include <fcntl.h>
#include <unistd.h>

#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Lifecycle : public RuntimeTest {};

TEST_F(Lifecycle, CreateDoesNotRunTheProcessUntilStart) {
  std::string data = host_dir("data");
  auto bundle = make_bundle();
  // Written then renamed: the marker appears with its content.
  bundle.bind(data, "/var", false).shell("echo ran > /var/marker.tmp && mv /var/marker.tmp /var/marker; exec sleep 30");
  std::string id = new_id();
  Capture output;
  auto created = rt({"create", "--bundle", bundle.write(), id}, RunOptions().output(output.fd()));
  ASSERT_TRUE(created.ok()) << created.describe() << output.read();
  EXPECT_EQ(status(id), "created");
  // The process must not have run: give a wrongly started one time to write.
  usleep(200 * 1000);
  EXPECT_FALSE(path_exists(data + "/marker")) << "the container process ran before `start`";

  auto started = rt({"start", id});
  ASSERT_TRUE(started.ok()) << started.describe();
  ASSERT_TRUE(wait_for_file(data + "/marker")) << "the process did not run after `start`: " << output.read();
  EXPECT_EQ(slurp(data + "/marker"), "ran\n");
  EXPECT_EQ(status(id), "running");
}

TEST_F(Lifecycle, StatusGoesFromCreatedToRunningToStopped) {
  std::string data = host_dir("data");
  auto bundle = make_bundle();
  // Runs until the test removes the go-file's sibling: exits by itself.
  bundle.bind(data, "/var", false).shell("while [ ! -e /var/stop ]; do sleep 0.05; done; exit 0");
  std::string id = new_id();
  Capture output;
  auto created = rt({"create", "--bundle", bundle.write(), id}, RunOptions().output(output.fd()));
  ASSERT_TRUE(created.ok()) << created.describe();
  EXPECT_EQ(status(id), "created");
  ASSERT_TRUE(rt({"start", id}).ok());
  EXPECT_EQ(status(id), "running");
  ASSERT_TRUE(write_file_atomic(data + "/stop", ""));
  EXPECT_TRUE(wait_for_status(id, "stopped")) << "status is " << status(id);
  auto deleted = rt({"delete", id});
  EXPECT_TRUE(deleted.ok()) << deleted.describe();
  EXPECT_FALSE(state(id).has_value()) << "state still answers after delete";
  EXPECT_TRUE(root_entries().empty()) << "left in --root: " << testing::PrintToString(root_entries());
}

TEST_F(Lifecycle, StateReportsOciFieldsAndPidFileMatches) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id();
  std::string pid_file = work() + "/container.pid";
  Capture output;
  auto created =
      rt({"create", "--bundle", bundle.write(), "--pid-file", pid_file, id}, RunOptions().output(output.fd()));
  ASSERT_TRUE(created.ok()) << created.describe();
  auto st = state(id);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*st)["id"], id);
  EXPECT_EQ((*st)["status"], "created");
  EXPECT_TRUE((*st)["ociVersion"].is_string()) << st->dump();
  EXPECT_EQ((*st)["bundle"], bundle.dir()) << st->dump();
  ASSERT_TRUE((*st)["pid"].is_number_integer()) << st->dump();
  int pid = (*st)["pid"].get<int>();
  EXPECT_GT(pid, 0);
  auto pid_text = read_file(pid_file);
  ASSERT_TRUE(pid_text) << pid_text.error().message;
  EXPECT_EQ(trimmed(*pid_text), std::to_string(pid));
  EXPECT_FALSE(process_gone(pid)) << "state pid " << pid << " is not a live process";
}

TEST_F(Lifecycle, StartTwiceFails) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id();
  Capture output;
  ASSERT_TRUE(create_and_start(id, bundle, output));
  auto again = rt({"start", id});
  EXPECT_NE(again.exit_code, 0) << again.describe();
  EXPECT_FALSE(again.err.empty()) << "no error message";
  EXPECT_EQ(status(id), "running");
}

struct KillCase {
  const char* signal;
  bool trapped;  // the init installs a handler (PID 1 ignores unhandled SIGTERM)
  friend void PrintTo(const KillCase& c, std::ostream* os) { *os << c.signal; }
};

class KillSignal : public RuntimeTest, public testing::WithParamInterface<KillCase> {};

TEST_P(KillSignal, StopsTheContainer) {
  std::string data = host_dir("data");
  auto bundle = make_bundle();
  bundle.bind(data, "/var", false)
      .shell("trap 'echo got-term > /var/term; exit 0' TERM; echo up > /var/up; while :; do sleep 0.05; done");
  std::string id = new_id();
  Capture output;
  ASSERT_TRUE(create_and_start(id, bundle, output));
  ASSERT_TRUE(wait_for_file(data + "/up")) << output.read();
  int pid = state(id).value_or(json::object()).value("pid", 0);
  auto killed = rt({"kill", id, GetParam().signal});
  ASSERT_TRUE(killed.ok()) << killed.describe();
  EXPECT_TRUE(wait_for_status(id, "stopped")) << "status is " << status(id);
  if (GetParam().trapped) {
    EXPECT_EQ(slurp(data + "/term"), "got-term\n");
  } else {
    EXPECT_FALSE(path_exists(data + "/term")) << "SIGKILL ran the TERM trap";
  }
  if (pid > 0) {
    EXPECT_TRUE(process_gone(pid));
  }
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, KillSignal,
                         testing::Values(KillCase{"TERM", true}, KillCase{"SIGTERM", true}, KillCase{"15", true},
                                         KillCase{"KILL", false}, KillCase{"SIGKILL", false}, KillCase{"9", false}),
                         [](const auto& info) { return std::string("Signal_") + info.param.signal; });

TEST_F(Lifecycle, DeleteRunningNeedsForce) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id();
  Capture output;
  ASSERT_TRUE(create_and_start(id, bundle, output));
  int pid = state(id).value_or(json::object()).value("pid", 0);
  ASSERT_GT(pid, 0);

  auto plain = rt({"delete", id});
  EXPECT_NE(plain.exit_code, 0) << "delete of a running container without --force succeeded";
  EXPECT_EQ(status(id), "running");
  EXPECT_FALSE(process_gone(pid));

  auto forced = rt({"delete", "--force", id});
  EXPECT_TRUE(forced.ok()) << forced.describe();
  EXPECT_FALSE(state(id).has_value());
  reap_orphans();
  EXPECT_TRUE(leaked_processes().empty()) << "the container process survived delete --force";
  EXPECT_TRUE(root_entries().empty()) << testing::PrintToString(root_entries());
}

TEST_F(Lifecycle, DeleteForceOfCreatedContainer) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id();
  Capture output;
  ASSERT_TRUE(rt({"create", "--bundle", bundle.write(), id}, RunOptions().output(output.fd())).ok());
  auto forced = rt({"delete", "--force", id});
  EXPECT_TRUE(forced.ok()) << forced.describe();
  EXPECT_TRUE(leaked_processes().empty());
  EXPECT_TRUE(listed_ids().empty());
}

TEST_F(Lifecycle, ListShowsContainersAndTheirStatus) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string created_id = new_id("created"), running_id = new_id("running");
  Capture output;
  ASSERT_TRUE(rt({"create", "--bundle", bundle.write(), created_id}, RunOptions().output(output.fd())).ok());
  ASSERT_TRUE(create_and_start(running_id, bundle, output));

  auto listed = rt({"list"});
  ASSERT_TRUE(listed.ok()) << listed.describe();
  bool saw_created = false, saw_running = false;
  for (const auto& line : lines(listed.out)) {
    if (line.find(created_id) != std::string::npos) saw_created = line.find("created") != std::string::npos;
    if (line.find(running_id) != std::string::npos) saw_running = line.find("running") != std::string::npos;
  }
  EXPECT_TRUE(saw_created) << listed.out;
  EXPECT_TRUE(saw_running) << listed.out;
  auto ids = listed_ids();
  EXPECT_EQ(ids.size(), 2u) << listed.out;
}

TEST_F(Lifecycle, RunPassesTheExitStatusThrough) {
  auto bundle = make_bundle();
  bundle.shell("echo about-to-exit; exit 3");
  auto result = run_bundle(bundle);
  EXPECT_EQ(result.exit_code, 3) << result.describe();
  EXPECT_EQ(result.out, "about-to-exit\n");
  EXPECT_TRUE(root_entries().empty()) << "run left state behind: " << testing::PrintToString(root_entries());
}

TEST_F(Lifecycle, RunReportsDeathBySignalAs128PlusN) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id();
  auto running = runtime().start({"run", "--bundle", bundle.write(), id});
  ASSERT_TRUE(wait_for_status(id, "running")) << "the container never ran";
  auto killed = rt({"kill", id, "KILL"});
  ASSERT_TRUE(killed.ok()) << killed.describe();
  auto result = running.finish();
  EXPECT_EQ(result.exit_code, 128 + 9) << result.describe();
}

TEST_F(Lifecycle, RunPassesStdinAndStdoutThrough) {
  auto bundle = make_bundle();
  bundle.shell("cat; echo to-stderr >&2");
  auto result = run_bundle(bundle, RunOptions().input("hello through stdin\nsecond line\n"));
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "hello through stdin\nsecond line\n");
  EXPECT_TRUE(contains_nocase(result.err, "to-stderr\n"));
}

TEST_F(Lifecycle, PreserveFdsPassesAnExtraFd) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  ASSERT_TRUE(write_all(write_end.get(), std::string("data through fd 3\n")));
  write_end.reset();
  auto bundle = make_bundle();
  bundle.shell("cat <&3");
  auto result =
      rt({"run", "--preserve-fds", "1", "--bundle", bundle.write(), new_id()}, RunOptions().fds({read_end.get()}));
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "data through fd 3\n");
}

TEST_F(Lifecycle, FdsNotPreservedAreClosed) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  auto bundle = make_bundle();
  // Without --preserve-fds, fd 3 must not reach the container (CVE-2024-21626 class leaks).
  bundle.shell("ls /proc/self/fd | sort -n | tr '\\n' ' '");
  auto result = run_bundle(bundle, RunOptions().fds({read_end.get()}));
  ASSERT_TRUE(result.ok()) << result.describe();
  // 0 1 2 and the fd ls uses to read the directory (3).
  EXPECT_EQ(result.out, "0 1 2 3 ") << "fds beyond stdio leaked into the container";
}

TEST_F(Lifecycle, EnvAndCwdAreApplied) {
  auto bundle = make_bundle();
  bundle.env("GREETING=hello world").env("EMPTY=").cwd("/tmp").shell("echo \"$GREETING\"; echo \"[$EMPTY]\"; pwd");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "hello world\n[]\n/tmp\n");
}

TEST_F(Lifecycle, SpecRootlessBundleRuns) {
  std::string dir = host_dir("spec-bundle");
  auto generated = rt({"spec", "--rootless", "--bundle", dir});
  ASSERT_TRUE(generated.ok()) << generated.describe();
  auto text = read_file(dir + "/config.json");
  ASSERT_TRUE(text) << text.error().message;
  json config = json::parse(*text);
  // Explicit mappings are optional (crun maps the caller when there are
  // none); what counts is the map the process ends up with.
  if (config["linux"].contains("uidMappings")) {
    EXPECT_EQ(config["linux"]["uidMappings"][0]["hostID"], ::getuid()) << *text;
  }
  bool has_user_ns = false;
  for (const auto& ns : config["linux"]["namespaces"]) has_user_ns |= ns.value("type", "") == "user";
  EXPECT_TRUE(has_user_ns) << "a rootless spec without a user namespace:\n" << *text;
  config["root"]["path"] = busybox_rootfs();
  config["process"]["terminal"] = false;
  config["process"]["args"] = {"sh", "-c", "echo $$; cat /proc/self/uid_map"};
  ASSERT_TRUE(write_file_atomic(dir + "/config.json", config.dump()));
  auto result = rt({"run", "--bundle", dir, new_id()});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_GE(out.size(), 2u) << result.out;
  EXPECT_EQ(out[0], "1");
  // Root is the caller: `0 UID 1` first; with explicit mappings, exactly those.
  EXPECT_EQ(words(out[1]), (std::vector<std::string>{"0", std::to_string(::getuid()), "1"})) << result.out;
  if (config["linux"].contains("uidMappings")) {
    std::vector<std::vector<std::string>> expected, actual;
    for (const auto& m : config["linux"]["uidMappings"])
      expected.push_back({std::to_string(m["containerID"].get<long>()), std::to_string(m["hostID"].get<long>()),
                          std::to_string(m["size"].get<long>())});
    for (size_t i = 1; i < out.size(); ++i) actual.push_back(words(out[i]));
    EXPECT_EQ(actual, expected) << result.out;
  }
}

}  // namespace
}  // namespace ctr::itest
