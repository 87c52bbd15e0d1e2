// Unit tests of volumes without namespaces: -v/--mount/--tmpfs parsing,
// the volume store (create, list, read, remove, records), cp's target
// rules and the tar stream round trip on the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "cmd/container_fs.h"
#include "cmd/volume_flags.h"
#include "cmd/volume_store.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

TEST(CmdVolumeFlags, ParsesBindNamedAndAnonymousVolumes) {
  auto bind = parse_volume_flag("/srv/data:/data:ro,Z", "/home/u");
  ASSERT_TRUE(bind.ok()) << bind.error().message;
  EXPECT_EQ(bind->type, "bind");
  EXPECT_EQ(bind->source, "/srv/data");
  EXPECT_EQ(bind->destination, "/data");
  EXPECT_TRUE(bind->readonly);

  auto relative = parse_volume_flag("./sub:/x//y/", "/home/u");
  ASSERT_TRUE(relative.ok()) << relative.error().message;
  EXPECT_EQ(relative->source, "/home/u/sub");
  EXPECT_EQ(relative->destination, "/x/y");

  auto named = parse_volume_flag("cache:/var/cache:U", "/");
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->type, "volume");
  EXPECT_EQ(named->source, "cache");
  EXPECT_TRUE(named->chown);
  EXPECT_FALSE(named->readonly);

  auto anonymous = parse_volume_flag("/scratch", "/");
  ASSERT_TRUE(anonymous.ok()) << anonymous.error().message;
  EXPECT_EQ(anonymous->type, "volume");
  EXPECT_EQ(anonymous->source, "");
}

TEST(CmdVolumeFlags, RejectsBadVolumes) {
  auto bad_name = parse_volume_flag("rel/path:/x", "/");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().message.find("names must match"), std::string::npos) << bad_name.error().message;
  EXPECT_FALSE(parse_volume_flag("data:relative", "/").ok());
  auto unknown = parse_volume_flag("/a:/b:bogus", "/");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("bogus"), std::string::npos);
  EXPECT_FALSE(parse_volume_flag("/a:/b:ro,rw", "/").ok());
  EXPECT_FALSE(parse_volume_flag("/a:/", "/").ok());
  EXPECT_FALSE(parse_volume_flag("a:b:c:d", "/").ok());
}

TEST(CmdVolumeFlags, ParsesMountAndTmpfs) {
  auto bind = parse_mount_flag("type=bind,source=/srv,target=/srv,readonly", "/");
  ASSERT_TRUE(bind.ok()) << bind.error().message;
  EXPECT_EQ(bind->type, "bind");
  EXPECT_TRUE(bind->readonly);
  auto volume = parse_mount_flag("type=volume,src=v1,dst=/v,ro=true", "/");
  ASSERT_TRUE(volume.ok()) << volume.error().message;
  EXPECT_EQ(volume->source, "v1");
  EXPECT_TRUE(volume->readonly);
  auto tmpfs = parse_mount_flag("type=tmpfs,target=/t,tmpfs-size=2m,tmpfs-mode=1777", "/");
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().message;
  EXPECT_NE(std::find(tmpfs->options.begin(), tmpfs->options.end(), "size=2m"), tmpfs->options.end());
  EXPECT_NE(std::find(tmpfs->options.begin(), tmpfs->options.end(), "mode=1777"), tmpfs->options.end());

  EXPECT_FALSE(parse_mount_flag("type=nfs,target=/x", "/").ok());
  EXPECT_FALSE(parse_mount_flag("type=bind,target=/x", "/").ok()) << "a bind needs a source";
  EXPECT_FALSE(parse_mount_flag("type=bind,source=/a", "/").ok()) << "a target is required";
  EXPECT_FALSE(parse_mount_flag("type=bind,source=/a,target=/b,bogus=1", "/").ok());
  EXPECT_FALSE(parse_mount_flag("type=tmpfs,target=/t,tmpfs-mode=abc", "/").ok());

  auto t = parse_tmpfs_flag("/run/x:size=1m,mode=700");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->destination, "/run/x");
  EXPECT_FALSE(parse_tmpfs_flag("/run/x:bogus").ok());

  MountFlags twice;
  twice.volumes = {"/a:/same"};
  twice.tmpfs = {"/same"};
  EXPECT_FALSE(parse_mount_flags(twice, "/").ok());
}

class CmdVolumeStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-vol-");
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    auto store = image::Store::open(dir_->path() + "/store");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_.emplace(std::move(*store));
  }
  std::optional<TempDir> dir_;
  std::optional<image::Store> store_;
};

