// Root file system drivers without privileges: names, overrides, the
// decision, overlay option limits, the vfs copy (whiteouts, opaque dirs,
// links, modes, mtimes) and container records with garbage collection.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>

#include "cmd/app.h"
#include "image/container_layers.h"
#include "image/digest.h"
#include "image/rootfs_driver.h"
#include "image/store.h"
#include "runtime/base/files.h"

using namespace ctr;
using namespace ctr::image;
using ::testing::HasSubstr;

namespace {

// Sets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST(RootfsDriver, NamesRoundTripAndUnknownIsAClearError) {
  for (Driver driver : all_drivers()) {
    auto parsed = parse_driver(driver_name(driver));
    ASSERT_TRUE(parsed) << driver_name(driver);
    EXPECT_EQ(*parsed, driver);
  }
  EXPECT_STREQ(driver_name(Driver::fuse_overlayfs), "fuse-overlayfs");
  auto bad = parse_driver("overlay2");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("unknown storage driver `overlay2`"));
  EXPECT_THAT(bad.error().message, HasSubstr("overlay, fuse-overlayfs or vfs"));
}

TEST(RootfsDriver, StorageConfDriverKey) {
  auto conf = parse_storage_conf("# comment\n[storage]\nrunroot = \"/x\"\n driver = \"vfs\"  # why\n", "f");
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_EQ(conf->value_or(""), "vfs");
  auto none = parse_storage_conf("[storage]\ngraphroot = \"/y\"\n", "f");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto broken = parse_storage_conf("[storage]\ndriver\n", "/c/storage.conf");
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message, HasSubstr("/c/storage.conf:2"));
}

TEST(RootfsDriver, OverrideOrderFlagThenEnvThenConf) {
  auto dir = TempDir::create("ctr-rootfs-conf-");
  ASSERT_TRUE(dir);
  ScopedEnv config("XDG_CONFIG_HOME", dir->path().c_str());
  ScopedEnv unset_env("CTR_STORAGE_DRIVER", nullptr);
  auto none = driver_override("");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(mkdir_p(dir->path() + "/ctr"));
  ASSERT_TRUE(write_file_atomic(dir->path() + "/ctr/storage.conf", "[storage]\ndriver = \"fuse-overlayfs\"\n"));
  auto from_conf = driver_override("");
  ASSERT_TRUE(from_conf && *from_conf);
  EXPECT_EQ((*from_conf)->driver, Driver::fuse_overlayfs);
  EXPECT_EQ((*from_conf)->source, dir->path() + "/ctr/storage.conf");
  {
    ScopedEnv env("CTR_STORAGE_DRIVER", "vfs");
    auto from_env = driver_override("");
    ASSERT_TRUE(from_env && *from_env);
    EXPECT_EQ((*from_env)->driver, Driver::vfs);
    EXPECT_EQ((*from_env)->source, "CTR_STORAGE_DRIVER");
    auto from_flag = driver_override("overlay");
    ASSERT_TRUE(from_flag && *from_flag);
    EXPECT_EQ((*from_flag)->driver, Driver::overlay);
    EXPECT_EQ((*from_flag)->source, "--storage-driver");
  }
  ScopedEnv bad("CTR_STORAGE_DRIVER", "btrfs");
  auto error = driver_override("");
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error().message, HasSubstr("CTR_STORAGE_DRIVER: unknown storage driver `btrfs`"));
}

DriverProbe probe_of(bool overlay, bool fuse) {
  DriverProbe probe;
  probe.overlay_probed = probe.fuse_probed = true;
  probe.native_overlay = overlay;
  if (!overlay) probe.overlay_error = "mount: Operation not permitted";
  probe.fuse_overlayfs = fuse;
  if (!fuse) probe.fuse_error = "open /dev/fuse: Permission denied";
  return probe;
}

TEST(RootfsDriver, AutomaticOrderIsOverlayFuseVfs) {
  EXPECT_EQ(decide_driver(probe_of(true, true), std::nullopt)->driver, Driver::overlay);
  auto fuse = decide_driver(probe_of(false, true), std::nullopt);
  EXPECT_EQ(fuse->driver, Driver::fuse_overlayfs);
  EXPECT_THAT(fuse->reason, HasSubstr("Operation not permitted"));
  auto vfs = decide_driver(probe_of(false, false), std::nullopt);
  EXPECT_EQ(vfs->driver, Driver::vfs);
  EXPECT_FALSE(vfs->overridden);
  EXPECT_THAT(vfs->reason, HasSubstr("/dev/fuse"));
}

TEST(RootfsDriver, UnusableOverrideIsAnErrorNamingItsSource) {
  auto chosen = decide_driver(probe_of(false, false), DriverOverride{Driver::vfs, "CTR_STORAGE_DRIVER"});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->driver, Driver::vfs);
  EXPECT_TRUE(chosen->overridden);
  auto refused = decide_driver(probe_of(true, false), DriverOverride{Driver::fuse_overlayfs, "--storage-driver"});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message,
              HasSubstr("storage driver fuse-overlayfs (set by --storage-driver) cannot be used"));
  EXPECT_THAT(refused.error().message, HasSubstr("/dev/fuse"));
  auto no_overlay = decide_driver(probe_of(false, true), DriverOverride{Driver::overlay, "--storage-driver"});
  ASSERT_FALSE(no_overlay);
  EXPECT_THAT(no_overlay.error().message, HasSubstr("native overlay does not work"));
}

