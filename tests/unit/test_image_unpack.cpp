// unpack_layer: safe extraction, digests, whiteouts, metadata; no privileges.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "image/digest.h"
#include "image/unpack.h"
#include "runtime/base/files.h"
#include "tests/unit/tar_builder.h"

using namespace ctr;
using namespace ctr::image;
using namespace ctr::test_tar;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

class ImageUnpack : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-unpack-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    dest_ = tmp_->path() + "/dest";
    ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
    // A file beside dest that an escape would hit.
    ASSERT_TRUE(write_file_atomic(tmp_->path() + "/outside", "original"));
  }

  // Read-only directories from the layers would stop TempDir's removal.
  void TearDown() override {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dest_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
  }

  Result<UnpackedLayer> unpack(const std::string& data, UnpackOptions options = {}) {
    if (options.what.empty()) options.what = "archive `test.tar`, layer L1";
    options.ignore_chown_errors = true;
    auto fd = memory_fd(data);
    return unpack_layer(fd.get(), dest_, options);
  }

  // The refusal names the archive/layer and the entry; nothing escaped.
  void expect_refused(const std::string& data, const std::string& entry, UnpackOptions options = {}) {
    auto result = unpack(data, options);
    ASSERT_FALSE(result) << "unpacked although it should be refused";
    EXPECT_THAT(result.error().message, HasSubstr("archive `test.tar`, layer L1"));
    if (!entry.empty()) {
      EXPECT_THAT(result.error().message, HasSubstr("entry `" + entry + "`"));
    }
    expect_outside_untouched();
  }

  void expect_outside_untouched() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(tmp_->path())) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"dest", "outside"}));
    EXPECT_EQ(*read_file(tmp_->path() + "/outside"), "original");
  }

  std::optional<TempDir> tmp_;
  std::string dest_;
};

