// load_archive / import_rootfs on archives built in memory; no privileges
// (as an ordinary user with subordinate IDs the unpack runs in a real userns).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "image/archive.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store.h"
#include "image/tar_layout.h"
#include "runtime/base/files.h"
#include "tests/unit/tar_builder.h"
#include "userns/run_in_userns.h"

using namespace ctr;
using namespace ctr::image;
using namespace ctr::test_tar;
using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string config_for(const std::vector<std::string>& layer_tars, const std::string& extra = "") {
  json diff_ids = json::array();
  for (const auto& t : layer_tars) diff_ids.push_back(sha256_digest(t));
  return json{{"architecture", "amd64"},
              {"os", "linux"},
              {"created", "2024-01-02T03:04:05Z"},
              {"config", {{"Cmd", {"/bin/sh"}}, {"Labels", {{"x", extra}}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
      .dump();
}

// docker save layout: manifest.json, <config>.json, <n>/layer.tar.
std::string docker_archive(const std::vector<std::string>& layers, const std::vector<std::string>& tags,
                           const std::string& config, bool drop_last_layer = false) {
  std::vector<TarEntry> entries;
  json layer_names = json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string name = "layer" + std::to_string(i) + "/layer.tar";
    layer_names.push_back(name);
    if (!(drop_last_layer && i + 1 == layers.size())) entries.push_back(file_entry(name, layers[i]));
  }
  std::string config_name = digest_hex(sha256_digest(config)) + ".json";
  entries.push_back(file_entry(config_name, config));
  json manifest = json::array({{{"Config", config_name}, {"RepoTags", tags}, {"Layers", layer_names}}});
  entries.push_back(file_entry("manifest.json", manifest.dump()));
  return build_tar(entries);
}

std::string oci_archive(const std::string& layer, const std::string& layer_type, const std::string& ref) {
  std::string config = config_for({build_tar({file_entry("hello", "world")})});
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", sha256_digest(config)},
                     {"size", config.size()}}},
                   {"layers", {{{"mediaType", layer_type}, {"digest", sha256_digest(layer)}, {"size", layer.size()}}}}};
  std::string manifest_text = manifest.dump();
  json index = {{"schemaVersion", 2},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", sha256_digest(manifest_text)},
                   {"size", manifest_text.size()},
                   {"annotations", {{"org.opencontainers.image.ref.name", ref}}}}}}};
  auto blob = [](const std::string& data) { return file_entry("blobs/sha256/" + digest_hex(sha256_digest(data)), data); };
  return build_tar({file_entry("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"), file_entry("index.json", index.dump()),
                    dir_entry("blobs"), dir_entry("blobs/sha256"), blob(config), blob(manifest_text), blob(layer)});
}

class ImageArchive : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-archive-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    auto store = Store::open(tmp_->path() + "/store");
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
  }

  // Layers hold files of subordinate owners: remove them where those are ours.
  void TearDown() override {
    auto maps = userns::store_maps();
    if (maps && tmp_) (void)userns::run_in_userns(*maps, [&] { return remove_tree(tmp_->path() + "/store"); });
  }

  std::string write(const std::string& name, const std::string& data) {
    std::string path = tmp_->path() + "/" + name;
    EXPECT_TRUE(write_file_atomic(path, data));
    return path;
  }

  Result<std::vector<ImageRecord>> load(const std::string& name, const std::string& data) {
    return load_archive(*store_, write(name, data), LoadOptions{});
  }

  size_t count(const std::string& sub) {
    size_t n = 0;
    if (!fs::exists(store_->root() + "/" + sub)) return 0;
    for (const auto& e : fs::directory_iterator(store_->root() + "/" + sub)) n += e.path().filename() != "" ? 1 : 0;
    return n;
  }

  void expect_store_empty() {
    EXPECT_EQ(count("layers"), 0u);
    EXPECT_EQ(count("staging"), 0u);
    auto images = store_->list_images();
    ASSERT_TRUE(images);
    EXPECT_TRUE(images->empty());
  }

  std::optional<TempDir> tmp_;
  std::optional<Store> store_;
};