TEST(RootfsDriver, OverlayOptionsAreRelativeAndBounded) {
  std::string hex(64, 'a');
  auto options = overlay_mount_options({hex + "/diff", "b/diff"}, "../containers/c/upper", "../containers/c/work");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(*options, "lowerdir=" + hex +
                          "/diff:b/diff,upperdir=../containers/c/upper,workdir=../containers/c/"
                          "work,userxattr");
  std::vector<std::string> many(80, hex + "/diff");
  auto too_long = overlay_mount_options(many, "u", "w");
  ASSERT_FALSE(too_long);
  EXPECT_THAT(too_long.error().message, HasSubstr("the image has 80 layers"));
  EXPECT_THAT(too_long.error().message, HasSubstr("--storage-driver vfs"));
  EXPECT_FALSE(overlay_mount_options({"a,b"}, "u", "w"));
}

class VfsCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-vfs-copy-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    for (const char* sub : {"/l1/etc", "/l1/d/sub", "/l1/ro", "/l2/etc", "/l2/d", "/out"})
      ASSERT_TRUE(mkdir_p(path(sub)));
  }
  std::string path(const std::string& rel) const { return tmp_->path() + rel; }
  void write(const std::string& rel, const std::string& text) { ASSERT_TRUE(write_file_atomic(path(rel), text)); }
  std::optional<TempDir> tmp_;
};

