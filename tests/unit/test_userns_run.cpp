// run_in_userns / store_maps. As root the helper runs without a new
// namespace; as an ordinary user with subordinate IDs (ctrtest in CI) the
// same tests exercise newuidmap for real and unpack with foreign owners.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/unpack.h"
#include "runtime/base/files.h"
#include "tests/unit/tar_builder.h"
#include "userns/run_in_userns.h"

using namespace ctr;
using namespace ctr::userns;
using ::testing::HasSubstr;

namespace {

TEST(UsernsStoreMaps, FullMapFromRanges) {
  auto maps = store_maps_from(1000, 1001, "alice", {{100000, 65536}}, {{200000, 65536}});
  EXPECT_FALSE(maps.single_id);
  EXPECT_TRUE(maps.warning.empty());
  EXPECT_EQ(maps.uid, (IdMap{{0, 1000, 1}, {1, 100000, 65536}}));
  EXPECT_EQ(maps.gid, (IdMap{{0, 1001, 1}, {1, 200000, 65536}}));
}

TEST(UsernsStoreMaps, SingleIdWithoutRangesWarns) {
  auto maps = store_maps_from(1000, 1001, "alice", {}, {{200000, 65536}});
  EXPECT_TRUE(maps.single_id);
  EXPECT_EQ(maps.uid, (IdMap{{0, 1000, 1}}));
  EXPECT_EQ(maps.gid, (IdMap{{0, 1001, 1}}));
  EXPECT_THAT(maps.warning, HasSubstr("/etc/subuid"));
  EXPECT_THAT(maps.warning, HasSubstr("usermod --add-subuids 100000-165535"));
  EXPECT_THAT(maps.warning, HasSubstr("alice"));
  EXPECT_THAT(maps.warning, HasSubstr("will belong to you"));
}

// Real root needs no user namespace (empty maps); anyone else maps 0 to
// their own id first.
TEST(UsernsStoreMaps, MatchWhoWeAre) {
  auto maps = store_maps();
  ASSERT_TRUE(maps) << maps.error().message;
  if (!running_rootless()) {
    EXPECT_TRUE(maps->uid.empty());
    EXPECT_TRUE(maps->gid.empty());
    return;
  }
  ASSERT_FALSE(maps->uid.empty());
  EXPECT_EQ(maps->uid[0], (IdRange{0, static_cast<uint32_t>(::geteuid()), 1}));
  EXPECT_EQ(maps->gid[0], (IdRange{0, static_cast<uint32_t>(::getegid()), 1}));
}

TEST(UsernsRun, StatusComesBack) {
  auto maps = store_maps();
  ASSERT_TRUE(maps) << maps.error().message;
  Status ok = run_in_userns(*maps, [] { return Status{}; });
  EXPECT_TRUE(ok) << ok.error().message;
  Status failed = run_in_userns(*maps, [] { return Status{make_error("no luck here", ENOSPC)}; });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ENOSPC);
  EXPECT_EQ(failed.error().message, "no luck here");
}

TEST(UsernsRun, ChildDeathIsReported) {
  auto maps = store_maps();
  ASSERT_TRUE(maps);
  Status died = run_in_userns(*maps, []() -> Status { ::_exit(3); });
  ASSERT_FALSE(died);
  EXPECT_THAT(died.error().message, HasSubstr("without a result"));
}

TEST(UsernsRun, IsRootInsideWithTheStoreMap) {
  auto maps = store_maps();
  ASSERT_TRUE(maps) << maps.error().message;
  Status inside = run_in_userns(*maps, [&]() -> Status {
    if (::getuid() != 0 || ::getgid() != 0) return make_error("not root: uid " + std::to_string(::getuid()));
    if (maps->uid.empty()) return {};
    auto text = read_file("/proc/self/uid_map");
    if (!text) return std::move(text).error();
    if (*text == "") return make_error("empty uid_map");
    return {};
  });
  EXPECT_TRUE(inside) << inside.error().message;
}

TEST(UsernsRun, ParallelChildren) {
  auto maps = store_maps();
  ASSERT_TRUE(maps);
  std::vector<UsernsChild> children;
  for (int i = 0; i < 3; ++i) {
    auto child = start_in_userns(*maps, [i]() -> Status {
      if (i == 1) return make_error("child 1 fails");
      return {};
    });
    ASSERT_TRUE(child) << child.error().message;
    children.push_back(std::move(*child));
  }
  EXPECT_TRUE(children[0].wait());
  EXPECT_FALSE(children[1].wait());
  EXPECT_TRUE(children[2].wait());
}

TEST(UsernsRun, ExecReturnsExitStatus) {
  auto maps = store_maps();
  ASSERT_TRUE(maps);
  auto code = exec_in_userns(*maps, {"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(*code, 7);
  auto missing = exec_in_userns(*maps, {"/nonexistent/program"});
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("/nonexistent/program"));
}

// The point of the store's namespace: owners other than ours survive.
TEST(UsernsRun, UnpackKeepsForeignOwners) {
  auto maps = store_maps();
  ASSERT_TRUE(maps);
  if (maps->single_id) GTEST_SKIP() << "NO-SUBUID: no subordinate IDs: " << maps->warning;
  auto tmp = TempDir::create("ctr-userns-");
  ASSERT_TRUE(tmp);
  std::string dest = tmp->path() + "/dest";
  ASSERT_EQ(::mkdir(dest.c_str(), 0755), 0);
  test_tar::TarEntry owned = test_tar::file_entry("owned", "x", 04750);
  owned.uid = 1000;
  owned.gid = 33;
  test_tar::TarEntry root_file = test_tar::file_entry("rootfile", "y");
  root_file.uid = 0;
  root_file.gid = 0;
  std::string data = test_tar::build_tar({owned, root_file});
  Status done = run_in_userns(*maps, [&]() -> Status {
    auto fd = test_tar::memory_fd(data);
    image::UnpackOptions options;
    options.what = "test layer";
    auto layer = image::unpack_layer(fd.get(), dest, options);
    if (!layer) return std::move(layer).error();
    return {};
  });
  ASSERT_TRUE(done) << done.error().message;
  struct stat st{};
  ASSERT_EQ(::stat((dest + "/owned").c_str(), &st), 0);
  // Outside, uid 1000 inside is the subordinate id 1000 - 1 + first range start.
  uint32_t expect_uid = maps->uid.empty() ? 1000 : maps->uid[1].outside + 999;
  uint32_t expect_gid = maps->gid.empty() ? 33 : maps->gid[1].outside + 32;
  EXPECT_EQ(st.st_uid, expect_uid);
  EXPECT_EQ(st.st_gid, expect_gid);
  EXPECT_EQ(st.st_mode & 07777, 04750u);
  ASSERT_EQ(::stat((dest + "/rootfile").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::getuid());
  EXPECT_TRUE(run_in_userns(*maps, [&] { return remove_tree(dest); }));
}

}  // namespace