const std::string kBase = build_tar({dir_entry("bin"), file_entry("bin/sh", "#!", 0755), dir_entry("etc"),
                                     file_entry("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                                     file_entry("etc/gone", "bye"), dir_entry("opt"), file_entry("opt/a", "a")});
const std::string kUpper = build_tar({dir_entry("etc"), file_entry("etc/.wh.gone", ""), dir_entry("opt"),
                                      file_entry("opt/.wh..wh..opq", ""), file_entry("opt/b", "b")},
                                     Compression::gzip);

TEST_F(ImageArchive, LoadsTwoLayerDockerArchive) {
  std::string upper_plain = build_tar({dir_entry("etc"), file_entry("etc/.wh.gone", ""), dir_entry("opt"),
                                       file_entry("opt/.wh..wh..opq", ""), file_entry("opt/b", "b")});
  std::string config = config_for({kBase, upper_plain});
  auto images = load("docker.tar", docker_archive({kBase, kUpper}, {"busybox:latest"}, config));
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 1u);
  const auto& image = (*images)[0];
  EXPECT_EQ(image.id, sha256_digest(config));
  // Short RepoTags are Docker Hub names, as docker and podman read them.
  EXPECT_EQ(image.names, std::vector<std::string>{"docker.io/library/busybox:latest"});
  ASSERT_EQ(image.layer_chain_ids.size(), 2u);
  EXPECT_EQ(image.created, 1704164645);
  std::string base_dir = store_->layer_diff_dir(image.layer_chain_ids[0]);
  std::string upper_dir = store_->layer_diff_dir(image.layer_chain_ids[1]);
  EXPECT_EQ(*read_file(base_dir + "/etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  struct stat st{};
  ASSERT_EQ(::lstat((upper_dir + "/etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char value[4] = {};
  EXPECT_EQ(::getxattr((upper_dir + "/opt").c_str(), "user.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(*read_file(upper_dir + "/opt/b"), "b");
  EXPECT_TRUE(store_->has_blob(image.config_digest));
  EXPECT_TRUE(store_->has_blob(image.manifest_digest));
  auto found = store_->find_image("busybox");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->id, image.id);
  EXPECT_EQ(count("staging"), 0u);
}

TEST_F(ImageArchive, SameBaseTwiceSharesTheLayer) {
  auto first = load("a.tar", docker_archive({kBase}, {"a:1"}, config_for({kBase}, "a")));
  ASSERT_TRUE(first) << first.error().message;
  std::string other = build_tar({file_entry("other", "1")});
  auto second = load("b.tar", docker_archive({kBase, other}, {"b:1"}, config_for({kBase, other}, "b")));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ((*first)[0].layer_chain_ids[0], (*second)[0].layer_chain_ids[0]);
  EXPECT_EQ(count("layers"), 2u);
  EXPECT_EQ(store_->list_images()->size(), 2u);
}

TEST_F(ImageArchive, SeveralImagesInOneDockerArchive) {
  std::string l1 = build_tar({file_entry("one", "1")});
  std::string l2 = build_tar({file_entry("two", "2")});
  std::string c1 = config_for({l1}), c2 = config_for({l2});
  json manifest = json::array({{{"Config", "c1.json"}, {"RepoTags", {"one:latest"}}, {"Layers", {"l1.tar"}}},
                               {{"Config", "c2.json"}, {"RepoTags", {"two:latest"}}, {"Layers", {"l2.tar"}}}});
  auto images = load("multi.tar", build_tar({file_entry("l1.tar", l1), file_entry("l2.tar", l2),
                                             file_entry("c1.json", c1), file_entry("c2.json", c2),
                                             file_entry("manifest.json", manifest.dump())}));
  ASSERT_TRUE(images) << images.error().message;
  EXPECT_EQ(images->size(), 2u);
}

TEST_F(ImageArchive, RefusesMissingLayerFile) {
  auto images = load("missing.tar", docker_archive({kBase, kUpper}, {"x:1"}, config_for({kBase, kBase}), true));
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("missing.tar"));
  EXPECT_THAT(images.error().message, HasSubstr("layer1/layer.tar"));
  expect_store_empty();
}

TEST_F(ImageArchive, RefusesDiffIdMismatchAndLeavesNothing) {
  std::string bad_config = config_for({kBase, build_tar({file_entry("not", "this")})});
  auto images = load("bad.tar", docker_archive({kBase, kUpper}, {"x:1"}, bad_config));
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("diffID mismatch"));
  EXPECT_THAT(images.error().message, HasSubstr("bad.tar"));
  expect_store_empty();
}

TEST_F(ImageArchive, RefusesMaliciousLayerAndLeavesNothing) {
  std::string evil = build_tar({symlink_entry("evil", "/"), file_entry("evil/tmp/pwned", "x")});
  auto images = load("evil.tar", docker_archive({evil}, {"x:1"}, config_for({evil})));
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("evil.tar"));
  EXPECT_THAT(images.error().message, HasSubstr("entry `evil/tmp/pwned`"));
  EXPECT_FALSE(path_exists("/tmp/pwned"));
  expect_store_empty();
}

TEST_F(ImageArchive, LoadsOciArchiveWithRefName) {
  std::string layer = build_tar({file_entry("hello", "world")});
  std::string gz = build_tar({file_entry("hello", "world")}, Compression::gzip);
  auto images = load("oci.tar", oci_archive(gz, "application/vnd.oci.image.layer.v1.tar+gzip", "localhost/app:v2"));
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].names, std::vector<std::string>{"localhost/app:v2"});
  EXPECT_EQ((*images)[0].diff_ids[0], sha256_digest(layer));
  EXPECT_EQ(*read_file(store_->layer_diff_dir((*images)[0].layer_chain_ids[0]) + "/hello"), "world");
}

TEST_F(ImageArchive, RefusesUnknownMediaType) {
  std::string layer = build_tar({file_entry("hello", "world")});
  auto images = load("odd.tar", oci_archive(layer, "application/x-strange", "x:1"));
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("odd.tar"));
  EXPECT_THAT(images.error().message, HasSubstr("application/x-strange"));
  EXPECT_THAT(images.error().message, HasSubstr(sha256_digest(layer)));
  expect_store_empty();
}

TEST_F(ImageArchive, RefusesEmptyFile) {
  auto images = load("empty.tar", "");
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("empty.tar"));
  EXPECT_THAT(images.error().message, HasSubstr("empty"));
}

TEST_F(ImageArchive, RefusesNonImageTar) {
  auto images = load("plain.tar", build_tar({file_entry("README", "hi")}));
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("plain.tar"));
  EXPECT_THAT(images.error().message, HasSubstr("not an image archive"));
}

