// Unit tests of the container helpers of `ctr` that need no namespaces:
// user resolution through an image's passwd/group, signal names, sizes,
// container records, IDs and names.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "cmd/container_create.h"
#include "cmd/container_launch.h"
#include "cmd/container_record.h"
#include "cmd/container_spec.h"

namespace ctr::cmd {
namespace {

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const char* kGroup =
    "root:x:0:\n"
    "alice:x:1000:\n"
    "wheel:x:10:alice,bob\n"
    "audio:x:29:bob\n";

TEST(CmdContainerUser, ResolvesNamesNumbersAndGroups) {
  auto alice = resolve_user("alice", kPasswd, kGroup);
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(alice->uid, 1000u);
  EXPECT_EQ(alice->gid, 1000u);
  EXPECT_EQ(alice->home, "/home/alice");
  EXPECT_EQ(alice->additional_gids, std::vector<uint32_t>{10});

  auto by_number = resolve_user("1000", kPasswd, kGroup);
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(by_number->gid, 1000u) << "a numeric uid known to passwd takes its group";

  auto unknown_number = resolve_user("4242:77", kPasswd, kGroup);
  ASSERT_TRUE(unknown_number.ok());
  EXPECT_EQ(unknown_number->uid, 4242u);
  EXPECT_EQ(unknown_number->gid, 77u);

  auto named_group = resolve_user("nobody:wheel", kPasswd, kGroup);
  ASSERT_TRUE(named_group.ok());
  EXPECT_EQ(named_group->uid, 65534u);
  EXPECT_EQ(named_group->gid, 10u);

  auto missing = resolve_user("mallory", kPasswd, kGroup);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("mallory"), std::string::npos);
  EXPECT_FALSE(resolve_user("alice:nogroup", kPasswd, kGroup).ok());
}

TEST(CmdContainerSignals, NamesAndNumbers) {
  EXPECT_EQ(*parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(*parse_signal("sigkill"), SIGKILL);
  EXPECT_EQ(*parse_signal("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(*parse_signal("9"), 9);
  EXPECT_EQ(*parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
  EXPECT_EQ(*parse_signal("RTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(*parse_signal("SIGRTMIN"), SIGRTMIN);
  EXPECT_FALSE(parse_signal("SIGRTMIN-1").ok());
  EXPECT_FALSE(parse_signal("NOPE").ok());
  EXPECT_FALSE(parse_signal("0").ok());
  EXPECT_FALSE(parse_signal("1000").ok());
}

TEST(CmdContainerSizes, Suffixes) {
  EXPECT_EQ(*parse_size("10"), 10u);
  EXPECT_EQ(*parse_size("2k"), 2048u);
  EXPECT_EQ(*parse_size("3mb"), 3u * 1024 * 1024);
  EXPECT_EQ(*parse_size("1G"), 1024ull * 1024 * 1024);
  EXPECT_FALSE(parse_size("").ok());
  EXPECT_FALSE(parse_size("x").ok());
  EXPECT_FALSE(parse_size("0").ok());
}

TEST(CmdContainerRecord, JsonRoundTrip) {
  ContainerRecord r;
  r.id = new_container_id();
  r.name = "web";
  r.image_id = "sha256:abc";
  r.command = {"sh", "-c", "echo \"hi\""};
  r.created = 1700000000;
  r.rm = true;
  r.log_max_size = 1024;
  r.stop_signal = "SIGQUIT";
  r.stop_timeout = 3;
  auto back = record_from_json(record_to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->command, r.command);
  EXPECT_TRUE(back->rm);
  EXPECT_EQ(back->log_max_size, 1024u);
  EXPECT_EQ(back->stop_signal, "SIGQUIT");
  EXPECT_EQ(back->stop_timeout, 3u);
  EXPECT_FALSE(record_from_json("{").ok());
  EXPECT_FALSE(record_from_json("{}").ok());
}

TEST(CmdContainerRecord, IdsAndNames) {
  std::string id = new_container_id();
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{64}"))) << id;
  EXPECT_NE(id, new_container_id());
  std::vector<ContainerRecord> existing;
  for (int i = 0; i < 50; ++i) {
    ContainerRecord r;
    r.name = generate_name(existing);
    EXPECT_TRUE(validate_name(r.name).ok()) << r.name;
    for (const auto& other : existing) EXPECT_NE(other.name, r.name);
    existing.push_back(r);
  }
  EXPECT_FALSE(validate_name("").ok());
  EXPECT_FALSE(validate_name("-x").ok());
  EXPECT_FALSE(validate_name("a/b").ok());
  EXPECT_TRUE(validate_name("web.1_a-b").ok());
}

}  // namespace
}  // namespace ctr::cmd
