// OCI hooks: every kind runs once, in lifecycle order, with the state JSON
// on stdin; a failing hook fails the operation and leaves nothing behind; a
// hook that overruns its timeout is killed and fails the operation.
#include <unistd.h>

#include "runtime/base/strings.h"
#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Hooks : public RuntimeTest {};

// A hook that appends "NAME <state JSON>" as one line to `log`. `sh` is the
// host's for hooks run in the runtime namespace (and createContainer, whose
// path resolves there too), busybox's for startContainer, which runs in the
// container: both have printf and cat.
json logging_hook(const std::string& name, const std::string& log) {
  return {{"path", "/bin/sh"},
          {"args", {"sh", "-c", "printf '%s ' " + name + " >> " + log + "; cat >> " + log + "; echo >> " + log}}};
}

struct HookLine {
  std::string name;
  json state;
};

std::vector<HookLine> parse_hook_log(const std::string& text) {
  std::vector<HookLine> entries;
  for (const auto& line : lines(text)) {
    if (trimmed(line).empty()) continue;
    auto space = line.find(' ');
    HookLine entry{line.substr(0, space), json()};
    try {
      entry.state = json::parse(line.substr(space + 1));
    } catch (const json::exception&) {
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

TEST_F(Hooks, AllHooksRunInLifecycleOrderWithState) {
  std::string logs = host_dir("hooklog");
  std::string host_log = logs + "/hooks.log";
  std::string container_log = "/var/hooks.log";  // the same file, bind-mounted
  auto bundle = make_bundle();
  bundle.bind(logs, "/var", false).args({"sleep", "30"});
  bundle.hooks({{"prestart", {logging_hook("prestart", host_log)}},
                {"createRuntime", {logging_hook("createRuntime", host_log)}},
                {"createContainer", {logging_hook("createContainer", host_log)}},
                {"startContainer", {logging_hook("startContainer", container_log)}},
                {"poststart", {logging_hook("poststart", host_log)}},
                {"poststop", {logging_hook("poststop", host_log)}}});
  std::string id = new_id();
  Capture output;
  auto created = rt({"create", "--bundle", bundle.write(), id}, RunOptions().output(output.fd()));
  ASSERT_TRUE(created.ok()) << created.describe() << output.read();
  int pid = state(id).value_or(json::object()).value("pid", 0);
  ASSERT_GT(pid, 0);
  auto after_create = parse_hook_log(slurp(host_log));
  ASSERT_TRUE(rt({"start", id}).ok());
  ASSERT_TRUE(wait_for_status(id, "running"));
  ASSERT_TRUE(rt({"kill", id, "KILL"}).ok());
  ASSERT_TRUE(wait_for_status(id, "stopped"));
  auto deleted = rt({"delete", id});
  ASSERT_TRUE(deleted.ok()) << deleted.describe();

  std::vector<std::string> created_names;
  for (const auto& entry : after_create) created_names.push_back(entry.name);
  EXPECT_EQ(created_names, (std::vector<std::string>{"prestart", "createRuntime", "createContainer"}))
      << "hooks run by `create`:\n"
      << slurp(host_log);

  auto entries = parse_hook_log(slurp(host_log));
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.name);
  EXPECT_EQ(names, (std::vector<std::string>{"prestart", "createRuntime", "createContainer", "startContainer",
                                             "poststart", "poststop"}))
      << slurp(host_log);
  for (const auto& entry : entries) {
    ASSERT_TRUE(entry.state.is_object()) << entry.name << " got no state JSON on stdin:\n" << slurp(host_log);
    EXPECT_EQ(entry.state.value("id", ""), id) << entry.name;
    EXPECT_EQ(entry.state.value("bundle", ""), bundle.dir()) << entry.name;
    EXPECT_TRUE(entry.state.contains("ociVersion")) << entry.name;
    // runtime-spec, State: the pid "as seen by the runtime" for hooks run in
    // the runtime namespace, "as seen by the container" (1) for those run in
    // the container namespace.
    bool in_container = entry.name == "createContainer" || entry.name == "startContainer";
    if (entry.name != "poststop") {
      EXPECT_EQ(entry.state.value("pid", 0), in_container ? 1 : pid) << entry.name << ": " << entry.state;
    }
  }
  if (!entries.empty() && entries.back().name == "poststop") {
    EXPECT_EQ(entries.back().state.value("status", ""), "stopped") << entries.back().state;
  }
}

TEST_F(Hooks, HookGetsArgsAndEnv) {
  std::string logs = host_dir("hooklog");
  auto bundle = make_bundle();
  bundle.args({"true"});
  bundle.hooks(
      {{"createRuntime",
        {{{"path", "/bin/sh"},
          {"args",
           {"sh", "-c", "cat > /dev/null; echo \"$0 $1 $HOOK_VAR\" > " + logs + "/out", "first-arg", "second-arg"}},
          {"env", {"HOOK_VAR=from-env"}}}}}});
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(slurp(logs + "/out"), "first-arg second-arg from-env\n");
}

TEST_F(Hooks, FailingCreateRuntimeHookFailsCreate) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  bundle.hooks({{"createRuntime",
                 {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /dev/null; echo hook-said-no >&2; exit 3"}}}}}});
  std::string id = new_id();
  auto created = rt({"create", "--bundle", bundle.write(), id});
  EXPECT_NE(created.exit_code, 0) << created.describe();
  EXPECT_TRUE(contains_nocase(created.all(), "createRuntime")) << "the error does not name the hook";
  EXPECT_FALSE(state(id).has_value()) << "a container is left after a failed hook";
  EXPECT_TRUE(listed_ids().empty());
  EXPECT_TRUE(root_entries().empty()) << testing::PrintToString(root_entries());
  EXPECT_TRUE(leaked_processes().empty()) << "a container process survived the failed create";
}

TEST_F(Hooks, HookTimeoutFailsCreate) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  bundle.hooks({{"prestart",
                 {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /dev/null; exec sleep 10"}}, {"timeout", 1}}}}});
  std::string id = new_id();
  auto created = rt({"create", "--bundle", bundle.write(), id});
  EXPECT_NE(created.exit_code, 0) << created.describe();
  EXPECT_LT(created.seconds, 5.0) << "the hook's 1 s timeout was not enforced";
  EXPECT_TRUE(contains_nocase(created.all(), "prestart")) << "the error does not name the hook";
  EXPECT_TRUE(contains_nocase(created.all(), "time")) << "the error does not say it timed out";
  EXPECT_FALSE(state(id).has_value());
  EXPECT_TRUE(root_entries().empty()) << testing::PrintToString(root_entries());
  EXPECT_TRUE(leaked_processes().empty());
}

}  // namespace
}  // namespace ctr::itest
