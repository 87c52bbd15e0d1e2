// Container root file systems, for real, as the unprivileged user: a
// two-layer image (the upper layer deletes a file and makes a directory
// opaque) is loaded with `ctr load`, then for each driver a container layer
// is created through the library, mounted in the store's user + mount
// namespace (as ctr-shim will), checked, written to, unmounted and removed.
// Also: rmi refuses an image in use and -f removes its containers, prune and
// garbage collection keep what containers use, driver overrides, ctr info.
// This binary links ctr_image (tests/CMakeLists.txt: ctr_rootfs_tests).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>

#include "image/container_layers.h"
#include "image/digest.h"
#include "image/rootfs_driver.h"
#include "image/store.h"
#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/test_env.h"
#include "userns/run_in_userns.h"

namespace ctr::itest {
namespace {

using image::Driver;

using Out = CommandOutput;

std::string text_of(const std::string& path) {
  auto text = read_file(path);
  return text ? *text : "<" + text.error().message + ">";
}

// Lower layer: etc/{keep,gone,owned(1000:1000)}, bin/suid (4755), d/{old,sub/deep};
// upper layer: deletes etc/gone, makes d/ opaque with d/new.
const char* kCraftScript = R"SH(
set -eu
cd "$WORK"
mkdir -p l1/etc l1/d/sub l1/bin l2/etc l2/d out/l1 out/l2
echo keep > l1/etc/keep; echo gone > l1/etc/gone; echo old > l1/d/old; echo deep > l1/d/sub/deep
echo owned > l1/etc/owned; printf '#!/bin/sh\n' > l1/bin/suid; chmod 4755 l1/bin/suid
tar -C l1 --owner=0 --group=0 --numeric-owner -cf out/l1/layer.tar etc/keep etc/gone d bin
tar -C l1 --owner=1000 --group=1000 --numeric-owner -rf out/l1/layer.tar etc/owned
touch l2/etc/.wh.gone l2/d/.wh..wh..opq; echo new > l2/d/new
tar -C l2 --owner=0 --group=0 --numeric-owner -cf out/l2/layer.tar etc d
d1=$(sha256sum out/l1/layer.tar | cut -d' ' -f1); d2=$(sha256sum out/l2/layer.tar | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' "$d1" "$d2" > config.json
c=$(sha256sum config.json | cut -d' ' -f1); mv config.json out/$c.json
printf '[{"Config":"%s.json","RepoTags":["localhost/layered:v1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]' "$c" > out/manifest.json
tar -C out -cf layered.tar manifest.json $c.json l1 l2
)SH";

// Checks made inside the namespace; returns what is wrong ("" when all is well).
std::string check_view(const std::string& merged) {
  std::string wrong;
  auto expect = [&](bool ok, const std::string& what) {
    if (!ok) wrong += what + "; ";
  };
  struct stat st {};
  auto keep = read_file(merged + "/etc/keep");
  expect(keep && *keep == "keep\n", "etc/keep missing or wrong");
  expect(::lstat((merged + "/etc/gone").c_str(), &st) != 0 && errno == ENOENT, "etc/gone was not deleted");
  expect(path_exists(merged + "/d/new"), "d/new missing");
  expect(!path_exists(merged + "/d/old") && !path_exists(merged + "/d/sub"), "opaque d/ shows lower entries");
  expect(::stat((merged + "/etc/owned").c_str(), &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000,
         "etc/owned is not 1000:1000 (" + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + ")");
  expect(::stat((merged + "/etc/keep").c_str(), &st) == 0 && st.st_uid == 0, "etc/keep is not owned by 0");
  expect(::stat((merged + "/bin/suid").c_str(), &st) == 0 && (st.st_mode & 07777) == 04755, "bin/suid is not 4755");
  return wrong;
}

// Writes through the merged view: a new file, a change to a lower file, a deletion.
std::string write_view(const std::string& merged) {
  if (!write_file_atomic(merged + "/etc/new-file", "hello")) return "cannot create etc/new-file";
  auto fd = open_fd(merged + "/etc/keep", O_WRONLY | O_APPEND);
  if (!fd || !write_all(fd->get(), std::string("more\n"))) return "cannot append to etc/keep";
  if (::unlink((merged + "/d/new").c_str()) != 0) return "cannot delete d/new";
  // A copy-up of a file owned by a subordinate ID: removing the container needs the namespace.
  if (::chmod((merged + "/etc/owned").c_str(), 0600) != 0) return "cannot chmod etc/owned";
  return "";
}

// Runs `work` on the container's mounted root inside the store's user +
// mount namespace; always unmounts (a fuse daemon must not outlive the test).
Status in_container_ns(const image::Store& store, const image::ContainerLayer& container,
                       const std::function<std::string(const std::string&)>& work) {
  auto maps = userns::store_maps();
  if (!maps) return std::move(maps).error();
  return userns::run_in_userns(*maps, [&]() -> Status {
    TRY(image::mount_container_rootfs(store, container));
    std::string wrong = work(image::container_paths(store, container.id).merged);
    auto unmounted = image::unmount_container_rootfs(store, container);
    if (!wrong.empty()) return make_error(wrong);
    return unmounted;
  });
}

class CtrRootfs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
    if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
    // fuse-overlayfs daemonizes: as a subreaper this process reaps it (PID 1 here does not).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    auto dir = TempDir::create("ctr-rootfs-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/store";
    std::string work = dir_->path() + "/craft";
    auto made = run_command({"/bin/sh", "-c", "WORK=" + shell_quote(work) + "; mkdir -p \"$WORK\"; export WORK;" + kCraftScript});
    ASSERT_EQ(made.code, 0) << made.describe();
    auto load = ctr({"load", "-q", "-i", work + "/layered.tar"});
    ASSERT_EQ(load.code, 0) << load.describe();
    auto store = image::Store::open(root_);
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
    auto found = store_->find_image("localhost/layered:v1");
    ASSERT_TRUE(found) << found.error().message;
    image_ = *found;
    ASSERT_EQ(image_.layer_chain_ids.size(), 2u);
  }
  void TearDown() override {
    reap_daemons();
    if (dir_) (void)run_command({ctr_binary(), "--root", root_, "unshare", "rm", "-rf", root_});
  }
  static void reap_daemons() {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid < 0) return;  // ECHILD: nothing left
      if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  Out ctr(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv{ctr_binary(), "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, std::nullopt, 120, env);
  }
  Result<image::ContainerLayer> create(const std::string& id, Driver driver) {
    auto lock = store_->lock();
    if (!lock) return std::move(lock).error();
    return image::create_container_layer(*store_, id, image_, driver, "localhost/layered:v1");
  }
  Status remove(const std::string& id) {
    auto lock = store_->lock();
    if (!lock) return std::move(lock).error();
    return image::remove_container_layer(*store_, id);
  }

  std::optional<TempDir> dir_;
  std::string root_;
  std::optional<image::Store> store_;
  image::ImageRecord image_;
};

class CtrRootfsDriver : public CtrRootfs, public ::testing::WithParamInterface<Driver> {};

TEST_P(CtrRootfsDriver, MountShowsTheImageAndWritesStayInTheContainer) {
  Driver driver = GetParam();
  if (driver == Driver::fuse_overlayfs) {
    image::DriverProbe probe;
    image::probe_fuse_overlayfs(probe);
    if (!probe.fuse_overlayfs)
      GTEST_SKIP() << "FUSE-DEV-NOT-USABLE: " << probe.fuse_error
                   << " (scripts/test.sh should bind a fuse node owned by the test user over /dev/fuse)";
  }
  auto created = create("c1", driver);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->driver, driver);
  auto first = in_container_ns(*store_, *created, [this](const std::string& merged) {
    std::string wrong = check_view(merged);
    if (wrong.empty()) wrong = write_view(merged);
    // Removing a mounted container would delete through the mount.
    image::Store store = *store_;
    auto removed = image::remove_container_layer(store, "c1");
    if (wrong.empty() && (removed || removed.error().code != EBUSY))
      wrong = "removing a mounted container was not refused: " + (removed ? "ok" : removed.error().message);
    return wrong;
  });
  ASSERT_TRUE(first) << first.error().message;

