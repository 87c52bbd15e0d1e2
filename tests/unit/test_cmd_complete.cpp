// `ctr __complete`: commands, flags, flag values, positionals by kind, `--`
// and `--flag=value`, walked over the real command tree with a fake value
// source (the store-backed one is exercised by ctr_completion_test).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "cmd/complete.h"

namespace ctr::cmd {
namespace {

// Answers with the kind's name (and fixed choices as they are), so a test
// sees which completer was chosen and with which store root.
std::vector<Candidate> fake_values(const CompleterSpec& spec, const std::string& store_root) {
  if (spec.kind == Completer::fixed) {
    std::vector<Candidate> out;
    for (const auto& choice : spec.choices) out.push_back({choice, ""});
    return out;
  }
  if (spec.kind == Completer::log_drivers) return list_values(spec, store_root);
  return {{std::string(completer_name(spec.kind)) + "@" + store_root, ""}};
}

struct CompleteTest : ::testing::Test {
  std::unique_ptr<Cli> cli = build_cli();
  Completion complete(std::vector<std::string> args) { return complete_words(*cli, args, fake_values); }
  std::vector<std::string> values(std::vector<std::string> args) {
    std::vector<std::string> out;
    for (const auto& candidate : complete(std::move(args)).candidates) out.push_back(candidate.value);
    return out;
  }
  static bool has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  }
};

TEST_F(CompleteTest, CommandNamesByPrefixWithDescriptions) {
  auto completion = complete({"im"});
  std::vector<std::string> names;
  for (const auto& candidate : completion.candidates) names.push_back(candidate.value);
  EXPECT_EQ(names, (std::vector<std::string>{"images", "import", "image"}));
  EXPECT_EQ(completion.candidates.front().description, "List images in local storage");
  EXPECT_EQ(completion.directive, kDirectiveNoFileComp);
  auto all = values({""});
  EXPECT_TRUE(has(all, "completion"));
  EXPECT_TRUE(has(all, "system"));
  for (const auto& name : all) EXPECT_NE(name.rfind("__", 0), 0u) << "hidden command offered: " << name;
}

TEST_F(CompleteTest, NestedCommandsAndAliases) {
  EXPECT_EQ(values({"image", "l"}), (std::vector<std::string>{"load", "ls", "list"}));
  EXPECT_EQ(values({"system", ""}), (std::vector<std::string>{"df", "info", "prune"}));
  // Global flags before the command are skipped, with their values.
  EXPECT_EQ(values({"--root", "/x", "image", "p"}), (std::vector<std::string>{"prune"}));
}

TEST_F(CompleteTest, FlagsOfTheCommandAndTheGlobalOnes) {
  auto flags = values({"rmi", "-"});
  EXPECT_TRUE(has(flags, "--force"));
  EXPECT_TRUE(has(flags, "-f"));
  EXPECT_TRUE(has(flags, "--root"));  // global, accepted after the command (fallthrough)
  EXPECT_TRUE(has(flags, "--help"));
  EXPECT_FALSE(has(flags, "--input"));  // load's, not rmi's
  EXPECT_EQ(values({"load", "--i"}), (std::vector<std::string>{"--input"}));
  EXPECT_EQ(values({"--stor"}), (std::vector<std::string>{"--storage", "--storage-driver"}));
}

TEST_F(CompleteTest, FlagValuesByKind) {
  EXPECT_EQ(values({"--storage-driver", ""}), (std::vector<std::string>{"overlay", "fuse-overlayfs", "vfs"}));
  EXPECT_EQ(values({"--log-level", "w"}), (std::vector<std::string>{"warn"}));
  EXPECT_EQ(values({"save", "--format", ""}), (std::vector<std::string>{"docker-archive", "oci-archive"}));
  // Files and directories are left to the shell, by directive.
  auto input = complete({"load", "-i", ""});
  EXPECT_TRUE(input.candidates.empty());
  EXPECT_EQ(input.directive, 0);
  auto root = complete({"--root", ""});
  EXPECT_EQ(root.directive, kDirectiveFilterDirs);
  // A value already given: back to positionals.
  EXPECT_EQ(values({"load", "-i", "x.tar", "--q"}), (std::vector<std::string>{"--quiet"}));
}

TEST_F(CompleteTest, ContainerCommandsUseTheirKinds) {
  EXPECT_EQ(values({"run", "--log-driver", ""}), (std::vector<std::string>{"k8s-file", "json-file", "none", "passthrough"}));
  EXPECT_EQ(values({"--root", "/r", "logs", ""}), (std::vector<std::string>{"containers@/r"}));
  EXPECT_EQ(values({"--root", "/r", "stop", ""}), (std::vector<std::string>{"running_containers@/r"}));
  EXPECT_EQ(values({"--root", "/r", "kill", "-s", ""}), (std::vector<std::string>{"signals@/r"}));
  EXPECT_EQ(values({"--root", "/r", "run", ""}), (std::vector<std::string>{"images@/r"}));
  EXPECT_EQ(values({"--root", "/r", "container", "rm", ""}), (std::vector<std::string>{"containers@/r"}));
}

TEST_F(CompleteTest, FlagEqualsValueForm) {
  EXPECT_EQ(values({"--storage-driver=v"}), (std::vector<std::string>{"--storage-driver=vfs"}));
  EXPECT_EQ(values({"save", "--format=oci"}), (std::vector<std::string>{"--format=oci-archive"}));
  EXPECT_EQ(complete({"load", "--input="}).directive, 0);
  // A flag without a value has nothing to complete after `=`.
  EXPECT_TRUE(values({"rmi", "--force="}).empty());
  // The store root given as --root=DIR is where values come from.
  EXPECT_EQ(values({"--root=/s", "rmi", ""}), (std::vector<std::string>{"images@/s"}));
}

TEST_F(CompleteTest, PositionalsByKindAndStoreRoot) {
  EXPECT_EQ(values({"--root", "/store", "rmi", ""}), (std::vector<std::string>{"images@/store"}));
  // rmi IMAGE...: every further word is an image too.
  EXPECT_EQ(values({"--root", "/store", "rmi", "a", "b", ""}), (std::vector<std::string>{"images@/store"}));
  EXPECT_EQ(values({"--storage", "/t", "image", "inspect", "x", ""}), (std::vector<std::string>{"images@/t"}));
  // tag IMAGE NAME...: the second positional is free text.
  auto tag_name = complete({"tag", "busybox", ""});
  EXPECT_TRUE(tag_name.candidates.empty());
  EXPECT_EQ(tag_name.directive, kDirectiveNoFileComp);
  EXPECT_EQ(complete({"import", ""}).directive, 0);  // a tarball: files
  EXPECT_EQ(values({"completion", ""}), (std::vector<std::string>{"bash", "zsh", "fish"}));
  // Only what the current word can become.
  EXPECT_TRUE(values({"--root", "/store", "rmi", "zzz"}).empty());
}

TEST_F(CompleteTest, DoubleDashEndsFlags) {
  EXPECT_EQ(values({"--root", "/r", "rmi", "--", "-"}), std::vector<std::string>{});
  EXPECT_EQ(values({"--root", "/r", "rmi", "--", ""}), (std::vector<std::string>{"images@/r"}));
  // After `--` a word is a positional, never a command name.
  EXPECT_TRUE(values({"--", "ima"}).empty());
}

TEST_F(CompleteTest, PrefixCommandArgumentsAreFiles) {
  EXPECT_EQ(complete({"unshare", ""}).directive, kDirectiveCommands);
  EXPECT_EQ(complete({"unshare", "ls", ""}).directive, 0);
  EXPECT_EQ(complete({"unshare", "ls", "-"}).directive, 0);  // ls's flags, not ours
}

TEST_F(CompleteTest, NothingAfterTheLastPositional) {
  EXPECT_TRUE(values({"version", ""}).empty());
  EXPECT_TRUE(values({"completion", "bash", ""}).empty());
  EXPECT_TRUE(values({"nosuchcommand", ""}).empty());
}

TEST(CmdComplete, ProtocolOutput) {
  std::ostringstream out;
  print_completion(out, Completion{{{"a", ""}, {"b", "two\tcolumns\nsecond line"}}, kDirectiveNoFileComp});
  EXPECT_EQ(out.str(), "a\nb\ttwo columns\n:4\n");
  std::ostringstream empty;
  print_completion(empty, Completion{{}, 0});
  EXPECT_EQ(empty.str(), ":0\n");
}

TEST(CmdComplete, RealValuesForStatelessKinds) {
  auto signals = list_values(CompleterSpec{Completer::signals, {}}, "/nonexistent");
  auto has_signal = [&](const std::string& name) {
    return std::any_of(signals.begin(), signals.end(), [&](const Candidate& c) { return c.value == name; });
  };
  EXPECT_TRUE(has_signal("SIGTERM"));
  EXPECT_TRUE(has_signal("SIGKILL"));
  EXPECT_TRUE(has_signal("SIGRTMIN+1"));
  auto drivers = list_values(CompleterSpec{Completer::log_drivers, {}}, "/nonexistent");
  std::vector<std::string> names;
  for (const auto& d : drivers) names.push_back(d.value);
  EXPECT_EQ(names, (std::vector<std::string>{"k8s-file", "json-file", "none", "passthrough"}));
  // A store that does not exist: no candidates, and it is not created.
  EXPECT_TRUE(list_values(CompleterSpec{Completer::images, {}}, "/nonexistent/ctr-store").empty());
  EXPECT_TRUE(list_values(CompleterSpec{Completer::containers, {}}, "/nonexistent/ctr-store").empty());
}

}  // namespace
}  // namespace ctr::cmd
