// Bad input: each error exits non-zero with a message that names the field,
// value or id at fault, and leaves no state directory and no process behind.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

// The message talks about the container id: "id" or "ID" as a word.
bool names_the_id(const std::string& message) {
  return std::regex_search(message, std::regex("\\bid\\b", std::regex::icase));
}

class Errors : public RuntimeTest {
 protected:
  // `create` of `bundle` as `id` must fail, naming every one of `needles`
  // (case-insensitive), and leave nothing behind.
  void expect_clean_create_failure(const std::string& bundle_dir, const std::string& id,
                                   const std::vector<std::string>& needles) {
    auto result = rt({"create", "--bundle", bundle_dir, id}, RunOptions().output(capture_.fd()));
    std::string message = capture_.read();
    EXPECT_NE(result.exit_code, 0) << "create succeeded:\n" << message;
    EXPECT_FALSE(result.timed_out);
    for (const auto& needle : needles) EXPECT_TRUE(contains_nocase(message, needle)) << "the error does not name it";
    expect_nothing_left(id);
  }

  void expect_nothing_left(const std::string& id) {
    EXPECT_TRUE(root_entries().empty()) << "left in --root: " << testing::PrintToString(root_entries());
    EXPECT_TRUE(listed_ids().empty()) << "list: " << rt({"list"}).out;
    if (!id.empty() && id.find('/') == std::string::npos && id != "..") {
      EXPECT_FALSE(state(id).has_value());
    }
    auto leaked = leaked_processes();
    EXPECT_TRUE(leaked.empty()) << leaked.size() << " container process(es) left behind";
  }

  Capture capture_;
};

TEST_F(Errors, MissingConfigJson) {
  std::string dir = host_dir("empty-bundle");
  expect_clean_create_failure(dir, new_id(), {"config.json"});
}

TEST_F(Errors, MalformedConfigJson) {
  std::string dir = host_dir("bad-json");
  ASSERT_TRUE(write_file_atomic(dir + "/config.json", "{\"ociVersion\": \"1.0.2\", \"process\": {\n"));
  expect_clean_create_failure(dir, new_id(), {"config.json"});
}

TEST_F(Errors, WrongTypeInConfigNamesTheField) {
  auto bundle = make_bundle();
  bundle.config()["hostname"] = 42;
  expect_clean_create_failure(bundle.write(), new_id(), {"hostname"});
}

TEST_F(Errors, UnknownNamespaceType) {
  auto bundle = make_bundle();
  bundle.add_namespace("bogusns");
  expect_clean_create_failure(bundle.write(), new_id(), {"bogusns"});
}

TEST_F(Errors, UnknownMountType) {
  auto bundle = make_bundle();
  bundle.add_mount({{"destination", "/home"}, {"type", "bogusfs"}, {"source", "none"}});
  expect_clean_create_failure(bundle.write(), new_id(), {"bogusfs", "/home"});
}

TEST_F(Errors, BadCapabilityName) {
  auto bundle = make_bundle();
  bundle.capabilities({"CAP_CHOWN", "CAP_BOGUS"});
  expect_clean_create_failure(bundle.write(), new_id(), {"CAP_BOGUS"});
}

TEST_F(Errors, BadSeccompAction) {
  auto bundle = make_bundle();
  bundle.seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls", json::array({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_BOGUS"}}})}});
  expect_clean_create_failure(bundle.write(), new_id(), {"SCMP_ACT_BOGUS"});
}

TEST_F(Errors, BadSeccompDefaultAction) {
  auto bundle = make_bundle();
  bundle.seccomp({{"defaultAction", "SCMP_ACT_NOPE"}});
  expect_clean_create_failure(bundle.write(), new_id(), {"SCMP_ACT_NOPE"});
}

