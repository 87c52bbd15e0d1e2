// Tar layouts (image/tar_layout.h): unpack with a layout, replay, and the
// replayed bytes must be the input's, byte for byte; payloads must really be
// referenced (the layout stays small), not silently stored inline. Tars are
// built with libarchive's writer and, for the formats it does not write, by
// hand: pax size/path overrides, GNU long names, base-256 sizes, ustar
// prefixes, garbage padding and trailing bytes.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "image/digest.h"
#include "image/tar_layout.h"
#include "image/unpack.h"
#include "runtime/base/files.h"
#include "tests/unit/tar_builder.h"

using namespace ctr;
using namespace ctr::image;
using namespace ctr::test_tar;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

// Incompressible content: a layout that stored it inline could not stay small.
std::string noise(size_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

std::string octal(uint64_t value, size_t width) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
  return std::string(buffer, width - 1) + '\0';
}

// One 512-byte header, as tar writers lay it out. magic: "ustar" (POSIX
// "ustar\0" "00"), "gnu" ("ustar  \0") or "" (v7).
struct RawHeader {
  std::string name;
  char type;
  uint64_t size;
  std::string magic;
  std::string prefix;
  bool base256;
};

std::string raw_header(const RawHeader& h) {
  std::string b(512, '\0');
  auto put = [&](size_t at, const std::string& v) {
    std::memcpy(&b[at], v.data(), std::min(v.size(), size_t{512} - at));
  };
  put(0, h.name.substr(0, 100));
  put(100, octal(0644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  if (h.base256) {
    b[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) b[135 - i] = static_cast<char>((h.size >> (8 * i)) & 0xff);
  } else {
    put(124, octal(h.size, 12));
  }
  put(136, octal(1700000000, 12));
  b[156] = h.type;
  if (h.magic == "ustar")
    put(257, std::string("ustar\0"
                         "00",
                         8));
  if (h.magic == "gnu") put(257, std::string("ustar  \0", 8));
  if (!h.prefix.empty()) put(345, h.prefix);
  put(148, "        ");
  unsigned sum = 0;
  for (unsigned char c : b) sum += c;
  put(148, octal(sum, 7) + ' ');
  return b;
}

std::string header(const std::string& name, char type, uint64_t size, const std::string& magic = "ustar",
                   const std::string& prefix = "", bool base256 = false) {
  return raw_header(RawHeader{name, type, size, magic, prefix, base256});
}

std::string padded(const std::string& data, char fill = '\0') {
  return data + std::string((512 - data.size() % 512) % 512, fill);
}

std::string pax_record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  size_t length = body.size() + 1;
  while (std::to_string(length).size() + body.size() != length) ++length;
  return std::to_string(length) + body;
}

std::string end_blocks() {
  return std::string(1024, '\0');
}

class TarLayout : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-tar-layout-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    fresh("layer");
  }
  // A new empty layer directory for the next unpack.
  void fresh(const std::string& name) {
    if (!layer_.empty()) TearDown();
    layer_ = tmp_->path() + "/" + name;
    ASSERT_EQ(::mkdir(layer_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((layer_ + "/diff").c_str(), 0755), 0);
  }
  void TearDown() override {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(layer_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
  }

  std::string layout() const { return layer_ + "/" + kTarLayoutFile; }

  Result<UnpackedLayer> unpack(const std::string& tar) {
    UnpackOptions options;
    options.what = "layer L1";
    options.ignore_chown_errors = true;
    options.tar_layout_path = layout();
    auto fd = memory_fd(tar);
    return unpack_layer(fd.get(), layer_ + "/diff", options);
  }

  Result<std::string> replay(std::string& out) {
    out.clear();
    return replay_tar_layout(layout(), layer_ + "/diff", [&](const void* data, size_t size) -> Status {
      out.append(static_cast<const char*>(data), size);
      return {};
    });
  }

  uint64_t layout_size() const {
    struct stat st {};
    return ::stat(layout().c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }

  // Unpack, replay: the same bytes and digest; the layout is kept.
  void expect_round_trip(const std::string& tar) {
    auto layer = unpack(tar);
    ASSERT_TRUE(layer) << layer.error().message;
    ASSERT_TRUE(layer->tar_layout_kept) << ::testing::PrintToString(layer->notes);
    std::string out;
    auto digest = replay(out);
    ASSERT_TRUE(digest) << digest.error().message;
    EXPECT_EQ(*digest, layer->diff_id);
    EXPECT_EQ(out.size(), tar.size());
    EXPECT_TRUE(out == tar) << "replayed bytes differ from the input";
  }

  std::optional<TempDir> tmp_;
  std::string layer_;
};

TEST_F(TarLayout, LibarchiveTarRoundTripsAndReferencesContent) {
  std::string big = noise(300000, 1);
  std::string tar =
      build_tar({dir_entry("etc"), file_entry("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), file_entry("etc/big", big),
                 symlink_entry("etc/link", "passwd"), hardlink_entry("etc/hard", "etc/big"),
                 file_entry("etc/empty", ""), file_entry("etc/.wh.gone", ""), dir_entry("opt"),
                 file_entry("opt/.wh..wh..opq", ""), file_entry(std::string(150, 'n') + "-long-name", "long")});
  expect_round_trip(tar);
  EXPECT_LT(layout_size(), 4096u) << "payloads were stored inline, not referenced";
}

TEST_F(TarLayout, RecorderFedOneByteAtATimeGivesTheSameLayout) {
  std::string tar = build_tar({dir_entry("a"), file_entry("a/x", noise(5000, 2)), file_entry("a/y", "y")});
  auto layer = unpack(tar);
  ASSERT_TRUE(layer) << layer.error().message;
  ASSERT_EQ(::unlink(layout().c_str()), 0);
  auto recorder = TarLayoutRecorder::create(layout());
  ASSERT_TRUE(recorder) << recorder.error().message;
  for (char c : tar) ASSERT_TRUE((*recorder)->feed(&c, 1));
  UniqueFd root(::open((layer_ + "/diff").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto kept = (*recorder)->finish(root.get());
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(*kept, "");
  EXPECT_EQ((*recorder)->stats().referenced_files, 2u);
  EXPECT_EQ((*recorder)->stats().referenced_bytes, 5001u);
  EXPECT_EQ((*recorder)->stats().stream_bytes, tar.size());
  std::string out;
  auto digest = replay(out);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_TRUE(out == tar);
}

TEST_F(TarLayout, PaxPathAndSizeOverridesAreFollowed) {
  std::string content = noise(70000, 3);
  std::string long_path = "deep/" + std::string(120, 'p') + "/file";
  std::string pax = pax_record("path", long_path) + pax_record("size", std::to_string(content.size()));
  // The ustar header says another name and size 0: pax wins.
  std::string tar = header("PaxHeaders/x", 'x', pax.size()) + padded(pax) + header("short-name", '0', 0) +
                    padded(content) + end_blocks();
  auto layer = unpack(tar);
  ASSERT_TRUE(layer) << layer.error().message;
  EXPECT_EQ(*read_file(layer_ + "/diff/" + long_path), content);
  fresh("again");
  expect_round_trip(tar);
  EXPECT_LT(layout_size(), 4096u);
}

TEST_F(TarLayout, GnuLongNamesBase256SizesAndUstarPrefixes) {
  std::string a = noise(40000, 4), b = noise(30000, 5), c = noise(20000, 6);
  std::string long_name = std::string(200, 'g') + "/name";
  std::string tar = header("././@LongLink", 'L', long_name.size() + 1, "gnu") + padded(long_name + '\0') +
                    header("truncated", '0', a.size(), "gnu") + padded(a) +
                    header("base256", '0', b.size(), "gnu", "", true) + padded(b) +
                    header("file", '0', c.size(), "ustar", "some/prefix") + padded(c) + end_blocks();
  auto layer = unpack(tar);
  ASSERT_TRUE(layer) << layer.error().message;
  EXPECT_EQ(*read_file(layer_ + "/diff/" + long_name), a);
  EXPECT_EQ(*read_file(layer_ + "/diff/base256"), b);
  EXPECT_EQ(*read_file(layer_ + "/diff/some/prefix/file"), c);
  std::string out;
  auto digest = replay(out);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_TRUE(out == tar);
  EXPECT_LT(layout_size(), 4096u);
}

// libarchive applies the first of an 'L' and an 'x' path= in the stream.
TEST_F(TarLayout, LongNameBeforePaxPathWins) {
  std::string content = noise(10000, 7);
  std::string pax = pax_record("path", "from-pax");
  std::string tar = header("././@LongLink", 'L', 10, "gnu") + padded(std::string("from-long") + '\0') +
                    header("PaxHeaders/x", 'x', pax.size()) + padded(pax) + header("plain", '0', content.size()) +
                    padded(content) + end_blocks();
  auto layer = unpack(tar);
  ASSERT_TRUE(layer) << layer.error().message;
  ASSERT_TRUE(path_exists(layer_ + "/diff/from-long"));
  ASSERT_TRUE(layer->tar_layout_kept) << ::testing::PrintToString(layer->notes);
  std::string out;
  ASSERT_TRUE(replay(out));
  EXPECT_TRUE(out == tar);
  EXPECT_LT(layout_size(), 4096u);
}

TEST_F(TarLayout, GarbagePaddingAndTrailingBytesAreKept) {
  std::string content = noise(1000, 8);
  std::string tar = header("f", '0', content.size()) + padded(content, 'Z') + end_blocks() + std::string(7000, '\0') +
                    "trailing junk after the archive";
  expect_round_trip(tar);
  // No end-of-archive blocks at all.
  std::string bare = header("g", '0', 3) + padded("abc", 'q');
  fresh("bare");
  expect_round_trip(bare);
}

TEST_F(TarLayout, SparseFilesAreStoredInline) {
  std::string tar;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &tar, nullptr, tar_builder_write, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "sparse");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, 1 << 20);
  archive_entry_sparse_add_entry(e, 0, 4096);
  archive_entry_sparse_add_entry(e, 1 << 19, 4096);
  archive_write_header(a, e);
  std::string data(4096, 'd');
  archive_write_data(a, data.data(), data.size());
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  expect_round_trip(tar);
}

TEST_F(TarLayout, RepeatedPathDropsTheLayoutButUnpacks) {
  std::string tar = build_tar({file_entry("f", "first"), file_entry("f", "second")});
  auto layer = unpack(tar);
  ASSERT_TRUE(layer) << layer.error().message;
  EXPECT_EQ(*read_file(layer_ + "/diff/f"), "second");
  EXPECT_FALSE(layer->tar_layout_kept);
  EXPECT_FALSE(path_exists(layout()));
  EXPECT_THAT(::testing::PrintToString(layer->notes), HasSubstr("appears twice"));
}

TEST_F(TarLayout, WriteThroughSymlinkOrWhiteoutOfOwnFileDropsTheLayout) {
  int n = 0;
  auto dropped = [&](const std::vector<TarEntry>& entries) {
    fresh("case" + std::to_string(n++));
    auto layer = unpack(build_tar(entries));
    EXPECT_TRUE(layer) << layer.error().message;
    return layer && !layer->tar_layout_kept && !path_exists(layout());
  };
  EXPECT_TRUE(dropped(
      {dir_entry("real"), file_entry("real/f", "1"), symlink_entry("alias", "real"), file_entry("alias/f", "2")}));
  EXPECT_TRUE(dropped({dir_entry("d"), file_entry("d/f", "1"), file_entry("d/.wh.f", "")}));
  EXPECT_TRUE(dropped({dir_entry("d"), file_entry("d/f", "1"), file_entry("d", "now a file")}));
  EXPECT_FALSE(dropped({dir_entry("d"), file_entry("d/f", "1"), dir_entry("d")}));  // dir over dir keeps d/f
}

TEST_F(TarLayout, ChangedFileFailsTheReplay) {
  std::string tar = build_tar({file_entry("etc/shadow", "root:*:1::::::\n", 0640)});
  auto layer = unpack(tar);
  ASSERT_TRUE(layer) << layer.error().message;
  ASSERT_TRUE(write_file_atomic(layer_ + "/diff/etc/shadow", "root:$6$changed:1::::::\n"));
  std::string out;
  auto digest = replay(out);
  ASSERT_FALSE(digest);
  EXPECT_THAT(digest.error().message, HasSubstr("etc/shadow"));
  EXPECT_THAT(digest.error().message, HasSubstr("changed since it was loaded"));
  // Same size, other content: replay works, the digest tells.
  ASSERT_TRUE(write_file_atomic(layer_ + "/diff/etc/shadow", "root:X:1::::::\n"));
  auto same_size = replay(out);
  ASSERT_TRUE(same_size) << same_size.error().message;
  EXPECT_NE(*same_size, layer->diff_id);
  ASSERT_TRUE(remove_tree(layer_ + "/diff/etc"));
  EXPECT_FALSE(replay(out));
}

TEST_F(TarLayout, CorruptLayoutIsAnError) {
  ASSERT_TRUE(unpack(build_tar({file_entry("f", "x")})));
  ASSERT_TRUE(write_file_atomic(layout(), "not gzip at all"));
  std::string out;
  auto digest = replay(out);
  ASSERT_FALSE(digest);
  EXPECT_THAT(digest.error().message, HasSubstr(kTarLayoutFile));
}

}  // namespace
