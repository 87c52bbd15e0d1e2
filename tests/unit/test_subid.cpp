#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/base/files.h"
#include "userns/subid.h"

using namespace ctr;
using namespace ctr::userns;
using ::testing::HasSubstr;

namespace {

bool operator==(const SubIdRange& a, const SubIdRange& b) {
  return a.start == b.start && a.count == b.count;
}

std::vector<SubIdRange> parse_ok(const std::string& text, const std::string& user = "alice", uid_t uid = 1000) {
  auto parsed = parse_subid(text, "/etc/subuid", user, uid);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : std::vector<SubIdRange>{};
}

std::string parse_error(const std::string& text) {
  auto parsed = parse_subid(text, "/etc/subuid", "alice", 1000);
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, EINVAL);
  return parsed.error().message;
}

}  // namespace

TEST(SubidParse, FindsEveryRangeOfTheUserByNameOrUid) {
  auto ranges = parse_ok(
      "# subordinate ids\n"
      "bob:100000:65536\n"
      "\n"
      "alice:165536:65536\n"
      "  1000:300000:1000  \n"
      "\t# indented comment\n"
      "alice:400000:10\n"
      "10000:500000:5\n");
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_TRUE(ranges[0] == (SubIdRange{165536, 65536}));
  EXPECT_TRUE(ranges[1] == (SubIdRange{300000, 1000}));
  EXPECT_TRUE(ranges[2] == (SubIdRange{400000, 10}));
}

TEST(SubidParse, NoEntryMeansNoRanges) {
  EXPECT_TRUE(parse_ok("bob:100000:65536\n").empty());
  EXPECT_TRUE(parse_ok("").empty());
  // A name must match exactly, not as a prefix.
  EXPECT_TRUE(parse_ok("alice2:100000:65536\nalic:1:2\n").empty());
}

TEST(SubidParse, MalformedLinesNameFileAndLine) {
  EXPECT_EQ(parse_error("bob:1:2\n# c\nalice:100000\n"),
            "/etc/subuid:3: expected `name:start:count`, got `alice:100000`");
  EXPECT_EQ(parse_error("alice:1:2:3\n"), "/etc/subuid:1: expected `name:start:count`, got `alice:1:2:3`");
  EXPECT_EQ(parse_error(":1:2\n"), "/etc/subuid:1: expected `name:start:count`, got `:1:2`");
  EXPECT_EQ(parse_error("x:1:1\nalice:abc:10\n"), "/etc/subuid:2: invalid start id `abc`");
  EXPECT_EQ(parse_error("alice:-5:10\n"), "/etc/subuid:1: invalid start id `-5`");
  EXPECT_EQ(parse_error("alice:100000:0\n"), "/etc/subuid:1: invalid count `0`");
  EXPECT_EQ(parse_error("alice:100000:\n"), "/etc/subuid:1: invalid count ``");
  EXPECT_THAT(parse_error("alice:4294967290:10\n"), HasSubstr("/etc/subuid:1: range 4294967290+10 goes past"));
  // Other users' broken lines are still errors: the file is broken.
  EXPECT_THAT(parse_error("bob:x:1\n"), HasSubstr("/etc/subuid:1:"));
}

TEST(SubidParse, ReadsFilesAndTreatsAMissingFileAsEmpty) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto missing = read_subid_file(dir->path() + "/subuid", "alice", 1000);
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_TRUE(missing->empty());
  std::string path = dir->path() + "/subgid";
  ASSERT_TRUE(write_file_atomic(path, "alice:100000:65536\n"));
  auto ranges = read_subid_file(path, "alice", 1000);
  ASSERT_TRUE(ranges);
  ASSERT_EQ(ranges->size(), 1u);
  EXPECT_EQ((*ranges)[0].start, 100000u);
  ASSERT_TRUE(write_file_atomic(path, "alice\n"));
  auto bad = read_subid_file(path, "alice", 1000);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr(path + ":1: "));
}

TEST(SubidUserName, KnownAndUnknownUids) {
  EXPECT_EQ(user_name(0), "root");
  EXPECT_EQ(user_name(3999999999u), "3999999999");
}

TEST(SubidMaps, RootlessMapPutsUsAtZeroAndRangesAfter) {
  EXPECT_EQ(rootless_map(1000, {}), (IdMap{{0, 1000, 1}}));
  EXPECT_EQ(rootless_map(1000, {{100000, 65536}}), (IdMap{{0, 1000, 1}, {1, 100000, 65536}}));
  EXPECT_EQ(rootless_map(1000, {{100000, 500}, {300000, 1000}}),
            (IdMap{{0, 1000, 1}, {1, 100000, 500}, {501, 300000, 1000}}));
  EXPECT_TRUE(validate_id_map(rootless_map(1000, {{100000, 500}, {300000, 1000}}), "uid map"));
}

TEST(SubidMaps, KeepIdMapsOurIdToItselfAndFillsAroundIt) {
  IdMap map = keep_id_map(1000, {{100000, 65536}});
  EXPECT_EQ(map, (IdMap{{0, 100000, 1000}, {1000, 1000, 1}, {1001, 101000, 64536}}));
  EXPECT_TRUE(validate_id_map(map, "uid map"));
}

TEST(SubidMaps, KeepIdSplitsRangesAcrossOurId) {
  IdMap map = keep_id_map(1000, {{100000, 500}, {200000, 1000}});
  EXPECT_EQ(map, (IdMap{{0, 100000, 500}, {500, 200000, 500}, {1000, 1000, 1}, {1001, 200500, 500}}));
  EXPECT_TRUE(validate_id_map(map, "uid map"));
}

TEST(SubidMaps, KeepIdEdgeCases) {
  EXPECT_EQ(keep_id_map(0, {{100000, 65536}}), (IdMap{{0, 0, 1}, {1, 100000, 65536}}));
  EXPECT_EQ(keep_id_map(1000, {}), (IdMap{{1000, 1000, 1}}));
  // Too few subordinate ids to cover 0..own-1: what there is maps from 0.
  EXPECT_EQ(keep_id_map(1000, {{100000, 10}}), (IdMap{{0, 100000, 10}, {1000, 1000, 1}}));
}
