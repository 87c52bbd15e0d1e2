#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "image/digest.h"
#include "image/store.h"
#include "runtime/base/files.h"

using namespace ctr;
using namespace ctr::image;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

namespace {

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

uint64_t apparent_size(const std::string& path) {
  uint64_t total = 0;
  if (!std::filesystem::is_directory(path)) return std::filesystem::file_size(path);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
    if (!entry.is_directory()) total += entry.file_size();
  return total;
}

class ImageStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-store-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    tmp_.emplace(std::move(*dir));
    root_ = tmp_->path() + "/store";
    auto store = Store::open(root_);
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
  }

  Store& store() { return *store_; }

  // Stages a layer holding one file and commits it; returns its chain ID.
  std::string add_layer(const std::string& parent, const std::string& content) {
    std::string diff_id = sha256_digest("diff:" + content);
    std::string chain = chain_id(parent, diff_id);
    auto staged = store().make_staging_dir("layer");
    EXPECT_TRUE(staged) << staged.error().message;
    EXPECT_TRUE(mkdir_p(*staged + "/diff"));
    EXPECT_TRUE(write_file_atomic(*staged + "/diff/file", content));
    LayerRecord record{chain, diff_id, parent, "", content.size()};
    auto committed = store().commit_layer(*staged, record);
    EXPECT_TRUE(committed) << committed.error().message;
    return chain;
  }

  // An image whose config is `config` over the given layers.
  ImageRecord make_image(const std::string& config, std::vector<std::string> chains, std::vector<std::string> names) {
    ImageRecord image;
    auto config_digest = store().put_blob(config);
    EXPECT_TRUE(config_digest);
    auto manifest_digest = store().put_blob("{\"manifest for\":" + config + "}");
    EXPECT_TRUE(manifest_digest);
    image.id = *config_digest;
    image.config_digest = *config_digest;
    image.manifest_digest = *manifest_digest;
    image.layer_chain_ids = std::move(chains);
    image.names = std::move(names);
    return image;
  }

  void put(const ImageRecord& image) {
    auto status = store().put_image(image);
    ASSERT_TRUE(status) << status.error().message;
  }

  std::string find_error(const std::string& text) {
    auto found = store().find_image(text);
    EXPECT_FALSE(found) << text << " found " << (found ? found->id : "");
    return found ? "" : found.error().message;
  }

  std::string find_id(const std::string& text) {
    auto found = store().find_image(text);
    EXPECT_TRUE(found) << text << ": " << (found ? "" : found.error().message);
    return found ? found->id : "";
  }

  std::optional<TempDir> tmp_;
  std::string root_;
  std::optional<Store> store_;
};

}  // namespace