TEST_F(VfsCopy, AppliesLayersLikeOverlay) {
  write("/l1/etc/keep", "keep");
  write("/l1/etc/gone", "gone");
  write("/l1/d/old", "old");
  write("/l1/d/sub/deep", "deep");
  write("/l1/etc/suid", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(path("/l1/etc/suid").c_str(), 04755), 0);
  ASSERT_EQ(::link(path("/l1/etc/keep").c_str(), path("/l1/etc/keep-link").c_str()), 0);
  ASSERT_EQ(::symlink("../etc/keep", path("/l1/d/sym").c_str()), 0);
  ASSERT_EQ(::chmod(path("/l1/ro").c_str(), 0555), 0);
  timespec old_time[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path("/l1/etc/keep").c_str(), old_time, 0), 0);
  // Upper layer: deletes etc/gone (0:0 char device: unprivileged since Linux 5.8), makes d opaque.
  ASSERT_EQ(::mknod(path("/l2/etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0) << std::strerror(errno);
  if (::setxattr(path("/l2/d").c_str(), "user.overlay.opaque", "y", 1, 0) != 0)
    GTEST_SKIP() << "NO-USER-XATTR: " << tmp_->path() << " does not take user.* xattrs";
  write("/l2/d/new", "new");
  ASSERT_EQ(::utimensat(AT_FDCWD, path("/l2/etc").c_str(), old_time, 0), 0);

  auto copied = copy_layers({path("/l1"), path("/l2")}, path("/out"));
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(read_file(path("/out/etc/keep")).value(), "keep");
  EXPECT_FALSE(path_exists(path("/out/etc/gone")));
  EXPECT_TRUE(path_exists(path("/out/d/new")));
  EXPECT_FALSE(path_exists(path("/out/d/old"))) << "opaque directory kept a lower entry";
  EXPECT_FALSE(path_exists(path("/out/d/sub")));
  EXPECT_FALSE(path_exists(path("/out/d/sym")));
  char value[4];
  EXPECT_LT(::getxattr(path("/out/d").c_str(), "user.overlay.opaque", value, sizeof value), 0)
      << "overlay's own xattrs are not copied";
  struct stat a {
  }, b{}, s{};
  ASSERT_EQ(::stat(path("/out/etc/keep").c_str(), &a), 0);
  ASSERT_EQ(::stat(path("/out/etc/keep-link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "hard link not kept";
  EXPECT_EQ(a.st_mtim.tv_sec, 1000000000);
  ASSERT_EQ(::stat(path("/out/etc/suid").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 07777, 04755u);
  ASSERT_EQ(::stat(path("/out/ro").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 07777, 0555u);
  ASSERT_EQ(::stat(path("/out/etc").c_str(), &s), 0);
  EXPECT_EQ(s.st_mtim.tv_sec, 1000000000) << "directory mtime from the upper layer";
  // The layers themselves are untouched.
  EXPECT_TRUE(path_exists(path("/l1/d/old")));
  ASSERT_EQ(::chmod(path("/out/ro").c_str(), 0755), 0);  // so TempDir can remove it
  ASSERT_EQ(::chmod(path("/l1/ro").c_str(), 0755), 0);
}

TEST_F(VfsCopy, SymlinkIsCopiedNotFollowed) {
  ASSERT_EQ(::symlink("/etc", path("/l1/etc/escape").c_str()), 0);
  ASSERT_TRUE(mkdir_p(path("/l2/etc/escape")));  // a directory over the symlink replaces it
  write("/l2/etc/escape/passwd", "mine");
  auto copied = copy_layers({path("/l1"), path("/l2")}, path("/out"));
  ASSERT_TRUE(copied) << copied.error().message;
  struct stat st {};
  ASSERT_EQ(::lstat(path("/out/etc/escape").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(read_file(path("/out/etc/escape/passwd")).value(), "mine");
  EXPECT_NE(read_file("/etc/passwd").value(), "mine");
}

class ContainerRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-containers-test-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    auto store = Store::open(tmp_->path() + "/store");
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
    diff_id_ = sha256_digest("diff:one");
    auto staged = store_->make_staging_dir("layer");
    ASSERT_TRUE(staged);
    ASSERT_TRUE(mkdir_p(*staged + "/diff/etc"));
    ASSERT_TRUE(write_file_atomic(*staged + "/diff/etc/hostname", "x"));
    ASSERT_TRUE(store_->commit_layer(*staged, LayerRecord{diff_id_, diff_id_, "", "", 1}));
    image_.id = sha256_digest("config");
    image_.names = {"localhost/one:latest"};
    image_.layer_chain_ids = {diff_id_};
    image_.diff_ids = {diff_id_};
    ASSERT_TRUE(store_->put_image(image_));
  }
  std::optional<TempDir> tmp_;
  std::optional<Store> store_;
  std::string diff_id_;
  ImageRecord image_;
};

TEST_F(ContainerRecords, CreateListFindRemove) {
  auto created = create_container_layer(*store_, "c1", image_, Driver::overlay, "one");
  ASSERT_TRUE(created) << created.error().message;
  ContainerPaths paths = container_paths(*store_, "c1");
  for (const auto& dir : {paths.upper, paths.work, paths.merged}) EXPECT_TRUE(path_exists(dir)) << dir;
  EXPECT_FALSE(path_exists(paths.rootfs));
  auto again = create_container_layer(*store_, "c1", image_, Driver::overlay);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EEXIST);
  auto found = find_container_layer(*store_, "c1");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->image_id, image_.id);
  EXPECT_EQ(found->layer_chain_ids, image_.layer_chain_ids);
  EXPECT_EQ(found->driver, Driver::overlay);
  EXPECT_GT(found->created, 0);
  auto users = image_users(*store_);
  ASSERT_TRUE(users);
  EXPECT_EQ((*users)[image_.id], std::vector<std::string>{"c1"});
  ASSERT_TRUE(remove_container_layer(*store_, "c1"));
  EXPECT_FALSE(path_exists(paths.dir));
  EXPECT_EQ(remove_container_layer(*store_, "c1").error().code, ENOENT);
  EXPECT_TRUE(list_container_layers(*store_)->empty());
  EXPECT_THAT(find_container_layer(*store_, "c1").error().message, HasSubstr("no container storage for `c1`"));
}

TEST_F(ContainerRecords, BadIdsAndMissingLayersAreRefused) {
  for (const char* id : {"", "../x", "a/b", ".hidden", "-x"})
    EXPECT_EQ(create_container_layer(*store_, id, image_, Driver::overlay).error().code, EINVAL) << id;
  ImageRecord broken = image_;
  broken.layer_chain_ids = {sha256_digest("not there")};
  auto missing = create_container_layer(*store_, "c2", broken, Driver::overlay);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("is missing from the image store"));
  EXPECT_FALSE(path_exists(container_paths(*store_, "c2").dir));
}

TEST_F(ContainerRecords, CorruptRecordIsAnErrorNamingTheFile) {
  ASSERT_TRUE(create_container_layer(*store_, "c3", image_, Driver::vfs));
  std::string record = container_paths(*store_, "c3").dir + "/container.json";
  ASSERT_TRUE(write_file_atomic(record, "{not json"));
  auto listed = list_container_layers(*store_);
  ASSERT_FALSE(listed);
  EXPECT_THAT(listed.error().message, HasSubstr(record));
}

TEST_F(ContainerRecords, GarbageCollectionKeepsLayersOfContainers) {
  ASSERT_TRUE(create_container_layer(*store_, "c4", image_, Driver::overlay));
  ASSERT_TRUE(store_->remove_image(image_.id));
  ASSERT_TRUE(store_->garbage_collect());
  EXPECT_TRUE(store_->has_layer(diff_id_)) << "a container's layer was collected";
  ASSERT_TRUE(remove_container_layer(*store_, "c4"));
  ASSERT_TRUE(store_->garbage_collect());
  EXPECT_FALSE(store_->has_layer(diff_id_));
}

}  // namespace

namespace {

TEST(RootfsDriverCli, StorageDriverFlagCompletesTheDriverNames) {
  auto cli = ctr::cmd::build_cli();
  const auto* spec = cli->completers.find(cli->app.get_option("--storage-driver"));
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->kind, ctr::cmd::Completer::fixed);
  EXPECT_EQ(spec->choices, (std::vector<std::string>{"overlay", "fuse-overlayfs", "vfs"}));
}

}  // namespace
