// run_cli builds only the commands a command line names (cmd/command_filter.h):
// which words it narrows to, and that every command of the whole tree comes
// out of a narrowed tree exactly as it is in the whole one.
#include <gtest/gtest.h>

#include "cmd/command_filter.h"
#include "cmd/complete.h"

namespace ctr::cmd {
namespace {

std::vector<std::string> words_of(std::vector<std::string> args) {
  std::unique_ptr<Cli> whole = build_cli();  // its global flags are the narrowed trees' too
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return command_words(whole->app, static_cast<int>(argv.size()), argv.data());
}

using Words = std::vector<std::string>;

TEST(CmdCommandFilter, WordsSkipGlobalFlagsAndTheirValues) {
  EXPECT_EQ(words_of({"ctr", "run", "--rm", "busybox", "true"}), Words{"run"});
  EXPECT_EQ(words_of({"ctr", "run", "busybox", "true"}), (Words{"run", "busybox"}));
  EXPECT_EQ(words_of({"ctr", "--root", "/s", "container", "cleanup", "ID"}), (Words{"container", "cleanup"}));
  EXPECT_EQ(words_of({"ctr", "--root=/s", "--log-level", "debug", "ps", "-a"}), Words{"ps"});
  EXPECT_EQ(words_of({"ctr", "--storage", "/s", "--runroot", "/r", "--cgroup-manager=none", "image", "ls"}),
            (Words{"image", "ls"}));
}

TEST(CmdCommandFilter, WholeTreeWhenTheCommandLineNeedsIt) {
  EXPECT_EQ(words_of({"ctr"}), Words{});
  EXPECT_EQ(words_of({"ctr", "--root", "/s"}), Words{});
  EXPECT_EQ(words_of({"ctr", "--help"}), Words{});
  EXPECT_EQ(words_of({"ctr", "-h", "run"}), Words{});
  EXPECT_EQ(words_of({"ctr", "--bogus", "run"}), Words{});
  EXPECT_EQ(words_of({"ctr", "--", "run"}), Words{});
  EXPECT_EQ(words_of({"ctr", "help"}), Words{});
  EXPECT_EQ(words_of({"ctr", "completion", "bash"}), Words{});
  EXPECT_EQ(words_of({"ctr", "__complete", "ru"}), Words{});
  EXPECT_EQ(words_of({"ctr", "__man", "/tmp/x"}), Words{});
}

TEST(CmdCommandFilter, NarrowedTreeHasOnlyThePath) {
  // Both commands of a container start (`run`, the shim's `container
  // cleanup`) build nothing else: an extra name here is an add_X that lacks
  // its `if (wants_command(cli, parent, "NAME"))` guard.
  auto names = [](const CLI::App& app) {
    std::string out;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) out += sub->get_name() + " ";
    return out;
  };
  auto run = build_narrowed_cli({"run"});
  ASSERT_TRUE(run);
  EXPECT_EQ(names(run->app), "run ");
  auto cleanup = build_narrowed_cli({"container", "cleanup"});
  ASSERT_TRUE(cleanup);
  EXPECT_EQ(names(cleanup->app), "container ");
  EXPECT_EQ(names(*cleanup->app.get_subcommand("container")), "cleanup ");
  // A word that is not a command, or only an alias: no narrowed tree.
  EXPECT_FALSE(build_narrowed_cli({"runn"}));
  EXPECT_FALSE(build_narrowed_cli({"container", "lss"}));
  EXPECT_FALSE(build_narrowed_cli({"container", "list"}));
  EXPECT_FALSE(build_narrowed_cli({}));
  // A group named alone is built whole (its error lists its commands).
  auto whole = build_cli();
  auto group = build_narrowed_cli({"container"});
  ASSERT_TRUE(group);
  EXPECT_EQ(group->app.get_subcommand("container")->help(), whole->app.get_subcommand("container")->help());
}

// Every command (and every command of a group) narrowed to on its own has
// the same help, hence the same options, as in the whole tree: a registration
// guarded with the wrong name fails here.
TEST(CmdCommandFilter, EveryCommandNarrowsToItsWholeTreeSelf) {
  auto whole = build_cli();
  int checked = 0;
  for (const CLI::App* top : whole->app.get_subcommands([](const CLI::App*) { return true; })) {
    auto narrow = build_narrowed_cli({top->get_name()});
    ASSERT_TRUE(narrow) << top->get_name();
    EXPECT_EQ(narrow->app.get_subcommand(top->get_name())->help(), top->help()) << top->get_name();
    ++checked;
    for (const CLI::App* sub : top->get_subcommands([](const CLI::App*) { return true; })) {
      std::string path = top->get_name() + " " + sub->get_name();
      auto pair = build_narrowed_cli({top->get_name(), sub->get_name()});
      ASSERT_TRUE(pair) << path;
      const CLI::App* in_pair = pair->app.get_subcommand(top->get_name())->get_subcommand(sub->get_name());
      EXPECT_EQ(in_pair->help(), sub->help()) << path;
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
}

}  // namespace
}  // namespace ctr::cmd