TEST_F(ImageArchive, RefusesNonTarFile) {
  auto images = load("text.tar", std::string(2000, 'x'));
  ASSERT_FALSE(images);
  EXPECT_THAT(images.error().message, HasSubstr("text.tar"));
}

TEST_F(ImageArchive, ImportsRootfsWithChanges) {
  std::string rootfs = build_tar({dir_entry("bin"), file_entry("bin/sh", "#!", 0755)}, Compression::zstd);
  ImportOptions options;
  options.name = "myroot:1";
  options.changes = {"CMD [\"/bin/sh\",\"-l\"]", "ENTRYPOINT echo hi", "ENV A=b", "WORKDIR /srv", "USER 1000",
                     "LABEL k=v", "EXPOSE 80"};
  auto image = import_rootfs(*store_, write("rootfs.tar.zst", rootfs), options);
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->names, std::vector<std::string>{parse_reference("myroot:1")->full()});
  auto config_text = store_->read_blob(image->config_digest);
  ASSERT_TRUE(config_text);
  json config = json::parse(*config_text);
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["config"]["Cmd"], json::array({"/bin/sh", "-l"}));
  EXPECT_EQ(config["config"]["Entrypoint"], json::array({"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(config["config"]["Env"], json::array({"A=b"}));
  EXPECT_EQ(config["config"]["WorkingDir"], "/srv");
  EXPECT_EQ(config["config"]["User"], "1000");
  EXPECT_EQ(config["config"]["Labels"]["k"], "v");
  EXPECT_TRUE(config["config"]["ExposedPorts"].contains("80/tcp"));
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], image->diff_ids[0]);
  EXPECT_TRUE(path_exists(store_->layer_diff_dir(image->layer_chain_ids[0]) + "/bin/sh"));
  EXPECT_EQ(count("staging"), 0u);
}

