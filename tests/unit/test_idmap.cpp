#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "userns/idmap.h"

using namespace ctr;
using namespace ctr::userns;
using ::testing::HasSubstr;

namespace {

std::string validate_error(const IdMap& map) {
  auto status = validate_id_map(map, "uid map");
  if (status) return "";
  EXPECT_EQ(status.error().code, EINVAL);
  return status.error().message;
}

}  // namespace

TEST(IdMapFormat, OneLinePerRange) {
  EXPECT_EQ(format_id_map({{0, 1000, 1}, {1, 100000, 65536}}), "0 1000 1\n1 100000 65536\n");
  EXPECT_EQ(format_id_map({}), "");
  EXPECT_EQ(format_id_map({{0, 0, 4294967295u}}), "0 0 4294967295\n");
}

TEST(IdMapValidate, AcceptsWellFormedMaps) {
  EXPECT_EQ(validate_error({{0, 1000, 1}, {1, 100000, 65536}}), "");
  EXPECT_EQ(validate_error({{0, 0, 4294967295u}}), "");
  // Adjacent ranges touch but do not overlap.
  EXPECT_EQ(validate_error({{0, 100, 10}, {10, 110, 10}}), "");
}

TEST(IdMapValidate, RejectsEmptyAndZeroCounts) {
  EXPECT_EQ(validate_error({}), "uid map: no ranges");
  EXPECT_EQ(validate_error({{0, 1000, 1}, {1, 100000, 0}}), "uid map[1] `1 100000 0`: count must be positive");
}

TEST(IdMapValidate, RejectsRangesPastTheIdSpace) {
  EXPECT_EQ(validate_error({{1, 0, 4294967295u}}),
            "uid map[0] `1 0 4294967295`: range goes past the largest id 4294967294");
  EXPECT_THAT(validate_error({{0, 4294967290u, 10}}), HasSubstr("uid map[0] `0 4294967290 10`: range goes past"));
}

TEST(IdMapValidate, RejectsOverlaps) {
  EXPECT_EQ(validate_error({{0, 1000, 10}, {5, 2000, 10}}),
            "uid map[1] `5 2000 10`: inside ids overlap those of uid map[0] `0 1000 10`");
  EXPECT_EQ(validate_error({{0, 1000, 1}, {1, 100000, 10}, {20, 100005, 10}}),
            "uid map[2] `20 100005 10`: outside ids overlap those of uid map[1] `1 100000 10`");
  EXPECT_THAT(validate_error({{0, 1000, 1}, {1, 1000, 1}}), HasSubstr("outside ids overlap"));
}

TEST(IdMapValidate, RejectsMoreRangesThanTheKernelTakes) {
  IdMap map;
  for (uint32_t i = 0; i < 341; ++i) map.push_back({i * 10, 100000 + i * 10, 10});
  EXPECT_EQ(validate_error(map), "uid map: 341 ranges, the kernel accepts at most 340");
  map.pop_back();
  EXPECT_EQ(validate_error(map), "");
}

TEST(IdMapDirect, OnlyOurOwnSingleIdUnlessPrivileged) {
  EXPECT_TRUE(can_write_map_directly({{0, 1000, 1}}, 1000, false));
  EXPECT_TRUE(can_write_map_directly({{1000, 1000, 1}}, 1000, false));
  EXPECT_FALSE(can_write_map_directly({{0, 1001, 1}}, 1000, false));
  EXPECT_FALSE(can_write_map_directly({{0, 1000, 2}}, 1000, false));
  EXPECT_FALSE(can_write_map_directly({{0, 1000, 1}, {1, 100000, 65536}}, 1000, false));
  EXPECT_TRUE(can_write_map_directly({{0, 1000, 1}, {1, 100000, 65536}}, 1000, true));
  EXPECT_TRUE(can_write_map_directly({{0, 0, 65536}}, 0, true));
}

TEST(IdMapHelper, ArgvListsPidThenTriples) {
  EXPECT_EQ(id_map_helper_argv("/usr/bin/newuidmap", 4242, {{0, 1000, 1}, {1, 100000, 65536}}),
            (std::vector<std::string>{"/usr/bin/newuidmap", "4242", "0", "1000", "1", "1", "100000", "65536"}));
}

TEST(IdMapWrite, InvalidMapIsRejectedBeforeAnythingIsWritten) {
  auto status = write_id_map(::getpid(), IdKind::uid, {}, false);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "uid map: no ranges");
  auto gid = write_id_map(::getpid(), IdKind::gid, {{0, 1, 0}}, true);
  ASSERT_FALSE(gid);
  EXPECT_EQ(gid.error().message, "gid map[0] `0 1 0`: count must be positive");
}

TEST(IdMapWrite, AnAlreadyMappedProcessRefusesANewMap) {
  // Our own process already has a uid map; the kernel allows one write only,
  // so this exercises the direct path and its error context harmlessly.
  auto status = write_id_map(::getpid(), IdKind::uid, {{0, static_cast<uint32_t>(::geteuid()), 1}}, false);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message, HasSubstr("write uid map of process " + std::to_string(::getpid())));
  EXPECT_THAT(status.error().message, HasSubstr("/uid_map"));
}

TEST(IdMapRootless, AgreesWithEuidAndTheUidMap) {
  if (::geteuid() != 0) {
    EXPECT_TRUE(running_rootless());
    return;
  }
  auto text = read_file("/proc/self/uid_map");
  ASSERT_TRUE(text);
  std::vector<std::string> fields;
  for (const auto& f : split(trim(*text), ' '))
    if (!f.empty()) fields.push_back(f);
  bool initial = fields == std::vector<std::string>{"0", "0", "4294967295"};
  EXPECT_EQ(running_rootless(), !initial);
}