TEST_F(ImageStore, OpenCreatesPrivateLayout) {
  struct stat st;
  ASSERT_EQ(::stat(root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  for (const char* sub : {"/blobs/sha256", "/layers", "/staging", "/containers"})
    EXPECT_TRUE(std::filesystem::is_directory(root_ + sub)) << sub;
  EXPECT_EQ(store().root(), root_);
  auto images = store().list_images();
  ASSERT_TRUE(images);
  EXPECT_THAT(*images, IsEmpty());
}

TEST_F(ImageStore, PutAndReadBlobVerified) {
  auto digest = store().put_blob("hello", sha256_digest("hello"));
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, sha256_digest("hello"));
  EXPECT_TRUE(store().has_blob(*digest));
  EXPECT_EQ(store().blob_path(*digest), root_ + "/blobs/sha256/" + digest_hex(*digest));
  auto data = store().read_blob(*digest);
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(*data, "hello");
  // Storing it again is a no-op.
  EXPECT_TRUE(store().put_blob("hello"));
  EXPECT_THAT(entries(root_ + "/blobs/sha256"), ElementsAre(digest_hex(*digest)));
  EXPECT_THAT(entries(root_ + "/staging"), IsEmpty());

  auto missing = store().read_blob(sha256_digest("absent"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(ImageStore, BlobMismatchIsRefusedAndLeavesNothing) {
  auto wrong = store().put_blob("hello", sha256_digest("other"));
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message, HasSubstr("does not match"));
  EXPECT_FALSE(store().put_blob("hello", "sha256:nothex"));

  std::string staged = root_ + "/staging/staged-blob";
  ASSERT_TRUE(write_file_atomic(staged, "payload"));
  auto refused = store().commit_blob_file(staged, sha256_digest("not the payload"));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("does not match"));
  EXPECT_THAT(entries(root_ + "/blobs/sha256"), IsEmpty());
  EXPECT_THAT(entries(root_ + "/staging"), IsEmpty());

  // A file outside staging/ is refused and left alone.
  std::string outside = tmp_->path() + "/outside";
  ASSERT_TRUE(write_file_atomic(outside, "payload"));
  EXPECT_FALSE(store().commit_blob_file(outside, sha256_digest("payload")));
  EXPECT_FALSE(store().commit_blob_file(root_ + "/staging/../../outside", sha256_digest("payload")));
  EXPECT_TRUE(path_exists(outside));

  ASSERT_TRUE(write_file_atomic(staged, "payload"));
  auto committed = store().commit_blob_file(staged, sha256_digest("payload"));
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_TRUE(store().has_blob(sha256_digest("payload")));
  EXPECT_THAT(entries(root_ + "/staging"), IsEmpty());
}

TEST_F(ImageStore, CorruptBlobIsReportedOnRead) {
  auto digest = store().put_blob("config");
  ASSERT_TRUE(digest);
  ASSERT_TRUE(write_file_atomic(store().blob_path(*digest), "tampered"));
  auto data = store().read_blob(*digest);
  ASSERT_FALSE(data);
  EXPECT_THAT(data.error().message, HasSubstr("corrupt"));
}

TEST_F(ImageStore, CommitLayerTwiceSharesOneCopy) {
  std::string chain = add_layer("", "base content");
  EXPECT_TRUE(store().has_layer(chain));
  EXPECT_EQ(store().layer_dir(chain), root_ + "/layers/" + digest_hex(chain));
  EXPECT_EQ(store().layer_diff_dir(chain), store().layer_dir(chain) + "/diff");
  auto record = store().read_layer(chain);
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->chain_id, chain);
  EXPECT_EQ(record->diff_id, sha256_digest("diff:base content"));
  EXPECT_EQ(record->parent_chain_id, "");
  EXPECT_EQ(record->size, 12u);

  // A second load of the same layer: the staged copy goes, the first stays.
  auto staged = store().make_staging_dir("layer");
  ASSERT_TRUE(staged);
  ASSERT_TRUE(mkdir_p(*staged + "/diff"));
  ASSERT_TRUE(write_file_atomic(*staged + "/diff/file", "second copy"));
  auto status = store().commit_layer(*staged, *record);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_FALSE(path_exists(*staged));
  EXPECT_THAT(entries(root_ + "/layers"), ElementsAre(digest_hex(chain)));
  EXPECT_EQ(*read_file(store().layer_diff_dir(chain) + "/file"), "base content");
  EXPECT_THAT(entries(root_ + "/staging"), IsEmpty());

  std::string top = add_layer(chain, "top content");
  EXPECT_EQ(top, sha256_digest(chain + " " + sha256_digest("diff:top content")));
  EXPECT_EQ(store().read_layer(top)->parent_chain_id, chain);
}

TEST_F(ImageStore, CommitLayerRefusesAMissingParentAndForeignDirs) {
  auto staged = store().make_staging_dir("layer");
  ASSERT_TRUE(staged);
  ASSERT_TRUE(mkdir_p(*staged + "/diff"));
  std::string diff = sha256_digest("x");
  LayerRecord orphan{chain_id(sha256_digest("p"), diff), diff, sha256_digest("p"), "", 0};
  auto status = store().commit_layer(*staged, orphan);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message, HasSubstr("parent layer"));
  EXPECT_FALSE(store().has_layer(orphan.chain_id));

  LayerRecord base{diff, diff, "", "", 0};
  auto outside = store().commit_layer(tmp_->path(), base);
  ASSERT_FALSE(outside);
  EXPECT_THAT(outside.error().message, HasSubstr("staging"));
  EXPECT_FALSE(store().read_layer(diff));
}