TEST_F(ImageArchive, ImportRefusesBadChange) {
  ImportOptions options;
  options.changes = {"FROB x"};
  auto image = import_rootfs(*store_, write("r.tar", build_tar({file_entry("a", "b")})), options);
  ASSERT_FALSE(image);
  EXPECT_THAT(image.error().message, HasSubstr("FROB"));
}

// The members of a tar file, by name.
std::map<std::string, std::string> tar_members(const std::string& path) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 65536) == ARCHIVE_OK) {
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      std::string& data = out[archive_entry_pathname(e)];
      char buffer[65536];
      la_ssize_t n;
      while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
    }
  }
  archive_read_free(a);
  return out;
}

// Layers loaded from an archive are saved as the very tars they came from:
// the same diffIDs, the config untouched, the same image ID; loading the
// saved archive into another store gives that ID again.
TEST_F(ImageArchive, SaveWritesTheLoadedLayerTarsAndKeepsTheImageId) {
  std::string upper_plain = build_tar({dir_entry("etc"), file_entry("etc/.wh.gone", ""), dir_entry("opt"),
                                       file_entry("opt/.wh..wh..opq", ""), file_entry("opt/b", "b")});
  std::string config = config_for({kBase, upper_plain});
  auto images = load("docker.tar", docker_archive({kBase, kUpper}, {"busybox:latest"}, config));
  ASSERT_TRUE(images) << images.error().message;
  std::string id = (*images)[0].id;
  ASSERT_EQ(id, sha256_digest(config));
  for (const auto& chain : (*images)[0].layer_chain_ids)
    EXPECT_TRUE(path_exists(store_->layer_dir(chain) + "/" + kTarLayoutFile));
  for (auto format : {ArchiveFormat::docker_archive, ArchiveFormat::oci_archive}) {
    std::string out = tmp_->path() + (format == ArchiveFormat::oci_archive ? "/saved-oci.tar" : "/saved-docker.tar");
    Status saved = save_images(*store_, {"busybox"}, out, format, {});
    ASSERT_TRUE(saved) << saved.error().message;
    auto members = tar_members(out);
    bool oci = format == ArchiveFormat::oci_archive;
    auto blob = [&](const std::string& data, const char* docker_suffix) {
      return oci ? "blobs/sha256/" + digest_hex(sha256_digest(data)) : digest_hex(sha256_digest(data)) + docker_suffix;
    };
    EXPECT_EQ(members[blob(config, ".json")], config) << "config not saved untouched";
    EXPECT_TRUE(members[blob(kBase, "/layer.tar")] == kBase) << "base layer tar differs from the loaded one";
    EXPECT_TRUE(members[blob(upper_plain, "/layer.tar")] == upper_plain) << "upper layer tar differs";

    auto other = Store::open(tmp_->path() + (oci ? "/store-oci" : "/store-docker"));
    ASSERT_TRUE(other);
    auto again = load_archive(*other, out, LoadOptions{});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ((*again)[0].id, id);
    auto maps = userns::store_maps();
    if (maps) (void)userns::run_in_userns(*maps, [&] { return remove_tree(other->root()); });
  }
}