TEST_F(ImageUnpack, ExtractsEntryTypesAndMetadata) {
  TarEntry setuid = file_entry("usr/bin/su", "#!/bin/sh\n", 04755);
  TarEntry fifo;
  fifo.path = "run/fifo";
  fifo.type = AE_IFIFO;
  fifo.perm = 0620;
  TarEntry ro_dir = dir_entry("ro", 0555);
  ro_dir.mtime = 1600000000;
  auto data = build_tar({dir_entry("usr", 0755), dir_entry("usr/bin", 0711), setuid, file_entry("etc/hosts", "h"),
                         symlink_entry("bin", "usr/bin"), hardlink_entry("usr/bin/su2", "usr/bin/su"), fifo, ro_dir,
                         file_entry("ro/inner", "x", 0400)});
  auto layer = unpack(data);
  ASSERT_TRUE(layer) << layer.error().message;
  struct stat st{};
  ASSERT_EQ(::lstat((dest_ + "/usr/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st.st_uid, ::getuid());
  ASSERT_EQ(::lstat((dest_ + "/usr/bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);  // set after its children were made
  ASSERT_EQ(::lstat((dest_ + "/bin").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(fs::read_symlink(dest_ + "/bin"), "usr/bin");
  ASSERT_EQ(::lstat((dest_ + "/run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  ASSERT_EQ(::lstat((dest_ + "/ro").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(*read_file(dest_ + "/etc/hosts"), "h");
  EXPECT_EQ(layer->size, 12u);  // "#!/bin/sh\n" + "h" + "x"
  EXPECT_EQ(layer->digest, sha256_digest(data));
  EXPECT_EQ(layer->diff_id, sha256_digest(data));
}

TEST_F(ImageUnpack, DigestsForEachCompression) {
  std::vector<TarEntry> entries{dir_entry("a"), file_entry("a/f", std::string(100000, 'z'))};
  std::string plain = build_tar(entries);
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    std::string data = build_tar(entries, c);
    ASSERT_TRUE(remove_tree(dest_));
    ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
    UnpackOptions options;
    options.expected_digest = sha256_digest(data);
    options.expected_diff_id = sha256_digest(plain);
    auto layer = unpack(data, options);
    ASSERT_TRUE(layer) << static_cast<int>(c) << ": " << layer.error().message;
    EXPECT_EQ(layer->digest, sha256_digest(data));
    EXPECT_EQ(layer->diff_id, sha256_digest(plain));
    EXPECT_EQ(read_file(dest_ + "/a/f")->size(), 100000u);
  }
}

TEST_F(ImageUnpack, WhiteoutsBecomeOverlayForm) {
  auto data = build_tar({dir_entry("etc"), file_entry("etc/.wh.passwd", ""), dir_entry("var"),
                         file_entry("var/.wh..wh..opq", ""), file_entry("var/new", "n"),
                         file_entry(".wh..wh.plnk", "")});
  auto layer = unpack(data);
  if (!layer && layer.error().code == EPERM) GTEST_SKIP() << "NO-WHITEOUT-MKNOD: whiteout mknod refused here: " << layer.error().message;
  if (!layer && layer.error().code == ENOTSUP) GTEST_SKIP() << "NO-USER-XATTR: no user xattrs here: " << layer.error().message;
  ASSERT_TRUE(layer) << layer.error().message;
  struct stat st{};
  ASSERT_EQ(::lstat((dest_ + "/etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(path_exists(dest_ + "/etc/.wh.passwd"));
  char value[8] = {};
  ASSERT_EQ(::getxattr((dest_ + "/var").c_str(), "user.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_FALSE(path_exists(dest_ + "/var/.wh..wh..opq"));
  EXPECT_TRUE(path_exists(dest_ + "/var/new"));
}

TEST_F(ImageUnpack, DeviceNodesAreSkippedWithANote) {
  TarEntry dev;
  dev.path = "dev/null";
  dev.type = AE_IFCHR;
  auto layer = unpack(build_tar({dir_entry("dev"), dev, file_entry("ok", "1")}));
  ASSERT_TRUE(layer) << layer.error().message;
  EXPECT_FALSE(path_exists(dest_ + "/dev/null"));
  ASSERT_EQ(layer->notes.size(), 1u);
  EXPECT_THAT(layer->notes[0], HasSubstr("dev/null"));
}

TEST_F(ImageUnpack, LaterEntryReplacesEarlier) {
  auto layer = unpack(build_tar({file_entry("x", "first"), file_entry("x", "second"), dir_entry("d"),
                                 file_entry("d/f", "1"), symlink_entry("d", "x")}));
  ASSERT_TRUE(layer) << layer.error().message;
  EXPECT_EQ(*read_file(dest_ + "/x"), "second");
  EXPECT_EQ(fs::read_symlink(dest_ + "/d"), "x");
}

TEST_F(ImageUnpack, MissingParentsAreCreatedAndSymlinksInsideAreFollowed) {
  auto layer = unpack(build_tar({dir_entry("usr/lib"), symlink_entry("lib", "usr/lib"), file_entry("lib/x", "1"),
                                 file_entry("deep/er/file", "2")}));
  ASSERT_TRUE(layer) << layer.error().message;
  EXPECT_EQ(*read_file(dest_ + "/usr/lib/x"), "1");
  EXPECT_EQ(*read_file(dest_ + "/deep/er/file"), "2");
}

TEST_F(ImageUnpack, RefusesDotDot) { expect_refused(build_tar({file_entry("../x", "evil")}), "../x"); }

TEST_F(ImageUnpack, RefusesDotDotInside) {
  expect_refused(build_tar({dir_entry("a"), file_entry("a/../../outside", "evil")}), "a/../../outside");
}

TEST_F(ImageUnpack, RefusesAbsolutePath) {
  expect_refused(build_tar({file_entry("/etc/x", "evil")}), "/etc/x");
}

TEST_F(ImageUnpack, RefusesWritingThroughAbsoluteSymlink) {
  expect_refused(build_tar({symlink_entry("evil", "/"), file_entry("evil/x", "evil")}), "evil/x");
}

TEST_F(ImageUnpack, RefusesWritingThroughRelativeEscape) {
  expect_refused(build_tar({dir_entry("a"), symlink_entry("a/up", "../../"), file_entry("a/up/outside", "evil")}),
                 "a/up/outside");
}

TEST_F(ImageUnpack, RefusesSymlinkToOutsideFile) {
  // The symlink itself is harmless; writing through it must not be.
  expect_refused(build_tar({symlink_entry("f", "../outside"), hardlink_entry("g", "f"), file_entry("f/x", "evil")}),
                 "f/x");
}

TEST_F(ImageUnpack, RefusesHardLinkOutside) {
  expect_refused(build_tar({hardlink_entry("link", "../outside")}), "link");
}

TEST_F(ImageUnpack, RefusesHardLinkToHostPath) {
  expect_refused(build_tar({hardlink_entry("passwd", "/etc/passwd")}), "passwd");
  EXPECT_FALSE(path_exists(dest_ + "/passwd"));
}

TEST_F(ImageUnpack, RefusesHardLinkThroughSymlink) {
  expect_refused(build_tar({symlink_entry("up", ".."), hardlink_entry("link", "up/outside")}), "link");
}

TEST_F(ImageUnpack, RefusesEntryOverSizeLimit) {
  UnpackOptions options;
  options.max_entry_size = 1000;
  expect_refused(build_tar({file_entry("big", std::string(5000, 'b'))}), "big", options);
}

TEST_F(ImageUnpack, RefusesStreamOverSizeLimit) {
  UnpackOptions options;
  options.max_size = 8192;
  auto result = unpack(build_tar({file_entry("a", std::string(6000, 'a')), file_entry("b", std::string(6000, 'b'))}),
                       options);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("over the limit"));
}

TEST_F(ImageUnpack, RefusesTruncatedGzip) {
  std::string data = build_tar({file_entry("f", std::string(200000, 'q')), file_entry("g", "1")}, Compression::gzip);
  auto result = unpack(data.substr(0, data.size() / 2));
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("archive `test.tar`, layer L1"));
  expect_outside_untouched();
}

TEST_F(ImageUnpack, RefusesCorruptZstd) {
  std::string random;
  for (int i = 0; i < 4000; ++i) random += static_cast<char>((i * 7919 + 13) % 251);
  std::string data = build_tar({file_entry("f", random)}, Compression::zstd);
  for (size_t i = 20; i < data.size() - 8; i += 7) data[i] = static_cast<char>(data[i] ^ 0x5a);
  auto result = unpack(data);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("archive `test.tar`, layer L1"));
}

TEST_F(ImageUnpack, RefusesDigestMismatch) {
  UnpackOptions options;
  options.expected_digest = sha256_digest("something else");
  auto result = unpack(build_tar({file_entry("f", "1")}), options);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("digest mismatch"));
  EXPECT_THAT(result.error().message, HasSubstr(options.expected_digest));
}

TEST_F(ImageUnpack, RefusesDiffIdMismatch) {
  UnpackOptions options;
  options.expected_diff_id = sha256_digest("something else");
  auto result = unpack(build_tar({file_entry("f", "1")}, Compression::gzip), options);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("diffID mismatch"));
}

TEST_F(ImageUnpack, RefusesEmptyStream) {
  auto result = unpack("");
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("empty"));
}

TEST_F(ImageUnpack, RefusesNonTar) {
  auto result = unpack(std::string(3000, 'x') + "this is not a tar file");
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("not a tar"));
}

// Without ignore_chown_errors an owner we cannot give is an error; root
// can give any owner, so there the owner must be exactly the entry's.
TEST_F(ImageUnpack, ForeignOwnerIsKeptOrRefusedNeverDropped) {
  TarEntry foreign = file_entry("f", "1");
  foreign.uid = 4242;
  UnpackOptions options;
  options.what = "archive `test.tar`, layer L1";
  auto fd = memory_fd(build_tar({foreign}));
  auto result = unpack_layer(fd.get(), dest_, options);
  if (::geteuid() == 0) {
    ASSERT_TRUE(result) << result.error().message;
    struct stat st;
    ASSERT_EQ(::lstat((dest_ + "/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 4242u);
    return;
  }
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("chown"));
}

}  // namespace