TEST_F(CmdVolumeStore, CreatesListsAndRemoves) {
  Volume named;
  named.name = "data";
  named.labels["app"] = "web";
  auto made = create_volume(*store_, named);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_TRUE(path_exists(volume_data_dir(*store_, "data")));
  EXPECT_GT(made->created_ns, 0);

  auto again = create_volume(*store_, named);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST);

  auto generated = create_volume(*store_, Volume{});
  ASSERT_TRUE(generated.ok());
  EXPECT_TRUE(std::regex_match(generated->name, std::regex("[0-9a-f]{64}")));

  auto listed = list_volumes(*store_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);

  auto read = read_volume(*store_, "data");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->labels.at("app"), "web");
  auto ensured = ensure_volume(*store_, "other");
  ASSERT_TRUE(ensured.ok());

  ASSERT_TRUE(remove_volume(*store_, "data").ok());
  EXPECT_FALSE(path_exists(store_->root() + "/volumes/data"));
  auto gone = read_volume(*store_, "data");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENOENT);
  EXPECT_NE(gone.error().message.find("no such volume"), std::string::npos);
  Volume bad;
  bad.name = "bad/name";
  EXPECT_FALSE(create_volume(*store_, bad).ok());
}

TEST(CmdVolumeRecord, RoundTripsAndToleratesOldRecords) {
  Volume v;
  v.name = "x";
  v.labels = {{"a", "b"}};
  v.anonymous = true;
  v.created_ns = 42;
  auto back = volume_from_json(volume_to_json(v));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->labels, v.labels);
  EXPECT_TRUE(back->anonymous);
  EXPECT_EQ(back->created_ns, 42);

  ContainerRecord record;
  record.id = "abc";
  record.name = "n";
  record.mounts.push_back(RecordMount{"volume", "x", "/s", "/d", {"rbind"}, false, true});
  auto parsed = record_from_json(record_to_json(record));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->mounts.size(), 1u);
  EXPECT_EQ(parsed->mounts[0].name, "x");
  EXPECT_FALSE(parsed->mounts[0].rw);
  EXPECT_TRUE(parsed->mounts[0].anonymous);
  auto old = record_from_json(R"({"id":"a","name":"b"})");
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->mounts.empty());
}

TEST(CmdCopyTarget, FollowsDockerCpRules) {
  auto dir = TempDir::create("ctr-cp-");
  ASSERT_TRUE(dir.ok());
  std::string d = dir->path();
  ASSERT_TRUE(mkdir_p(d + "/existing").ok());
  ASSERT_TRUE(write_file_atomic(d + "/file", "x").ok());

  auto into = resolve_copy_target(d + "/existing", "src", true, false);
  ASSERT_TRUE(into.ok());
  EXPECT_EQ(into->base_dir, d + "/existing");
  EXPECT_EQ(*into->rename_top, "src");
  auto contents = resolve_copy_target(d + "/existing", "src", true, true);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->base_dir, d);
  EXPECT_EQ(*contents->rename_top, "existing");
  auto as_new = resolve_copy_target(d + "/new", "src", false, false);
  ASSERT_TRUE(as_new.ok());
  EXPECT_EQ(*as_new->rename_top, "new");
  EXPECT_FALSE(resolve_copy_target(d + "/file", "src", true, false).ok()) << "a directory over a file";
  EXPECT_FALSE(resolve_copy_target(d + "/missing/x", "src", false, false).ok()) << "no parent";
  EXPECT_FALSE(resolve_copy_target(d + "/nodir/", "src", false, false).ok()) << "not a directory";
}

TEST(CmdCopyTar, RoundTripsATreeOnTheHost) {
  auto dir = TempDir::create("ctr-cp-");
  ASSERT_TRUE(dir.ok());
  std::string d = dir->path();
  ASSERT_TRUE(mkdir_p(d + "/src/sub").ok());
  ASSERT_TRUE(write_file_atomic(d + "/src/sub/file", "hello").ok());
  ASSERT_EQ(::chmod((d + "/src/sub/file").c_str(), 0751), 0);
  ASSERT_EQ(::symlink("sub/file", (d + "/src/link").c_str()), 0);
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (d + "/src/sub/file").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  ASSERT_TRUE(mkdir_p(d + "/dest").ok());

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    ::_exit(write_tree_tar(fds[1], d + "/src", "src").ok() ? 0 : 1);
  }
  ::close(fds[1]);
  ExtractOptions options;
  options.resolve_dest = d + "/dest/copy";
  Status extracted = extract_tar(fds[0], {}, options);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(extracted.ok()) << extracted.error().message;
  EXPECT_EQ(status, 0);
  auto text = read_file(d + "/dest/copy/sub/file");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello");
  struct stat st {};
  ASSERT_EQ(::stat((d + "/dest/copy/sub/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  char target[64] = {};
  ASSERT_GT(::readlink((d + "/dest/copy/link").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "sub/file");
}

}  // namespace
}  // namespace ctr::cmd
