// Every value option and positional of every ctr command names a completer
// (DESIGN.md section 5), so completion scripts can be generated from the
// parser's own definitions.
#include <gtest/gtest.h>

#include <functional>

#include "cmd/app.h"

namespace ctr::cmd {
namespace {

std::string path_of(const CLI::App& app) {
  std::string path;
  for (const CLI::App* at = &app; at; at = at->get_parent()) {
    if (!at->get_name().empty()) path = at->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

TEST(CmdCompleters, EveryValueOptionAndPositionalHasACompleter) {
  auto cli = build_cli();
  std::vector<std::string> missing;
  size_t count =
      for_each_missing_completer(cli->app, cli->completers, [&](const CLI::App& app, const CLI::Option& option) {
        missing.push_back(path_of(app) + " " + option.get_name());
      });
  EXPECT_EQ(count, 0u) << "options without a completer kind: " << ::testing::PrintToString(missing);
  EXPECT_GT(cli->completers.size(), 20u);
}

TEST(CmdCompleters, KnownOptionsHaveTheRightKinds) {
  auto cli = build_cli();
  auto kind_of = [&](std::vector<std::string> path, const std::string& option) {
    CLI::App* app = &cli->app;
    for (const auto& name : path) app = app->get_subcommand(name);
    const CompleterSpec* spec = cli->completers.find(app->get_option(option));
    return spec ? spec->kind : Completer::none;
  };
  EXPECT_EQ(kind_of({"load"}, "--input"), Completer::files);
  EXPECT_EQ(kind_of({"rmi"}, "image"), Completer::images);
  EXPECT_EQ(kind_of({"image", "inspect"}, "image"), Completer::images);
  EXPECT_EQ(kind_of({"images"}, "--format"), Completer::formats);
  EXPECT_EQ(kind_of({"save"}, "--format"), Completer::fixed);
  EXPECT_EQ(kind_of({}, "--root"), Completer::directories);
  const CompleterSpec* save_format = cli->completers.find(cli->app.get_subcommand("save")->get_option("--format"));
  ASSERT_NE(save_format, nullptr);
  EXPECT_EQ(save_format->choices, (std::vector<std::string>{"docker-archive", "oci-archive"}));
}

TEST(CmdCompleters, DetectsAMissingCompleter) {
  auto cli = build_cli();
  std::string value;
  cli->app.get_subcommand("images")->add_option("--no-completer", value, "an option added without one");
  size_t count = for_each_missing_completer(cli->app, cli->completers, [](const CLI::App&, const CLI::Option&) {});
  EXPECT_EQ(count, 1u);
}

TEST(CmdCompleters, TreeHasTheImageCommands) {
  auto cli = build_cli();
  for (const char* name : {"images", "import", "load", "save", "rmi", "tag", "info", "unshare", "version"})
    EXPECT_NO_THROW(cli->app.get_subcommand(name)) << name;
  CLI::App* image = cli->app.get_subcommand("image");
  for (const char* name : {"ls", "list", "inspect", "rm", "prune", "tag", "load", "import", "save"})
    EXPECT_NO_THROW(image->get_subcommand(name)) << name;
  EXPECT_NO_THROW(cli->app.get_subcommand("system")->get_subcommand("df"));
}

}  // namespace
}  // namespace ctr::cmd
