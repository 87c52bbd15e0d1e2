// ctr-runtime's command line: the flag parser (runc/urfave syntax), log
// lines, and run_main's dispatch and error reporting.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/cli/args.h"
#include "runtime/cli/command.h"
#include "runtime/cli/log.h"

using namespace ctr;
using namespace ctr::cli;

namespace {

constexpr FlagSpec kCreateLike[] = {
    {"bundle", 'b', FlagKind::value, ""},
    {"pid-file", 0, FlagKind::value, ""},
    {"detach", 'd', FlagKind::boolean, ""},
    {"tty", 't', FlagKind::boolean, ""},
    {"env", 'e', FlagKind::list, ""},
    {"force", 'f', FlagKind::boolean, ""},
};

Result<ParsedArgs> parse(std::vector<std::string> args, bool stop = false) {
  static std::vector<std::string> keep;  // parse_args takes a span
  keep = std::move(args);
  return parse_args(keep, kCreateLike, ParseOptions{stop, "create"});
}

}  // namespace

TEST(RuntimeCliArgs, ValueFlagInEverySyntax) {
  for (auto args : std::vector<std::vector<std::string>>{{"--bundle", "/b", "id"},
                                                         {"--bundle=/b", "id"},
                                                         {"-bundle", "/b", "id"},
                                                         {"-bundle=/b", "id"},
                                                         {"-b", "/b", "id"},
                                                         {"--b", "/b", "id"},
                                                         {"-b=/b", "id"}}) {
    auto parsed = parse(args);
    ASSERT_TRUE(parsed) << args[0] << ": " << parsed.error().message;
    EXPECT_EQ(parsed->value("bundle"), "/b") << args[0];
    EXPECT_EQ(parsed->positionals, std::vector<std::string>{"id"}) << args[0];
  }
}

TEST(RuntimeCliArgs, BooleansRepeatedAndGrouped) {
  auto parsed = parse({"-d", "--env", "A=1", "-e", "B=2", "--env=C=3", "id"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->flag("detach"));
  EXPECT_FALSE(parsed->flag("tty"));
  EXPECT_EQ(parsed->values("env"), (std::vector<std::string>{"A=1", "B=2", "C=3"}));

  auto off = parse({"--detach=false", "--tty=true", "id"});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->flag("detach"));
  EXPECT_TRUE(off->flag("tty"));
  EXPECT_TRUE(off->has("detach"));

  auto grouped = parse({"-dt", "id"});
  ASSERT_TRUE(grouped) << grouped.error().message;
  EXPECT_TRUE(grouped->flag("detach"));
  EXPECT_TRUE(grouped->flag("tty"));

  auto bad = parse({"--detach=maybe", "id"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("maybe"), std::string::npos);
}

TEST(RuntimeCliArgs, LastValueWinsAndValueMayStartWithDash) {
  auto parsed = parse({"--bundle", "/a", "--pid-file", "-", "--bundle", "/b", "id"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->value("bundle"), "/b");
  EXPECT_EQ(parsed->value("pid-file"), "-");
  EXPECT_EQ(parsed->value_or("missing", "dflt"), "dflt");
}

TEST(RuntimeCliArgs, UnknownFlagNamesFlagAndCommand) {
  auto parsed = parse({"--foo", "id"});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "unknown flag --foo for \"create\"");
  auto single = parse({"-foo=1", "id"});
  ASSERT_FALSE(single);
  EXPECT_EQ(single.error().message, "unknown flag -foo for \"create\"");
  auto grouped_with_value_flag = parse({"-db", "id"});
  ASSERT_FALSE(grouped_with_value_flag);
}

TEST(RuntimeCliArgs, MissingValueIsAnError) {
  auto parsed = parse({"id", "--bundle"});
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("--bundle"), std::string::npos);
}

TEST(RuntimeCliArgs, FlagsAfterPositionalsUnlessStopping) {
  auto reordered = parse({"id", "--force"});
  ASSERT_TRUE(reordered);
  EXPECT_TRUE(reordered->flag("force"));
  EXPECT_EQ(reordered->positionals, std::vector<std::string>{"id"});

  // exec ID CMD...: the command's own flags belong to the command.
  auto exec = parse({"-t", "--env", "A=1", "id", "sh", "-c", "echo hi", "--env", "B=2", "-d"}, true);
  ASSERT_TRUE(exec) << exec.error().message;
  EXPECT_TRUE(exec->flag("tty"));
  EXPECT_FALSE(exec->flag("detach"));
  EXPECT_EQ(exec->values("env"), std::vector<std::string>{"A=1"});
  EXPECT_EQ(exec->positionals,
            (std::vector<std::string>{"id", "sh", "-c", "echo hi", "--env", "B=2", "-d"}));
}