TEST_F(ImageStore, ImageIndexAddReplaceAndNameMoves) {
  ImageRecord one = make_image("{\"one\":1}", {}, {"localhost/app:latest", "localhost/app:v1"});
  ImageRecord two = make_image("{\"two\":2}", {}, {"localhost/app:latest"});
  put(one);
  put(two);
  auto images = store().list_images();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 2u);
  EXPECT_THAT((*images)[0].names, ElementsAre("localhost/app:v1"));  // lost :latest to two
  EXPECT_THAT((*images)[1].names, ElementsAre("localhost/app:latest"));

  // Replacing by ID keeps one record.
  two.names = {"localhost/app:latest", "localhost/app:v2"};
  two.created = 1700000000;
  put(two);
  images = store().list_images();
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[1].created, 1700000000);
  EXPECT_THAT((*images)[1].names, ElementsAre("localhost/app:latest", "localhost/app:v2"));

  // An image left without names stays, found by ID.
  put(make_image("{\"three\":3}", {}, {"localhost/app:v1"}));
  images = store().list_images();
  ASSERT_EQ(images->size(), 3u);
  EXPECT_THAT((*images)[0].names, IsEmpty());
  EXPECT_EQ(find_id(one.id), one.id);

  ASSERT_TRUE(store().remove_image(digest_hex(one.id)));
  EXPECT_EQ(store().list_images()->size(), 2u);
  auto again = store().remove_image(one.id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ENOENT);
  EXPECT_FALSE(store().put_image(ImageRecord{}));  // no ID
}

TEST_F(ImageStore, FindImageByNameShortNameIdPrefixAndDigest) {
  ImageRecord busybox = make_image("{\"busybox\":1}", {}, {"localhost/busybox:latest"});
  ImageRecord remote = make_image("{\"alpine\":1}", {}, {"docker.io/library/alpine:3.19"});
  put(busybox);
  put(remote);
  EXPECT_EQ(find_id("localhost/busybox:latest"), busybox.id);
  EXPECT_EQ(find_id("busybox"), busybox.id);
  EXPECT_EQ(find_id("busybox:latest"), busybox.id);
  EXPECT_EQ(find_id("localhost/busybox"), busybox.id);
  EXPECT_EQ(find_id("alpine:3.19"), remote.id);  // short-name search
  EXPECT_EQ(find_id("library/alpine:3.19"), remote.id);
  EXPECT_EQ(find_id("docker.io/library/alpine:3.19"), remote.id);
  EXPECT_EQ(find_id(busybox.id), busybox.id);
  EXPECT_EQ(find_id(digest_hex(busybox.id)), busybox.id);
  EXPECT_EQ(find_id(digest_hex(busybox.id).substr(0, 12)), busybox.id);
  EXPECT_EQ(find_id("busybox@" + busybox.manifest_digest), busybox.id);
  EXPECT_EQ(find_id("docker.io/library/alpine@" + remote.manifest_digest), remote.id);

  EXPECT_THAT(find_error("alpine"), HasSubstr("image \"alpine\" not found in the store (see ctr images)"));
  EXPECT_THAT(find_error("localhost/alpine:3.19"), HasSubstr("not found"));
  EXPECT_THAT(find_error("busybox@" + remote.manifest_digest), HasSubstr("not found"));
  EXPECT_THAT(find_error("BusyBox"), HasSubstr("invalid reference \"BusyBox\": repository name must be lowercase"));
  EXPECT_THAT(find_error("fffffffff"), HasSubstr("not found"));
}