TEST_F(ImageArchive, SaveWithoutLayoutRegeneratesTheLayer) {
  auto images = load("docker.tar", docker_archive({kBase}, {"busybox:latest"}, config_for({kBase})));
  ASSERT_TRUE(images) << images.error().message;
  std::string layer_dir = store_->layer_dir((*images)[0].layer_chain_ids[0]);
  ASSERT_EQ(::unlink((layer_dir + "/" + kTarLayoutFile).c_str()), 0);  // as in a store from before layouts
  std::string out = tmp_->path() + "/saved.tar";
  Status saved = save_images(*store_, {"busybox"}, out, ArchiveFormat::docker_archive, {});
  ASSERT_TRUE(saved) << saved.error().message;
  auto other = Store::open(tmp_->path() + "/store2");
  ASSERT_TRUE(other);
  auto again = load_archive(*other, out, LoadOptions{});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(path_exists(other->layer_diff_dir((*again)[0].layer_chain_ids[0]) + "/etc/passwd"));
  auto maps = userns::store_maps();
  if (maps) (void)userns::run_in_userns(*maps, [&] { return remove_tree(other->root()); });
}

// A layer changed after the load (as with `ctr unshare`) cannot be written
// back as its original tar: save refuses, naming the image, layer and fix.
TEST_F(ImageArchive, SaveRefusesALayerChangedSinceTheLoad) {
  auto images = load("docker.tar", docker_archive({kBase}, {"busybox:latest"}, config_for({kBase})));
  ASSERT_TRUE(images) << images.error().message;
  std::string diff = store_->layer_diff_dir((*images)[0].layer_chain_ids[0]);
  auto maps = userns::store_maps();
  ASSERT_TRUE(maps) << maps.error().message;
  // Another size, then the same size with other bytes.
  for (const char* content : {"root:x:0:0::/root:/bin/bash\n", "ROOT:x:0:0::/root:/bin/sh\n"}) {
    Status changed = userns::run_in_userns(*maps, [&] { return write_file_atomic(diff + "/etc/passwd", content); });
    ASSERT_TRUE(changed) << changed.error().message;
    std::string out = tmp_->path() + "/saved.tar";
    Status saved = save_images(*store_, {"busybox"}, out, ArchiveFormat::oci_archive, {});
    ASSERT_FALSE(saved);
    EXPECT_THAT(saved.error().message, HasSubstr("busybox:latest"));
    EXPECT_THAT(saved.error().message, HasSubstr("layer " + sha256_digest(kBase)));
    EXPECT_THAT(saved.error().message, HasSubstr("changed after it was loaded"));
    EXPECT_THAT(saved.error().message, HasSubstr("ctr rmi"));
    EXPECT_FALSE(path_exists(out));
  }
}

TEST_F(ImageArchive, SaveOfAnImportKeepsTheTarballAndTheId) {
  std::vector<TarEntry> entries{dir_entry("bin"), file_entry("bin/sh", "#!", 0755),
                                 file_entry("big", std::string(100000, 'z'))};
  std::string rootfs = build_tar(entries);
  std::string compressed = build_tar(entries, Compression::gzip);
  ImportOptions options;
  options.name = "imported:1";
  auto image = import_rootfs(*store_, write("rootfs.tar.gz", compressed), options);
  ASSERT_TRUE(image) << image.error().message;
  ASSERT_EQ(image->diff_ids[0], sha256_digest(rootfs));
  std::string out = tmp_->path() + "/saved.tar";
  Status saved = save_images(*store_, {"imported:1"}, out, ArchiveFormat::oci_archive, {});
  ASSERT_TRUE(saved) << saved.error().message;
  auto members = tar_members(out);
  EXPECT_TRUE(members["blobs/sha256/" + digest_hex(sha256_digest(rootfs))] == rootfs);
  auto other = Store::open(tmp_->path() + "/store2");
  ASSERT_TRUE(other);
  auto again = load_archive(*other, out, LoadOptions{});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)[0].id, image->id);
  auto maps = userns::store_maps();
  if (maps) (void)userns::run_in_userns(*maps, [&] { return remove_tree(other->root()); });
}

}  // namespace
