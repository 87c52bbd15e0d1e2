// `ctr save` writes back the layer tars an image was loaded or imported
// from, byte for byte (tar layouts, image/tar_layout.h), so the saved
// diffIDs, config and image ID are the loaded ones, and loading the saved
// archive into a fresh store gives the same image ID (podman keeps IDs the
// same way, with containers/storage's tar-split). Run as the unprivileged
// user against fresh stores, on archives made at test time with GNU tar
// (GNU long names, pax headers, owners, setuid, hard links, whiteouts).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

using nlohmann::json;

using Ran = CommandOutput;

class CtrSaveRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
    if (::access(ctr_binary().c_str(), X_OK) != 0) FAIL() << "CTR_BIN=" << ctr_binary() << " is not an executable";
    auto dir = TempDir::create("ctr-save-roundtrip-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
  }
  void TearDown() override {
    for (const auto& root : roots_) (void)run_command({ctr_binary(), "--root", root, "unshare", "rm", "-rf", root});
  }

  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }
  Ran ctr(const std::string& store, std::vector<std::string> args) {
    std::string root = path(store);
    if (std::find(roots_.begin(), roots_.end(), root) == roots_.end()) roots_.push_back(root);
    std::vector<std::string> argv{ctr_binary(), "--root", root};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
  Ran sh(const std::string& script) {
    return run_command({"/bin/sh", "-c", "set -eu; W=" + shell_quote(dir_->path()) + "; cd \"$W\"; " + script});
  }
  json inspect(const std::string& store, const std::string& image) {
    auto out = ctr(store, {"image", "inspect", image});
    EXPECT_EQ(out.code, 0) << out.describe();
    auto parsed = json::parse(out.out, nullptr, false);
    return parsed.is_array() && parsed.size() == 1 ? parsed[0] : json::object();
  }

  // Saves `image` from `store` in both formats; each archive's layer tars
  // must hash to the loaded diffIDs, its config must be named by the image
  // ID, and loading it into a fresh store must give the same image ID.
  void expect_save_keeps_id(const std::string& store, const std::string& image) {
    json before = inspect(store, image);
    std::string id = before.value("Id", "");
    ASSERT_EQ(id.size(), 64u) << before.dump();
    auto diff_ids = before["RootFS"]["Layers"];
    for (std::string format : {"docker-archive", "oci-archive"}) {
      SCOPED_TRACE(format);
      std::string archive = path(store + "-" + format + ".tar");
      auto saved = ctr(store, {"save", "-q", "--format", format, "-o", archive, image});
      ASSERT_EQ(saved.code, 0) << saved.describe();
      std::string out = archive + ".d";
      ASSERT_EQ(
          sh("mkdir " + shell_quote(out) + " && tar -C " + shell_quote(out) + " -xf " + shell_quote(archive)).code, 0);
      bool oci = format == "oci-archive";
      for (const auto& diff_id : diff_ids) {
        std::string hex = diff_id.get<std::string>().substr(7);
        std::string member = out + (oci ? "/blobs/sha256/" + hex : "/" + hex + "/layer.tar");
        auto sum = sh("sha256sum " + shell_quote(member));
        EXPECT_EQ(sum.code, 0) << "no layer tar named by the loaded diffID " << diff_id << "\n" << sum.describe();
        EXPECT_EQ(sum.out.substr(0, 64), hex) << member;
      }
      std::string config = out + (oci ? "/blobs/sha256/" + id : "/" + id + ".json");
      EXPECT_TRUE(path_exists(config)) << "the config is not saved under the image ID " << id;
      std::string fresh = "fresh-" + store + "-" + format;
      auto load = ctr(fresh, {"load", "-q", "-i", archive});
      ASSERT_EQ(load.code, 0) << load.describe();
      EXPECT_EQ(inspect(fresh, image).value("Id", ""), id) << "the image ID changed in a save/load round trip";
    }
  }

  std::optional<TempDir> dir_;
  std::vector<std::string> roots_;
};