  // Writes landed in the container's own directory, never in the layers.
  image::ContainerPaths paths = image::container_paths(*store_, "c1");
  std::string own = driver == Driver::vfs ? paths.rootfs : paths.upper;
  EXPECT_EQ(text_of(own + "/etc/new-file"), "hello");
  EXPECT_EQ(text_of(own + "/etc/keep"), "keep\nmore\n");
  struct stat owned {};
  ASSERT_EQ(::stat((own + "/etc/owned").c_str(), &owned), 0) << "no copy-up of etc/owned in " << own;
  EXPECT_EQ(owned.st_mode & 07777, 0600u);
  EXPECT_NE(owned.st_uid, ::getuid()) << "etc/owned lost its subordinate owner";
  std::string lower = store_->layer_diff_dir(image_.layer_chain_ids[0]);
  std::string upper_layer = store_->layer_diff_dir(image_.layer_chain_ids[1]);
  EXPECT_EQ(text_of(lower + "/etc/keep"), "keep\n");
  EXPECT_FALSE(path_exists(lower + "/etc/new-file"));
  EXPECT_TRUE(path_exists(upper_layer + "/d/new"));
  struct stat st {};
  if (driver == Driver::vfs) {
    EXPECT_NE(::lstat((own + "/d/new").c_str(), &st), 0);
  } else {  // a whiteout: overlay's 0:0 device, or fuse-overlayfs' .wh. file where mknod is refused
    bool device = ::lstat((own + "/d/new").c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
    EXPECT_TRUE(device || path_exists(own + "/d/.wh.new")) << "no whiteout for d/new in " << own;
  }
  // A second mount shows the container's changes.
  auto second = in_container_ns(*store_, *created, [](const std::string& merged) -> std::string {
    if (text_of(merged + "/etc/new-file") != "hello") return "etc/new-file lost";
    if (path_exists(merged + "/d/new")) return "deleted d/new is back";
    return "";
  });
  EXPECT_TRUE(second) << second.error().message;

  auto listed = image::list_container_layers(*store_);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().driver, driver);
  ASSERT_TRUE(remove("c1"));
  EXPECT_FALSE(path_exists(paths.dir));
  EXPECT_TRUE(image::list_container_layers(*store_)->empty());
}

INSTANTIATE_TEST_SUITE_P(Drivers, CtrRootfsDriver,
                         ::testing::Values(Driver::overlay, Driver::fuse_overlayfs, Driver::vfs), [](const auto& info) {
                           std::string name = image::driver_name(info.param);
                           return name == "fuse-overlayfs" ? std::string("fuse_overlayfs") : name;
                         });

// 70 layers name more lowerdirs than mount(2)'s one page of options holds:
// they are added one by one (Linux 6.8's "lowerdir+"), or the error says why.
TEST_F(CtrRootfs, OverlayMountsImagesWithManyLayers) {
  image::ImageRecord tall;
  std::string parent;
  for (int i = 0; i < 70; ++i) {
    std::string diff_id = image::sha256_digest("tall layer " + std::to_string(i));
    std::string chain = image::chain_id(parent, diff_id);
    auto staged = store_->make_staging_dir("layer");
    ASSERT_TRUE(staged) << staged.error().message;
    ASSERT_TRUE(mkdir_p(*staged + "/diff"));
    ASSERT_TRUE(write_file_atomic(*staged + "/diff/file-" + std::to_string(i), "x", 0644));
    ASSERT_TRUE(write_file_atomic(*staged + "/diff/top", std::to_string(i), 0644));
    auto lock = store_->lock();
    ASSERT_TRUE(lock);
    ASSERT_TRUE(store_->commit_layer(*staged, image::LayerRecord{chain, diff_id, parent, "", 2}));
    tall.layer_chain_ids.push_back(chain);
    tall.diff_ids.push_back(diff_id);
    parent = chain;
  }
  tall.id = image::sha256_digest("tall config");
  std::optional<image::ContainerLayer> created;
  {
    auto lock = store_->lock();
    ASSERT_TRUE(lock);
    ASSERT_TRUE(store_->put_image(tall));
    auto made = image::create_container_layer(*store_, "tall", tall, Driver::overlay);
    ASSERT_TRUE(made) << made.error().message;
    created = *made;
  }
  auto mounted = in_container_ns(*store_, *created, [](const std::string& merged) -> std::string {
    if (text_of(merged + "/top") != "69") return "top is `" + text_of(merged + "/top") + "`, not from the top layer";
    for (int i = 0; i < 70; ++i)
      if (!path_exists(merged + "/file-" + std::to_string(i))) return "file-" + std::to_string(i) + " missing";
    return "";
  });
  if (!mounted && mounted.error().message.find("no per-layer overlay option") != std::string::npos) {
    EXPECT_NE(mounted.error().message.find("the image has 70 layers"), std::string::npos) << mounted.error().message;
  } else {
    EXPECT_TRUE(mounted) << mounted.error().message;
  }
}

TEST_F(CtrRootfs, RmiRefusesAnImageInUseAndForceRemovesItsContainers) {
  ASSERT_TRUE(create("web", Driver::overlay));
  auto refused = ctr({"rmi", "localhost/layered:v1"});
  EXPECT_EQ(refused.code, 2) << refused.describe();
  EXPECT_NE(refused.err.find("image localhost/layered:v1 is in use by container web: remove the container first "
                             "(ctr rm web) or use ctr rmi -f"),
            std::string::npos)
      << refused.err;
  auto prune = ctr({"image", "prune", "-a", "-f"});
  EXPECT_EQ(prune.code, 0) << prune.describe();
  EXPECT_TRUE(store_->find_image("localhost/layered:v1")) << "prune removed an image in use";
  auto forced = ctr({"rmi", "-f", "localhost/layered:v1"});
  EXPECT_EQ(forced.code, 0) << forced.describe();
  EXPECT_FALSE(path_exists(image::container_paths(*store_, "web").dir));
  EXPECT_FALSE(store_->find_image("localhost/layered:v1"));
  for (const auto& chain : image_.layer_chain_ids) EXPECT_FALSE(store_->has_layer(chain)) << chain;
}

TEST_F(CtrRootfs, GarbageCollectionKeepsLayersContainersUse) {
  ASSERT_TRUE(create("keeper", Driver::overlay));
  {
    auto lock = store_->lock();
    ASSERT_TRUE(lock);
    ASSERT_TRUE(store_->remove_image(image_.id));  // the image goes, the container stays
  }
  auto prune = ctr({"image", "prune", "-a", "-f"});  // collects garbage
  EXPECT_EQ(prune.code, 0) << prune.describe();
  for (const auto& chain : image_.layer_chain_ids) EXPECT_TRUE(store_->has_layer(chain)) << chain;
  auto container = image::find_container_layer(*store_, "keeper");
  ASSERT_TRUE(container);
  auto still = in_container_ns(*store_, *container, [](const std::string& merged) { return check_view(merged); });
  EXPECT_TRUE(still) << still.error().message;
  ASSERT_TRUE(remove("keeper"));
  EXPECT_EQ(ctr({"image", "prune", "-a", "-f"}).code, 0);
  for (const auto& chain : image_.layer_chain_ids) EXPECT_FALSE(store_->has_layer(chain)) << chain;
}

TEST_F(CtrRootfs, OverridesAreHonouredInOrder) {
  auto format = std::string("{{.store.graphDriverName}} / {{.store.graphDriverReason}}");
  auto by_env = ctr({"info", "--format", format}, {"CTR_STORAGE_DRIVER=vfs"});
  EXPECT_EQ(by_env.code, 0) << by_env.describe();
  EXPECT_EQ(trim(by_env.out), "vfs / set by CTR_STORAGE_DRIVER");
  auto by_flag = ctr({"--storage-driver", "overlay", "info", "--format", format}, {"CTR_STORAGE_DRIVER=vfs"});
  EXPECT_EQ(trim(by_flag.out), "overlay / set by --storage-driver") << by_flag.describe();
  std::string config = dir_->path() + "/config";
  ASSERT_TRUE(mkdir_p(config + "/ctr"));
  ASSERT_TRUE(write_file_atomic(config + "/ctr/storage.conf", "[storage]\ndriver = \"vfs\"\n"));
  auto by_conf = ctr({"info", "--format", format}, {"XDG_CONFIG_HOME=" + config});
  EXPECT_EQ(trim(by_conf.out), "vfs / set by " + config + "/ctr/storage.conf") << by_conf.describe();
  auto bad = ctr({"info", "--format", format}, {"CTR_STORAGE_DRIVER=zfs"});
  EXPECT_NE(bad.out.find("CTR_STORAGE_DRIVER: unknown storage driver `zfs`"), std::string::npos) << bad.describe();
  auto bad_flag = ctr({"--storage-driver", "zfs", "info"});
  EXPECT_EQ(bad_flag.code, 125) << bad_flag.describe();
  EXPECT_NE(bad_flag.err.find("--storage-driver"), std::string::npos) << bad_flag.describe();
}

TEST_F(CtrRootfs, UnusableOverrideIsAClearError) {
  auto maps = userns::store_maps();
  ASSERT_TRUE(maps) << maps.error().message;
  // Without fuse-overlayfs in PATH, the override cannot be honoured.
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir_->path() + "/empty-bin").c_str(), 1);
  auto chosen = image::choose_driver(*store_, *maps, "fuse-overlayfs");
  ::setenv("PATH", old_path.c_str(), 1);
  ASSERT_FALSE(chosen);
  EXPECT_NE(chosen.error().message.find("storage driver fuse-overlayfs (set by --storage-driver) cannot be used: "
                                        "fuse-overlayfs is not installed"),
            std::string::npos)
      << chosen.error().message;
  // The same through ctr info, which says why instead of picking another driver.
  auto info = ctr({"info", "--format", "{{.store.graphDriverReason}}"},
                  {"PATH=" + dir_->path() + "/empty-bin:/usr/bin:/bin", "CTR_STORAGE_DRIVER=fuse-overlayfs"});
  image::DriverProbe probe;
  image::probe_fuse_overlayfs(probe);
  if (probe.fuse_overlayfs) {
    EXPECT_EQ(trim(info.out), "set by CTR_STORAGE_DRIVER") << info.describe();
  } else {
    EXPECT_NE(info.out.find("cannot be used: " + probe.fuse_error), std::string::npos) << info.describe();
  }
}