TEST_F(ImageStore, FindImageAmbiguities) {
  // Two IDs with a common prefix: search configs until the IDs share one.
  std::map<std::string, ImageRecord> by_prefix;
  std::string shared;
  for (int i = 0; shared.empty(); ++i) {
    // Records only (no blobs): the index does not need them, and blob writes fsync.
    ImageRecord image;
    image.id = sha256_digest("config " + std::to_string(i));
    std::string prefix = digest_hex(image.id).substr(0, 3);
    if (by_prefix.count(prefix)) {
      put(by_prefix[prefix]);
      put(image);
      shared = prefix;
    } else {
      by_prefix[prefix] = image;
    }
  }
  std::string error = find_error(shared);
  EXPECT_THAT(error, HasSubstr("image ID prefix \"" + shared + "\" is ambiguous: matches "));
  EXPECT_THAT(error, HasSubstr(digest_hex(by_prefix[shared].id).substr(0, 12)));
  EXPECT_THAT(find_error("ab"), HasSubstr("not found"));  // too short for a prefix

  put(make_image("{\"a\":1}", {}, {"quay.io/a/tool:latest"}));
  put(make_image("{\"b\":1}", {}, {"docker.io/b/tool:latest"}));
  EXPECT_THAT(find_error("tool"), HasSubstr("is ambiguous"));
  EXPECT_EQ(find_id("quay.io/a/tool"), store().find_image("quay.io/a/tool:latest")->id);
}

// Podman's order for a short name: localhost/, then docker.io, then any
// repository ending in /NAME (ambiguous there: an error naming them all).
TEST_F(ImageStore, ShortNamesResolveLikePodman) {
  ImageRecord local = make_image("{\"local\":1}", {}, {"localhost/app:1"});
  ImageRecord hub = make_image("{\"hub\":1}", {}, {"docker.io/library/app:1", "docker.io/library/app:2"});
  ImageRecord quay = make_image("{\"quay\":1}", {}, {"quay.io/team/app:2", "quay.io/team/app:3"});
  ImageRecord other = make_image("{\"other\":1}", {}, {"registry.example:5000/ops/app:3", "docker.io/user/tool:1"});
  for (const auto& image : {local, hub, quay, other}) put(image);
  EXPECT_EQ(find_id("app:1"), local.id);  // localhost/ beats docker.io
  EXPECT_EQ(find_id("app:2"), hub.id);    // docker.io beats quay.io
  EXPECT_EQ(find_id("team/app:3"), quay.id);
  EXPECT_EQ(find_id("user/tool:1"), other.id);  // docker.io/user/tool
  EXPECT_EQ(find_id("docker.io/app:1"), hub.id);
  std::string error = find_error("app:3");
  EXPECT_THAT(error, HasSubstr("short name \"app:3\" is ambiguous"));
  EXPECT_THAT(error, HasSubstr("quay.io/team/app:3, registry.example:5000/ops/app:3"));
  EXPECT_THAT(find_error("app"), HasSubstr("not found"));  // no :latest anywhere
  EXPECT_THAT(find_error("localhost/app:2"), HasSubstr("not found"));  // a registry matches only itself
  EXPECT_THAT(find_error("pp:1"), HasSubstr("not found"));  // whole path components only
}

// save and rmi act on the one name a reference resolved to (podman's rule):
// `ctr save app:2` must not also write the image's other names.
TEST_F(ImageStore, ResolveImageReportsTheMatchedName) {
  ImageRecord hub = make_image("{\"hub\":1}", {}, {"docker.io/library/app:1", "localhost/app:2"});
  put(hub);
  auto by_short = store().resolve_image("app:1");
  ASSERT_TRUE(by_short) << by_short.error().message;
  EXPECT_EQ(by_short->name, "docker.io/library/app:1");
  auto by_full = store().resolve_image("localhost/app:2");
  ASSERT_TRUE(by_full) << by_full.error().message;
  EXPECT_EQ(by_full->name, "localhost/app:2");
  auto by_id = store().resolve_image(hub.id.substr(7, 12));
  ASSERT_TRUE(by_id) << by_id.error().message;
  EXPECT_EQ(by_id->name, "");
  EXPECT_EQ(by_id->image.id, hub.id);
}