TEST(RuntimeCliArgs, DoubleDashEndsFlagsAndLoneDashIsPositional) {
  auto parsed = parse({"--detach", "--", "--force", "-"});
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->flag("force"));
  EXPECT_EQ(parsed->positionals, (std::vector<std::string>{"--force", "-"}));
  auto lone = parse({"-"});
  ASSERT_TRUE(lone);
  EXPECT_EQ(lone->positionals, std::vector<std::string>{"-"});
}

TEST(RuntimeCliArgs, HelpIsRecognisedWithoutBeingDeclared) {
  auto parsed = parse({"--help"});
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->help);
  auto short_help = parse({"-h"});
  ASSERT_TRUE(short_help);
  EXPECT_TRUE(short_help->help);
}

TEST(RuntimeCliArgs, GlobalFlagsStopAtTheCommand) {
  std::vector<std::string> args{"--root", "/r", "--log-format=json", "-debug", "create", "--bundle", "b", "id"};
  auto parsed = parse_args(args, global_flags, ParseOptions{true, ""});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->value("root"), "/r");
  EXPECT_EQ(parsed->value("log-format"), "json");
  EXPECT_TRUE(parsed->flag("debug"));
  EXPECT_EQ(parsed->positionals, (std::vector<std::string>{"create", "--bundle", "b", "id"}));
  std::vector<std::string> bad{"--nope", "create"};
  auto unknown = parse_args(bad, global_flags, ParseOptions{true, ""});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown flag --nope");
}

TEST(RuntimeCliArgs, PositionalCountMessages) {
  ParsedArgs none;
  auto exactly = expect_positionals(none, "start", 1, 1);
  ASSERT_FALSE(exactly);
  EXPECT_EQ(exactly.error().message, "\"start\" requires exactly 1 argument");
  ParsedArgs three;
  three.positionals = {"a", "b", "c"};
  EXPECT_FALSE(expect_positionals(three, "kill", 1, 2));
  EXPECT_TRUE(expect_positionals(three, "exec", 1, SIZE_MAX));
}

TEST(RuntimeCliLog, JsonAndTextLines) {
  EXPECT_EQ(format_log_line(LogFormat::json, "error", "container \"x\" does not exist", "2024-01-02T03:04:05Z"),
            R"({"level":"error","msg":"container \"x\" does not exist","time":"2024-01-02T03:04:05Z"})");
  EXPECT_EQ(format_log_line(LogFormat::text, "error", "bad \"id\"\nnext", "T"),
            R"(time="T" level=error msg="bad \"id\"\nnext")");
  // Invalid UTF-8 from a container must not break the JSON line.
  std::string line = format_log_line(LogFormat::json, "error", std::string("bad \xff byte"), "T");
  EXPECT_NE(line.find("\"level\":\"error\""), std::string::npos);
}

TEST(RuntimeCliMain, VersionHasThreeLines) {
  std::string text = version_text();
  EXPECT_EQ(text.rfind("ctr-runtime version ", 0), 0u);
  EXPECT_NE(text.find("\ncommit: "), std::string::npos);
  EXPECT_NE(text.find("\nspec: 1.1.0\n"), std::string::npos);
}

namespace {

std::string seen_root;
std::vector<std::string> seen_positionals;

constexpr FlagSpec kFakeFlags[] = {{"fail", 0, FlagKind::boolean, ""}};

Result<int> fake_run(const GlobalOptions& global, const ParsedArgs& args) {
  seen_root = global.root;
  seen_positionals = args.positionals;
  if (args.flag("fail")) return make_error("boom \"quoted\"", EIO);
  return 7;
}

const Command kFake{"fake", "fake", "a test command", kFakeFlags, fake_run};
const Command* const kFakeTable[] = {&kFake};

int call_main(std::vector<std::string> args) {
  args.insert(args.begin(), "ctr-runtime");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return run_main(static_cast<int>(argv.size()), argv.data(), kFakeTable);
}

}  // namespace

TEST(RuntimeCliMain, DispatchesAndReportsErrorsToTheJsonLog) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string log = dir->path() + "/log.json";
  EXPECT_EQ(call_main({"--root", "/somewhere", "fake", "x", "y"}), 7);
  EXPECT_EQ(seen_root, "/somewhere");
  EXPECT_EQ(seen_positionals, (std::vector<std::string>{"x", "y"}));

  EXPECT_EQ(call_main({"--log", log, "--log-format", "json", "fake", "--fail"}), 1);
  auto text = read_file(log);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_NE(text->find(R"({"level":"error","msg":"boom \"quoted\"","time":")"), std::string::npos) << *text;
  EXPECT_EQ(text->back(), '\n');

  EXPECT_EQ(call_main({"--log", log, "--log-format", "json", "fake", "--bogus"}), 1);
  text = read_file(log);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("unknown flag --bogus for \\\"fake\\\""), std::string::npos) << *text;

  EXPECT_EQ(call_main({"nosuchcommand"}), 1);
  EXPECT_EQ(call_main({"--log-format", "xml", "fake"}), 1);
  // Leave the process-wide log configuration as it was.
  EXPECT_EQ(call_main({"fake"}), 7);
}
