// Every command's --help ends with examples, and the man pages are made
// from the same definitions (cmd/help_examples.cpp, cmd/man.cpp).
#include <gtest/gtest.h>

#include "cmd/complete.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

void collect(const CLI::App& app, std::vector<const CLI::App*>& out) {
  out.push_back(&app);
  for (const CLI::App* sub : visible_subcommands(app)) collect(*sub, out);
}

TEST(CmdHelp, EveryVisibleCommandHasExamples) {
  auto cli = build_cli();
  std::vector<const CLI::App*> commands;
  collect(cli->app, commands);
  EXPECT_GT(commands.size(), 20u);
  for (const CLI::App* command : commands) {
    std::string path = full_command_path(*command);
    EXPECT_NE(help_examples(path), "") << "`" << path << "` has no examples: add them to cmd/help_examples.cpp";
    EXPECT_NE(command->help().find("Examples:\n  " + path), std::string::npos) << path;
  }
}

TEST(CmdMan, PageHasSynopsisOptionsAndExamples) {
  auto cli = build_cli();
  const CLI::App* rmi = cli->app.get_subcommand("rmi");
  std::string page = man_page(*rmi);
  EXPECT_EQ(page.find(".\\\" Generated"), 0u);
  EXPECT_NE(page.find(".TH CTR\\-RMI 1"), std::string::npos) << page;
  EXPECT_NE(page.find(".SH NAME\nctr\\-rmi \\- Remove images from local storage"), std::string::npos) << page;
  EXPECT_NE(page.find("\\fBctr rmi\\fR [\\fIoptions\\fR] [\\fIIMAGE\\fR...]"), std::string::npos) << page;
  EXPECT_NE(page.find(".TP\n\\fB\\-f\\fR, \\fB\\-\\-force\\fR\nRemove images even if"), std::string::npos) << page;
  EXPECT_NE(page.find(".SH EXAMPLES\n.nf\nctr rmi localhost/busybox:latest\nctr rmi 3f57d9401f8d\n"),
            std::string::npos)
      << page;
  std::string root = man_page(cli->app);
  EXPECT_NE(root.find(".SH COMMANDS"), std::string::npos);
  EXPECT_NE(root.find("\\fBctr\\-image\\fR(1)"), std::string::npos);
  EXPECT_NE(root.find("(environment: \\fBCTR_STORAGE_ROOT\\fR)"), std::string::npos) << root;
}

TEST(CmdMan, WritesOnePagePerVisibleCommand) {
  auto cli = build_cli();
  auto dir = TempDir::create("ctr-man-");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_man_pages(cli->app, dir->path() + "/man1"));
  for (const char* name : {"ctr.1", "ctr-rmi.1", "ctr-image.1", "ctr-image-ls.1", "ctr-system-df.1", "ctr-completion.1"}) {
    auto text = read_file(dir->path() + "/man1/" + name);
    ASSERT_TRUE(text) << name;
    EXPECT_NE(text->find(".TH "), std::string::npos) << name;
  }
  EXPECT_FALSE(read_file(dir->path() + "/man1/ctr-__complete.1"));
}

TEST(CmdCompletion, ScriptsAreThinWrappers) {
  for (const char* shell : {"bash", "zsh", "fish"}) {
    std::string script = completion_script(shell);
    EXPECT_NE(script.find("__complete"), std::string::npos) << shell;
    // No command names baked in: new commands need no new scripts.
    EXPECT_EQ(script.find("rmi"), std::string::npos) << shell;
  }
  EXPECT_EQ(completion_script("tcsh"), "");
}

}  // namespace
}  // namespace ctr::cmd