TEST_F(ImageStore, StagingLeftoversCleanedOnOpenUnlessLockedOrOwned) {
  std::string staging = root_ + "/staging/";
  ASSERT_TRUE(mkdir_p(staging + "junk/diff/deep"));
  ASSERT_TRUE(write_file_atomic(staging + "junk/diff/deep/file", "x"));
  ASSERT_TRUE(mkdir_p(staging + "999999999-layer-abcdef"));  // beyond pid_max: dead
  ASSERT_TRUE(write_file_atomic(root_ + "/images.json.tmp.999999999", "[]"));
  auto ours = store().make_staging_dir("layer");  // this process is alive: kept
  ASSERT_TRUE(ours);

  {
    auto held = store().lock();
    ASSERT_TRUE(held);
    auto reopened = Store::open(root_);
    ASSERT_TRUE(reopened);
    EXPECT_EQ(entries(staging).size(), 3u);  // locked: someone may be staging
  }
  auto reopened = Store::open(root_ + "/");
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened->root(), root_);
  EXPECT_THAT(entries(staging), ElementsAre(std::filesystem::path(*ours).filename()));
  EXPECT_FALSE(path_exists(root_ + "/images.json.tmp.999999999"));
}

TEST_F(ImageStore, GarbageCollectRemovesUnreferencedLayersAndBlobs) {
  std::string base = add_layer("", "shared base layer");
  std::string top_a = add_layer(base, "a's top");
  std::string top_b = add_layer(base, "b's top");
  ImageRecord a = make_image("{\"a\":1}", {base, top_a}, {"localhost/a:latest"});
  ImageRecord b = make_image("{\"b\":1}", {base, top_b}, {"localhost/b:latest"});
  put(a);
  put(b);
  auto stray = store().put_blob("nobody uses this");
  ASSERT_TRUE(stray);

  uint64_t stray_size = apparent_size(store().blob_path(*stray));
  auto freed = store().garbage_collect();
  ASSERT_TRUE(freed) << freed.error().message;
  EXPECT_EQ(*freed, stray_size);
  EXPECT_EQ(entries(root_ + "/layers").size(), 3u);

  uint64_t expected = apparent_size(store().layer_dir(top_b)) + apparent_size(store().blob_path(b.config_digest)) +
                      apparent_size(store().blob_path(b.manifest_digest));
  ASSERT_TRUE(store().remove_image(b.id));
  freed = store().garbage_collect();
  ASSERT_TRUE(freed) << freed.error().message;
  EXPECT_EQ(*freed, expected);
  EXPECT_THAT(entries(root_ + "/layers"), UnorderedElementsAre(digest_hex(base), digest_hex(top_a)));
  EXPECT_THAT(entries(root_ + "/blobs/sha256"),
              UnorderedElementsAre(digest_hex(a.config_digest), digest_hex(a.manifest_digest)));
  EXPECT_THAT(entries(root_ + "/staging"), IsEmpty());
  EXPECT_EQ(find_id("a"), a.id);

  ASSERT_TRUE(store().remove_image(a.id));
  ASSERT_TRUE(store().garbage_collect());
  EXPECT_THAT(entries(root_ + "/layers"), IsEmpty());
  EXPECT_THAT(entries(root_ + "/blobs/sha256"), IsEmpty());
}