TEST_F(CtrRootfs, InfoShowsTheDriverTheLibraryChooses) {
  auto maps = userns::store_maps();
  ASSERT_TRUE(maps) << maps.error().message;
  auto chosen = image::choose_driver(*store_, *maps, "");
  ASSERT_TRUE(chosen) << chosen.error().message;
  auto info = ctr({"info", "--format", "json"}, {"CTR_STORAGE_DRIVER="});
  ASSERT_EQ(info.code, 0) << info.describe();
  EXPECT_NE(info.out.find("\"graphDriverName\": \"" + std::string(image::driver_name(chosen->driver)) + "\""),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("\"graphDriverReason\": \"" + chosen->reason + "\""), std::string::npos) << info.out;
  for (const char* name : {"overlay", "fuse-overlayfs", "vfs"})
    EXPECT_NE(info.out.find(std::string("\"name\": \"") + name + "\""), std::string::npos) << name;
  // The probe's answer is cached in the store for this kernel.
  EXPECT_TRUE(path_exists(root_ + "/driver-probe.json"));
  auto yaml = ctr({"info"});
  EXPECT_NE(yaml.out.find("graphDriverName: " + std::string(image::driver_name(chosen->driver))), std::string::npos)
      << yaml.out;
}

}  // namespace
}  // namespace ctr::itest
