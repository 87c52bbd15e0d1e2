// run/create: unknown flags before IMAGE are refused (podman's message),
// words after IMAGE are the command; --userns=keep-id parsing, its ID maps
// and the passwd/group entries it adds.
#include <gtest/gtest.h>

#include <algorithm>

#include "cmd/container_create.h"
#include "cmd/container_spec.h"
#include "userns/keep_id.h"

using namespace ctr;
using namespace ctr::cmd;
using namespace ctr::userns;

namespace {

struct Parsed {
  CreateFlags flags;
  Status finished;
};

// Parses `words` as `ctr run WORDS...` without running anything.
Parsed parse_run(std::vector<std::string> words) {
  Cli cli;
  CLI::App* sub = cli.app.add_subcommand("run", "run");
  Parsed parsed;
  add_create_flags(cli, *sub, parsed.flags);
  words.insert(words.begin(), "run");
  std::reverse(words.begin(), words.end());  // CLI11 takes them last-first
  cli.app.parse(words);
  parsed.finished = finish_create_flags(*sub, parsed.flags);
  return parsed;
}

}  // namespace

TEST(CmdCreateArgs, WordsAfterImageAreTheCommandUnchanged) {
  auto p = parse_run({"--name=a", "-it", "busybox", "ls", "-l", "--name", "x", "--", "--color"});
  ASSERT_TRUE(p.finished.ok()) << p.finished.error().message;
  EXPECT_EQ(p.flags.name, "a");
  EXPECT_TRUE(p.flags.interactive);
  EXPECT_TRUE(p.flags.tty);
  EXPECT_EQ(p.flags.image, "busybox");
  EXPECT_EQ(p.flags.command, (std::vector<std::string>{"ls", "-l", "--name", "x", "--", "--color"}));
}

TEST(CmdCreateArgs, OptionRightAfterImageBelongsToTheCommand) {
  auto p = parse_run({"busybox", "-e", "A=1"});
  ASSERT_TRUE(p.finished.ok());
  EXPECT_TRUE(p.flags.env.empty());
  EXPECT_EQ(p.flags.command, (std::vector<std::string>{"-e", "A=1"}));
}

TEST(CmdCreateArgs, DashDashBeforeImageEndsCtrsFlags) {
  auto p = parse_run({"--name", "b", "--", "busybox", "echo", "hi"});
  ASSERT_TRUE(p.finished.ok()) << p.finished.error().message;
  EXPECT_EQ(p.flags.image, "busybox");
  EXPECT_EQ(p.flags.command, (std::vector<std::string>{"echo", "hi"}));
}

TEST(CmdCreateArgs, UnknownFlagsBeforeImageAreRefused) {
  for (const auto& [words, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--bogus", "busybox", "true"}, "unknown flag: --bogus\nSee 'ctr run --help'"},
           {{"--bogus=3", "busybox"}, "unknown flag: --bogus\nSee 'ctr run --help'"},
           {{"-itz", "busybox"}, "unknown shorthand flag: 'z' in -z\nSee 'ctr run --help'"},
           {{"-x", "busybox"}, "unknown shorthand flag: 'x' in -x\nSee 'ctr run --help'"}}) {
    auto p = parse_run(words);
    ASSERT_FALSE(p.finished.ok()) << words[0];
    EXPECT_EQ(p.finished.error().message, message);
  }
}

TEST(CmdCreateArgs, UnknownFlagMessageSkipsDashDash) {
  EXPECT_EQ(unknown_create_flag({"--", "--x"}, "ctr create"), "unknown flag: --x\nSee 'ctr create --help'");
  EXPECT_EQ(unknown_create_flag({"--"}, "ctr run"), "");
  EXPECT_EQ(unknown_create_flag({}, "ctr run"), "");
}

TEST(KeepId, ParsesPodmansForms) {
  auto plain = parse_keep_id("keep-id", 1001, 1002);
  ASSERT_TRUE(plain.ok() && *plain);
  EXPECT_EQ((*plain)->uid, 1001u);
  EXPECT_EQ((*plain)->gid, 1002u);
  auto both = parse_keep_id("keep-id:uid=5,gid=7", 1001, 1001);
  ASSERT_TRUE(both.ok() && *both);
  EXPECT_EQ((*both)->uid, 5u);
  EXPECT_EQ((*both)->gid, 7u);
  auto uid_only = parse_keep_id("keep-id:uid=0", 1001, 1001);
  ASSERT_TRUE(uid_only.ok() && *uid_only);
  EXPECT_EQ((*uid_only)->uid, 0u);
  EXPECT_EQ((*uid_only)->gid, 1001u);
  for (const char* mode : {"", "host", "auto"}) {
    auto none = parse_keep_id(mode, 1, 1);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(*none) << mode;
  }
  for (const char* bad : {"keep-idx", "keep-id:foo=1", "keep-id:uid=x", "keep-id:uid=-1", "keep-id:gid="}) {
    auto refused = parse_keep_id(bad, 1, 1);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().message.find(bad), std::string::npos) << refused.error().message;
  }
}

TEST(KeepId, MapsYourIdToItselfAroundTheStoreIds) {
  auto map = keep_id_store_map(1001, 65537, "uid");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(*map, (IdMap{{0, 1, 1001}, {1001, 0, 1}, {1002, 1002, 64535}}));
  EXPECT_TRUE(validate_id_map(*map, "uid map").ok());
  EXPECT_EQ(fuse_overlayfs_mapping(*map), "0:1:1001:1001:0:1:1002:1002:64535");
  auto zero = keep_id_store_map(0, 65537, "uid");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, (IdMap{{0, 0, 1}, {1, 1, 65536}}));
  auto last = keep_id_store_map(65536, 65537, "gid");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, (IdMap{{0, 1, 65536}, {65536, 0, 1}}));
  auto too_big = keep_id_store_map(70000, 65537, "uid");
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message.find("70000"), std::string::npos);
  EXPECT_EQ(map_size({{0, 1001, 1}, {1, 100000, 65536}}), 65537u);
  EXPECT_EQ(map_to_outside(*map, 1001), 0u);
  EXPECT_EQ(map_to_outside(*map, 0), 1u);
  EXPECT_EQ(map_to_outside(*map, 2000), 2000u);
  EXPECT_EQ(map_to_outside(*map, 70000), std::nullopt);
}

TEST(KeepId, AddsUserAndGroupOnlyWhenMissing) {
  std::string passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false";
  EXPECT_EQ(passwd_with_user(passwd, "alice", 1001, 1001, "/"), passwd + "\nalice:*:1001:1001::/:/bin/sh\n");
  EXPECT_EQ(passwd_with_user(passwd, "alice", 0, 0, "/"), "");
  std::string group = "root:x:0:\n";
  EXPECT_EQ(group_with_group(group, "alice", 1001), group + "alice:x:1001:alice\n");
  EXPECT_EQ(group_with_group(group, "alice", 0), "");
  EXPECT_EQ(passwd_with_user("", "bob", 5, 6, "/"), "bob:*:5:6::/:/bin/sh\n");
}
