#include <gtest/gtest.h>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/capabilities.h"

using namespace ctr;

TEST(Capabilities, FromNameAcceptsPrefixedAndBareNamesInAnyCase) {
  EXPECT_EQ(capability_from_name("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(capability_from_name("SYS_ADMIN"), 21);
  EXPECT_EQ(capability_from_name("cap_sys_admin"), 21);
  EXPECT_EQ(capability_from_name("Cap_Chown"), 0);
  EXPECT_EQ(capability_from_name("net_bind_service"), 10);
  EXPECT_EQ(capability_from_name("CAP_AUDIT_WRITE"), 29);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(capability_from_name("BPF"), 39);
}

TEST(Capabilities, FromNameRejectsUnknownNames) {
  EXPECT_EQ(capability_from_name("CAP_FOO"), std::nullopt);
  EXPECT_EQ(capability_from_name(""), std::nullopt);
  EXPECT_EQ(capability_from_name("CAP_"), std::nullopt);
  EXPECT_EQ(capability_from_name("CAP_SYS_ADMINX"), std::nullopt);
  EXPECT_EQ(capability_from_name(" CAP_KILL"), std::nullopt);
  EXPECT_EQ(capability_from_name("CAP_CAP_KILL"), std::nullopt);
}

TEST(Capabilities, NamesRoundTripThroughNumbers) {
  auto names = all_capability_names();
  ASSERT_EQ(names.size(), 41u);
  EXPECT_EQ(names.front(), "CAP_CHOWN");
  EXPECT_EQ(names.back(), "CAP_CHECKPOINT_RESTORE");
  for (int cap = 0; cap <= 40; ++cap) {
    std::string name = capability_name(cap);
    EXPECT_EQ(name, names[static_cast<size_t>(cap)]);
    EXPECT_EQ(capability_from_name(name), cap) << name;
  }
  EXPECT_EQ(capability_name(21), "CAP_SYS_ADMIN");
  EXPECT_EQ(capability_name(41), "CAP_41");
  EXPECT_EQ(capability_name(-1), "CAP_-1");
}

TEST(Capabilities, LastCapabilityMatchesTheKernel) {
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  if (!text) {
    EXPECT_EQ(last_capability(), 40);
    return;
  }
  auto expected = parse_i64(trim(*text));
  ASSERT_TRUE(expected);
  EXPECT_EQ(last_capability(), *expected);
  EXPECT_GE(last_capability(), 36);  // every 6.x kernel knows at least CAP_BLOCK_SUSPEND
}