// Two layers made by GNU tar, as `docker save` lays them out: a GNU-format
// base with a long name, owners, a 0640 file of another group, setuid and
// a hard link; a pax-format upper layer with a long path and whiteouts.
TEST_F(CtrSaveRoundTrip, LoadedDockerArchiveKeepsItsIdThroughSave) {
  std::string long_dir = std::string(60, 'd') + "/" + std::string(60, 'e');
  auto made = sh(R"SH(
LONG=)SH" + shell_quote(long_dir) +
                 R"SH(
mkdir -p l1/etc l1/bin "l1/$LONG" l2/etc l2/opt l2/"$LONG" out/l1 out/l2
echo keep > l1/etc/keep; echo gone > l1/etc/gone; printf 'root:*:19000::::::\n' > l1/etc/shadow
chmod 0640 l1/etc/shadow; printf '#!/bin/sh\n' > l1/bin/suid; chmod 4755 l1/bin/suid
ln l1/bin/suid l1/bin/hard; ln -s keep l1/etc/link; head -c 300000 /dev/urandom > "l1/$LONG/data"
tar -C l1 --format=gnu --owner=0 --group=0 --numeric-owner -cf out/l1/layer.tar etc/keep etc/gone etc/link bin "$LONG"
tar -C l1 --format=gnu --owner=0 --group=42 --numeric-owner -rf out/l1/layer.tar etc/shadow
touch l2/etc/.wh.gone l2/opt/.wh..wh..opq; echo new > l2/opt/new; echo deeper > "l2/$LONG/pax-file"
tar -C l2 --format=pax --owner=1000 --group=1000 --numeric-owner -cf out/l2/layer.tar etc opt "$LONG/pax-file"
d1=$(sha256sum out/l1/layer.tar | cut -d' ' -f1); d2=$(sha256sum out/l2/layer.tar | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' "$d1" "$d2" > config.json
c=$(sha256sum config.json | cut -d' ' -f1); mv config.json out/$c.json
printf '[{"Config":"%s.json","RepoTags":["localhost/crafted:v1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]' "$c" > out/manifest.json
tar -C out -cf crafted.tar manifest.json $c.json l1 l2
echo $c
)SH");
  ASSERT_EQ(made.code, 0) << made.describe();
  std::string config_hex(trim(made.out));
  auto load = ctr("store", {"load", "-q", "-i", path("crafted.tar")});
  ASSERT_EQ(load.code, 0) << load.describe();
  EXPECT_EQ(inspect("store", "localhost/crafted:v1").value("Id", ""), config_hex);
  expect_save_keeps_id("store", "localhost/crafted:v1");
}

// `ctr import` of a gzip'd rootfs tarball: save writes the decompressed
// tarball back, and the image ID survives a round trip.
TEST_F(CtrSaveRoundTrip, ImportedImageKeepsItsIdThroughSave) {
  if (busybox_rootfs().empty()) FAIL() << "no busybox fixture: " << fixture_error();
  auto made = sh("tar -C " + shell_quote(busybox_rootfs()) + " --exclude=./.complete -czf rootfs.tar.gz .");
  ASSERT_EQ(made.code, 0) << made.describe();
  auto imported = ctr("store", {"import", path("rootfs.tar.gz"), "localhost/imported:1"});
  ASSERT_EQ(imported.code, 0) << imported.describe();
  expect_save_keeps_id("store", "localhost/imported:1");
}

// A layer changed after the load (here with `ctr unshare`) is not written
// back under its old diffID: save fails, naming the image, layer and fix.
TEST_F(CtrSaveRoundTrip, SaveRefusesALayerChangedWithUnshare) {
  auto made =
      sh("mkdir -p l/etc && echo one > l/etc/file && tar -C l -cf layer.tar etc && "
         "tar -C l -czf rootfs.tar.gz etc");
  ASSERT_EQ(made.code, 0) << made.describe();
  ASSERT_EQ(ctr("store", {"import", path("rootfs.tar.gz"), "localhost/changed:1"}).code, 0);
  json object = inspect("store", "localhost/changed:1");
  std::string upper = object["GraphDriver"]["Data"]["UpperDir"].get<std::string>();
  auto changed = ctr("store", {"unshare", "sh", "-c", "echo two > " + shell_quote(upper + "/etc/file")});
  ASSERT_EQ(changed.code, 0) << changed.describe();
  auto saved = ctr("store", {"save", "-q", "-o", path("changed.tar"), "localhost/changed:1"});
  EXPECT_NE(saved.code, 0) << saved.describe();
  EXPECT_NE(saved.err.find("localhost/changed:1"), std::string::npos) << saved.err;
  EXPECT_NE(saved.err.find(object["RootFS"]["Layers"][0].get<std::string>()), std::string::npos) << saved.err;
  EXPECT_NE(saved.err.find("changed after it was loaded"), std::string::npos) << saved.err;
  EXPECT_FALSE(path_exists(path("changed.tar")));
}

}  // namespace
}  // namespace ctr::itest