TEST_F(Errors, BadSeccompArgumentOperator) {
  auto bundle = make_bundle();
  bundle.seccomp(
      {{"defaultAction", "SCMP_ACT_ALLOW"},
       {"syscalls", json::array({{{"names", {"kill"}},
                                  {"action", "SCMP_ACT_ERRNO"},
                                  {"args", json::array({{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_BOGUS"}}})}}})}});
  expect_clean_create_failure(bundle.write(), new_id(), {"SCMP_CMP_BOGUS"});
}

TEST_F(Errors, RootfsDoesNotExist) {
  auto bundle = make_bundle();
  std::string missing = work() + "/no-such-rootfs";
  bundle.root(missing, true);
  expect_clean_create_failure(bundle.write(), new_id(), {missing});
}

TEST_F(Errors, EmptyId) {
  auto bundle = make_bundle();
  bundle.args({"true"});
  auto result = rt({"create", "--bundle", bundle.write(), ""});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(names_the_id(result.all())) << result.describe();
  expect_nothing_left("");
}

class BadId : public Errors, public testing::WithParamInterface<const char*> {};

TEST_P(BadId, IsRejected) {
  auto bundle = make_bundle();
  bundle.args({"true"});
  std::string id = GetParam();
  expect_clean_create_failure(bundle.write(), id, {id});
  EXPECT_TRUE(names_the_id(capture_.read())) << "the error does not say the id is at fault:\n" << capture_.read();
  // Nothing may have been created outside the root either (`..` or `a/b`
  // resolved against it): the work dir holds only the root and the bundle.
  std::vector<std::string> entries;
  if (DIR* dir = ::opendir(work().c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != ".." && name != "root" && name != "bundle") entries.push_back(name);
    }
    ::closedir(dir);
  }
  EXPECT_TRUE(entries.empty()) << "created outside --root: " << testing::PrintToString(entries);
}

INSTANTIATE_TEST_SUITE_P(Errors, BadId, testing::Values("a/b", "..", "../escape", "."), [](const auto& info) {
  std::string name;
  for (char c : std::string(info.param)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return "Id_" + name + "_" + std::to_string(info.index);
});

TEST_F(Errors, DuplicateId) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id("dup");
  ASSERT_TRUE(rt({"create", "--bundle", bundle.write(), id}, RunOptions().output(capture_.fd())).ok());
  int pid = state(id).value_or(json::object()).value("pid", 0);
  auto again = rt({"create", "--bundle", bundle.write(), id});
  EXPECT_NE(again.exit_code, 0) << "a second container with the same id was created";
  EXPECT_TRUE(contains_nocase(again.all(), id)) << again.describe();
  // The first container is untouched.
  EXPECT_EQ(status(id), "created");
  EXPECT_EQ(state(id).value_or(json::object()).value("pid", 0), pid);
  EXPECT_EQ(listed_ids(), std::vector<std::string>{id});
}

TEST_F(Errors, StartingAStoppedContainer) {
  auto bundle = make_bundle();
  bundle.args({"true"});
  std::string id = new_id("stopped");
  ASSERT_TRUE(create_and_start(id, bundle, capture_));
  ASSERT_TRUE(wait_for_status(id, "stopped"));
  auto again = rt({"start", id});
  EXPECT_NE(again.exit_code, 0) << again.describe();
  EXPECT_TRUE(contains_nocase(again.all(), id)) << again.describe();
  EXPECT_TRUE(contains_nocase(again.all(), "stopped")) << again.describe();
  EXPECT_EQ(status(id), "stopped");
}

TEST_F(Errors, KillingAnUnknownContainer) {
  auto result = rt({"kill", "no-such-container", "KILL"});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(contains_nocase(result.all(), "no-such-container")) << result.describe();
  expect_nothing_left("no-such-container");
}

TEST_F(Errors, StateOfAnUnknownContainer) {
  auto result = rt({"state", "no-such-container"});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(contains_nocase(result.all(), "no-such-container")) << result.describe();
}

TEST_F(Errors, DeleteOfAnUnknownContainer) {
  auto result = rt({"delete", "no-such-container"});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(contains_nocase(result.all(), "no-such-container")) << result.describe();
}

TEST_F(Errors, UnknownSignal) {
  auto bundle = make_bundle();
  bundle.args({"sleep", "30"});
  std::string id = new_id();
  ASSERT_TRUE(create_and_start(id, bundle, capture_));
  auto result = rt({"kill", id, "SIGBOGUS"});
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(contains_nocase(result.all(), "SIGBOGUS")) << result.describe();
  EXPECT_EQ(status(id), "running");
}

TEST_F(Errors, ExecutableNotFoundFailsAtCreate) {
  auto bundle = make_bundle();
  bundle.args({"bahs"});
  expect_clean_create_failure(bundle.write(), new_id(), {"bahs", "not found"});
}

TEST_F(Errors, ExecutableNotFoundFailsAtRun) {
  auto bundle = make_bundle();
  bundle.args({"bahs", "-c", "true"});
  auto result = run_bundle(bundle);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains_nocase(result.all(), "bahs"));
  EXPECT_TRUE(contains_nocase(result.all(), "not found"));
  expect_nothing_left("");
}

TEST_F(Errors, NonExecutableFileFailsAtCreate) {
  auto bundle = make_bundle();
  bundle.args({"/etc/passwd"});
  expect_clean_create_failure(bundle.write(), new_id(), {"/etc/passwd"});
}

TEST_F(Errors, CwdOutsideTheContainerIsRejected) {
  auto bundle = make_bundle();
  bundle.cwd("relative/dir").args({"true"});
  expect_clean_create_failure(bundle.write(), new_id(), {"cwd"});
}

}  // namespace
}  // namespace ctr::itest