TEST_F(ImageStore, ConcurrentPutImageUnderLockLosesNothing) {
  constexpr int kPerProcess = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: no gtest assertions; report through the exit status.
      auto store = Store::open(root_);
      if (!store) ::_exit(2);
      for (int i = 0; i < kPerProcess; ++i) {
        ImageRecord image;
        image.id = sha256_digest("image " + std::to_string(p) + "/" + std::to_string(i));
        image.names = {"localhost/p" + std::to_string(p) + ":" + std::to_string(i)};
        auto held = store->lock();
        if (!held || !store->put_image(image)) ::_exit(3);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  auto images = store().list_images();
  ASSERT_TRUE(images) << images.error().message;
  EXPECT_EQ(images->size(), 2u * kPerProcess);
  EXPECT_EQ(find_id("p1:7"), sha256_digest("image 1/7"));
}

TEST(ImageStoreChainId, MatchesTheOciSpecComputation) {
  // image-spec config.md: ChainID(A) = DiffID(A);
  // ChainID(A|B) = Digest(ChainID(A) + " " + DiffID(B)); likewise for C.
  std::string a = sha256_digest("layer A tar");
  std::string b = sha256_digest("layer B tar");
  std::string c = sha256_digest("layer C tar");
  EXPECT_EQ(chain_id("", a), a);
  std::string ab = sha256_digest(a + " " + b);
  EXPECT_EQ(chain_id(a, b), ab);
  EXPECT_EQ(chain_id(ab, c), sha256_digest(ab + " " + c));
  EXPECT_EQ(chain_id(chain_id(chain_id("", a), b), c), sha256_digest(ab + " " + c));
}

TEST(ImageStoreRoot, DefaultRootFollowsEnvironment) {
  auto saved = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto storage = saved("CTR_STORAGE_ROOT"), xdg = saved("XDG_DATA_HOME"), home = saved("HOME");
  ::setenv("CTR_STORAGE_ROOT", "/custom/root", 1);
  ::setenv("XDG_DATA_HOME", "/xdg/data", 1);
  ::setenv("HOME", "/home/alice", 1);
  EXPECT_EQ(Store::default_root(), "/custom/root");
  ::unsetenv("CTR_STORAGE_ROOT");
  auto uid_map = read_file("/proc/self/uid_map");
  bool initial_ns = uid_map && uid_map->find("4294967295") != std::string::npos;
  if (::geteuid() == 0 && initial_ns) {
    EXPECT_EQ(Store::default_root(), "/var/lib/ctr");
  } else {
    EXPECT_EQ(Store::default_root(), "/xdg/data/ctr");
    ::setenv("XDG_DATA_HOME", "relative/ignored", 1);
    EXPECT_EQ(Store::default_root(), "/home/alice/.local/share/ctr");
    ::unsetenv("XDG_DATA_HOME");
    EXPECT_EQ(Store::default_root(), "/home/alice/.local/share/ctr");
  }
  auto restore = [](const char* name, const std::optional<std::string>& v) {
    if (v)
      ::setenv(name, v->c_str(), 1);
    else
      ::unsetenv(name);
  };
  restore("CTR_STORAGE_ROOT", storage);
  restore("XDG_DATA_HOME", xdg);
  restore("HOME", home);
}

TEST_F(ImageStore, GarbageCollectRemovesReadOnlyDirectoriesWeOwn) {
  // Images ship read-only directories (/proc at 0555, some at 0500): removal
  // must not need the user namespace for directories we own.
  auto staged = store().make_staging_dir("layer");
  ASSERT_TRUE(staged);
  ASSERT_TRUE(mkdir_p(*staged + "/diff/proc/sub"));
  ASSERT_TRUE(write_file_atomic(*staged + "/diff/proc/sub/file", "data"));
  ASSERT_EQ(::chmod((*staged + "/diff/proc/sub").c_str(), 0500), 0);
  ASSERT_EQ(::chmod((*staged + "/diff/proc").c_str(), 0555), 0);
  std::string diff = sha256_digest("read-only layer");
  ASSERT_TRUE(store().commit_layer(*staged, LayerRecord{diff, diff, "", "", 4}));
  ASSERT_TRUE(store().has_layer(diff));
  auto freed = store().garbage_collect();
  ASSERT_TRUE(freed) << freed.error().message;
  EXPECT_GE(*freed, 4u);
  EXPECT_THAT(entries(root_ + "/layers"), IsEmpty());
  EXPECT_THAT(entries(root_ + "/staging"), IsEmpty());
}
