// The image commands of `ctr`, run as the unprivileged user against a fresh
// store (--root in a temp dir) per test, on archives built at test time from
// the busybox fixture: import, images, inspect, tag, save (both formats),
// rmi, load (round trip and a hand-made docker-archive with whiteouts,
// ownership and setuid), error cases, and cross-checks with skopeo and podman.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
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
using Out = CommandOutput;

Out run(const std::vector<std::string>& argv, std::optional<std::string> input = std::nullopt) {
  return run_command(argv, std::move(input));
}
Out sh(const std::string& script) { return run_shell(script); }

class CtrImage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
    if (::access(ctr_binary().c_str(), X_OK) != 0) FAIL() << "CTR_BIN=" << ctr_binary() << " is not an executable";
    if (busybox_rootfs().empty()) FAIL() << "no busybox fixture: " << fixture_error();
    auto dir = TempDir::create("ctr-image-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/store";
  }
  void TearDown() override {
    // Layer files belong to subordinate IDs: remove them from inside the namespace.
    if (dir_) (void)run({ctr_binary(), "--root", root_, "unshare", "rm", "-rf", root_});
  }

  Out ctr(std::vector<std::string> args, std::optional<std::string> input = std::nullopt) {
    std::vector<std::string> argv{ctr_binary(), "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, std::move(input));
  }
  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }

  // The busybox rootfs as a gzip'd tarball.
  std::string rootfs_tarball() {
    std::string tarball = path("rootfs.tar.gz");
    if (!path_exists(tarball)) {
      auto made = sh("tar -C " + shell_quote(busybox_rootfs()) + " --exclude=./.complete -czf " + shell_quote(tarball) + " .");
      EXPECT_EQ(made.code, 0) << made.describe();
    }
    return tarball;
  }
  // Imports busybox as `name`; returns the 64-hex ID.
  std::string import_busybox(const std::string& name = "busybox", std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"import"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(rootfs_tarball());
    if (!name.empty()) args.push_back(name);
    auto out = ctr(args);
    EXPECT_EQ(out.code, 0) << out.describe();
    std::string id(trim(out.out));
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{64}"))) << id;
    return id;
  }
  json inspect(const std::string& image) {
    auto out = ctr({"image", "inspect", image});
    EXPECT_EQ(out.code, 0) << out.describe();
    try {
      auto parsed = json::parse(out.out);
      if (parsed.is_array() && parsed.size() == 1) return parsed[0];
    } catch (const std::exception& error) {
      ADD_FAILURE() << "inspect output is not JSON: " << error.what() << "\n" << out.out;
    }
    return json::object();
  }

  std::optional<TempDir> dir_;
  std::string root_;
};

TEST_F(CtrImage, ImportThenListAndInspect) {
  std::string id = import_busybox("busybox", {"--change", "CMD echo hi", "-c", "ENV=A=1"});
  auto images = ctr({"images"});
  ASSERT_EQ(images.code, 0) << images.describe();
  auto lines = split(trim(images.out), '\n');
  ASSERT_EQ(lines.size(), 2u) << images.out;
  EXPECT_TRUE(std::regex_search(lines[0], std::regex("^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$"))) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[1], std::regex("^localhost/busybox +latest +" + id.substr(0, 12) +
                                                     " +(Less than a second|[0-9]+ seconds?) ago +[0-9.]+ [kM]B$")))
      << lines[1];
  // Columns line up: the TAG column starts at the same offset on both lines.
  EXPECT_EQ(lines[0].find("TAG"), lines[1].find("latest"));

  auto quiet = ctr({"image", "ls", "-q"});
  EXPECT_EQ(trim(quiet.out), id.substr(0, 12));
  auto no_trunc = ctr({"image", "list", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"});
  EXPECT_EQ(trim(no_trunc.out), "sha256:" + id + " localhost/busybox:latest") << no_trunc.describe();
  auto as_json = ctr({"images", "--format", "json"});
  ASSERT_EQ(as_json.code, 0) << as_json.describe();
  auto parsed = json::parse(as_json.out);
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0]["Id"], id);
  EXPECT_EQ(parsed[0]["Names"], json::array({"localhost/busybox:latest"}));

  json object = inspect("busybox");
  EXPECT_EQ(object["Id"], id);
  EXPECT_EQ(object["RepoTags"], json::array({"localhost/busybox:latest"}));
  EXPECT_EQ(object["RootFS"]["Type"], "layers");
  EXPECT_EQ(object["RootFS"]["Layers"].size(), 1u);
  EXPECT_EQ(object["Os"], "linux");
  EXPECT_GT(object["Size"].get<uint64_t>(), 100000u);
  EXPECT_EQ(object["Config"]["Cmd"], json::array({"/bin/sh", "-c", "echo hi"})) << object["Config"].dump();
  auto env = object["Config"]["Env"];
  EXPECT_NE(std::find(env.begin(), env.end(), "A=1"), env.end()) << env.dump();
  // The same image by ID prefix, and a template.
  auto by_prefix = ctr({"image", "inspect", "--format", "{{.Id}} {{json .RootFS.Layers}}", id.substr(0, 8)});
  EXPECT_EQ(by_prefix.code, 0) << by_prefix.describe();
  EXPECT_EQ(by_prefix.out.substr(0, 64), id);
  auto bad_template = ctr({"image", "inspect", "--format", "{{.Nope}}", "busybox"});
  EXPECT_EQ(bad_template.code, 125);
  EXPECT_NE(bad_template.err.find("{{.Nope}}"), std::string::npos) << bad_template.err;
}

TEST_F(CtrImage, ImportUnnamedShowsNone) {
  std::string id = import_busybox("");
  auto images = ctr({"images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"});
  EXPECT_EQ(trim(images.out), "<none> <none> " + id.substr(0, 12)) << images.describe();
  auto dangling = ctr({"images", "-q", "--filter", "dangling=true"});
  EXPECT_EQ(trim(dangling.out), id.substr(0, 12));
  auto prune = ctr({"image", "prune", "-f"});
  EXPECT_EQ(prune.code, 0) << prune.describe();
  EXPECT_EQ(trim(prune.out), id);
  EXPECT_EQ(trim(ctr({"images", "-q"}).out), "");
}

TEST_F(CtrImage, TagUntagAndRemove) {
  std::string id = import_busybox();
  auto tag = ctr({"tag", "busybox", "other:v1", "registry.example:5000/team/app:2"});
  ASSERT_EQ(tag.code, 0) << tag.describe();
  auto rows = ctr({"images", "--format", "{{.Repository}}:{{.Tag}}"});
  auto names = split(trim(rows.out), '\n');
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"localhost/busybox:latest", "localhost/other:v1",
                                             "registry.example:5000/team/app:2"}))
      << rows.describe();
  auto filtered = ctr({"images", "--format", "{{.Repository}}", "--filter", "reference=*app*"});
  EXPECT_EQ(trim(filtered.out), "registry.example:5000/team/app") << filtered.describe();

  // By ID while several names point at it: podman refuses without -f.
  auto by_id = ctr({"rmi", id.substr(0, 12)});
  EXPECT_EQ(by_id.code, 125) << by_id.describe();
  auto untag = ctr({"rmi", "other:v1"});
  EXPECT_EQ(untag.code, 0) << untag.describe();
  EXPECT_EQ(trim(untag.out), "Untagged: localhost/other:v1");
  EXPECT_EQ(inspect(id)["Id"], id);  // still there
  auto untag2 = ctr({"image", "rm", "registry.example:5000/team/app:2"});
  EXPECT_EQ(trim(untag2.out), "Untagged: registry.example:5000/team/app:2") << untag2.describe();

  auto remove = ctr({"rmi", "busybox"});
  EXPECT_EQ(remove.code, 0) << remove.describe();
  EXPECT_EQ(remove.out, "Untagged: localhost/busybox:latest\nDeleted: " + id + "\n");
  EXPECT_EQ(trim(ctr({"images", "-q"}).out), "");
  // Garbage collection removed the layer.
  auto layers = sh("ls -A " + shell_quote(root_ + "/layers") + " | wc -l");
  EXPECT_EQ(trim(layers.out), "0") << layers.describe();
}

// Podman's naming: names given to import and tag without a registry get
// localhost/, Docker Hub names are canonical, a short name finds localhost/
// first, then docker.io, then any repository ending in /NAME, and is an
// error naming the candidates when that is more than one image.
TEST_F(CtrImage, ShortNamesLikePodman) {
  std::string id = import_busybox("busybox");
  ASSERT_EQ(ctr({"tag", "busybox", "docker.io/busybox:hub", "quay.io/a/tool:1", "user/app:2"}).code, 0);
  auto names = inspect(id)["RepoTags"];
  EXPECT_EQ(names, json::array({"localhost/busybox:latest", "docker.io/library/busybox:hub", "quay.io/a/tool:1",
                                "localhost/user/app:2"}));
  EXPECT_EQ(inspect("busybox:hub")["Id"], id);  // through docker.io/library/
  EXPECT_EQ(inspect("tool:1")["Id"], id);       // through the /tool suffix
  EXPECT_EQ(inspect("app:2")["Id"], id);

  ASSERT_EQ(sh("mkdir -p " + shell_quote(path("tiny")) + " && echo x > " + shell_quote(path("tiny/f")) + " && tar -C " +
               shell_quote(path("tiny")) + " -cf " + shell_quote(path("tiny.tar")) + " .")
                .code,
            0);
  auto other = ctr({"import", "-q", path("tiny.tar"), "registry.example:5000/b/tool:1"});
  ASSERT_EQ(other.code, 0) << other.describe();
  auto ambiguous = ctr({"image", "inspect", "tool:1"});
  EXPECT_EQ(ambiguous.code, 125) << ambiguous.describe();
  EXPECT_NE(ambiguous.err.find("short name \"tool:1\" is ambiguous"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("quay.io/a/tool:1, registry.example:5000/b/tool:1"), std::string::npos)
      << ambiguous.err;
  EXPECT_EQ(inspect("quay.io/a/tool:1")["Id"], id);

  // Loading an image that is present adds the archive's names and keeps the others.
  std::string archive = path("busybox.tar");
  ASSERT_EQ(ctr({"save", "-q", "-o", archive, "busybox:latest"}).code, 0);
  ASSERT_EQ(ctr({"rmi", "user/app:2"}).code, 0);
  ASSERT_EQ(ctr({"tag", "busybox", "kept:1"}).code, 0);
  ASSERT_EQ(ctr({"rmi", "localhost/busybox:latest"}).code, 0);
  auto load = ctr({"load", "-q", "-i", archive});
  ASSERT_EQ(load.code, 0) << load.describe();
  EXPECT_EQ(load.out, "Loaded image: localhost/busybox:latest\n");
  EXPECT_EQ(inspect("busybox")["Id"], id) << "save -> load changed the ID";
  EXPECT_EQ(inspect(id)["RepoTags"], json::array({"docker.io/library/busybox:hub", "quay.io/a/tool:1",
                                                   "localhost/kept:1", "localhost/busybox:latest"}));
}

TEST_F(CtrImage, UnknownImagesAreNamed) {
  import_busybox();
  for (std::vector<std::string> args : {std::vector<std::string>{"image", "inspect", "no-such-image"},
                                        {"tag", "no-such-image", "x"},
                                        {"save", "-o", path("x.tar"), "no-such-image"}}) {
    auto out = ctr(args);
    EXPECT_EQ(out.code, 125) << args[0] << "\n" << out.describe();
    EXPECT_NE(out.err.find("no-such-image"), std::string::npos) << out.err;
    EXPECT_EQ(out.err.rfind("Error: ", 0), 0u) << out.err;
  }
  auto rmi = ctr({"rmi", "no-such-image"});
  EXPECT_EQ(rmi.code, 1) << rmi.describe();  // podman rmi: 1 = no such image
  EXPECT_NE(rmi.err.find("no-such-image"), std::string::npos);
  auto unknown_cmd = ctr({"frobnicate"});
  EXPECT_EQ(unknown_cmd.code, 125);
  EXPECT_NE(unknown_cmd.err.find("frobnicate"), std::string::npos) << unknown_cmd.err;
  auto unknown_flag = ctr({"images", "--frobnicate"});
  EXPECT_EQ(unknown_flag.code, 125);
  EXPECT_NE(unknown_flag.err.find("--frobnicate"), std::string::npos) << unknown_flag.err;
}

TEST_F(CtrImage, AmbiguousIdPrefix) {
  // Import tiny images until two IDs share their first 3 hex digits
  // (birthday bound: about 76 tries expected for 4096 prefixes).
  ASSERT_EQ(sh("mkdir -p " + shell_quote(path("tiny")) + " && echo x > " + shell_quote(path("tiny/f")) + " && tar -C " +
               shell_quote(path("tiny")) + " -cf " + shell_quote(path("tiny.tar")) + " .")
                .code,
            0);
  std::map<std::string, std::string> seen;
  std::string prefix;
  for (int i = 0; i < 600 && prefix.empty(); ++i) {
    auto out = ctr({"import", "-q", "-c", "LABEL n=" + std::to_string(i), path("tiny.tar")});
    ASSERT_EQ(out.code, 0) << out.describe();
    std::string id(trim(out.out));
    if (!seen.emplace(id.substr(0, 3), id).second) prefix = id.substr(0, 3);
  }
  ASSERT_FALSE(prefix.empty());
  auto out = ctr({"image", "inspect", prefix});
  EXPECT_EQ(out.code, 125) << out.describe();
  EXPECT_NE(out.err.find("ambiguous"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find(prefix), std::string::npos) << out.err;
}

class CtrSaveLoad : public CtrImage, public ::testing::WithParamInterface<const char*> {};

// ctr keeps each layer's tar layout (image/tar_layout.h), so `save` writes
// back the layer tars it loaded: names, config, layers and the image ID
// survive save -> load, every time.
TEST_P(CtrSaveLoad, RoundTripKeepsContentAndIsStable) {
  std::string format = GetParam();
  import_busybox();
  json before = inspect("busybox");
  std::string archive = path("saved-" + format + ".tar");
  auto save = ctr({"save", "-q", "--format", format, "-o", archive, "busybox"});
  ASSERT_EQ(save.code, 0) << save.describe();
  auto listing = sh("tar -tf " + shell_quote(archive));
  ASSERT_EQ(listing.code, 0) << listing.describe();
  if (format == "oci-archive") {
    EXPECT_NE(listing.out.find("index.json"), std::string::npos) << listing.out;
    EXPECT_NE(listing.out.find("oci-layout"), std::string::npos) << listing.out;
  } else {
    EXPECT_NE(listing.out.find("manifest.json"), std::string::npos) << listing.out;
  }
  ASSERT_EQ(ctr({"rmi", "busybox"}).code, 0);
  auto load = ctr({"load", "-q", "-i", archive});
  ASSERT_EQ(load.code, 0) << load.describe();
  EXPECT_EQ(load.out, "Loaded image: localhost/busybox:latest\n");
  json after = inspect("busybox");
  EXPECT_EQ(after["RepoTags"], before["RepoTags"]);
  EXPECT_EQ(after["Config"], before["Config"]);
  EXPECT_EQ(after["RootFS"]["Layers"], before["RootFS"]["Layers"]);
  EXPECT_EQ(after["Id"], before["Id"]);
  auto files = ctr({"unshare", "sh", "-c", "ls " + shell_quote(root_) + "/layers/*/diff/bin | wc -l"});
  EXPECT_EQ(files.code, 0) << files.describe();
  EXPECT_GT(std::stoi(files.out.empty() ? "0" : files.out), 200) << "busybox applets missing after reload";
  std::string id = after["Id"];
  // A second round trip keeps the ID.
  std::string again = path("again-" + format + ".tar");
  ASSERT_EQ(ctr({"save", "-q", "--format", format, "-o", again, "busybox"}).code, 0);
  ASSERT_EQ(ctr({"rmi", "busybox"}).code, 0);
  ASSERT_EQ(ctr({"load", "-q", "-i", again}).code, 0);
  EXPECT_EQ(inspect("busybox")["Id"], id);
  // From stdin too, into a second store.
  std::string saved_root = root_;
  root_ = path("store2");
  auto from_stdin = sh(shell_quote(ctr_binary()) + " --root " + shell_quote(root_) + " load < " + shell_quote(again));
  EXPECT_EQ(from_stdin.code, 0) << from_stdin.describe();
  EXPECT_EQ(inspect(id)["Id"], id);
  (void)run({ctr_binary(), "--root", root_, "unshare", "rm", "-rf", root_});
  root_ = saved_root;
}

TEST_P(CtrSaveLoad, SkopeoReadsWhatCtrSaves) {
  std::string format = GetParam();
  if (!have_tool("skopeo"))
    GTEST_SKIP() << "NO-SKOPEO: skopeo is not installed (apt-get install skopeo; scripts/lib.sh installs it)";
  import_busybox();
  std::string archive = path("saved.tar");
  ASSERT_EQ(ctr({"save", "-q", "--format", format, "-o", archive, "busybox"}).code, 0);
  std::string transport = format == "oci-archive" ? "oci-archive:" : "docker-archive:";
  auto copy =
      sh("skopeo --insecure-policy copy -q " + transport + shell_quote(archive) + " oci:" + shell_quote(path("oci-dir")) + ":x");
  EXPECT_EQ(copy.code, 0) << copy.describe();
  auto index = read_file(path("oci-dir/index.json"));
  ASSERT_TRUE(index.ok());
  EXPECT_NE(index->find("manifests"), std::string::npos);
  // And ctr reads skopeo's oci-archive back.
  auto back = sh("skopeo --insecure-policy copy -q oci:" + shell_quote(path("oci-dir")) +
                 ":x oci-archive:" + shell_quote(path("skopeo.tar")) + ":localhost/from-skopeo:1");
  ASSERT_EQ(back.code, 0) << back.describe();
  auto load = ctr({"load", "-i", path("skopeo.tar")});
  EXPECT_EQ(load.code, 0) << load.describe();
}

INSTANTIATE_TEST_SUITE_P(Formats, CtrSaveLoad, ::testing::Values("oci-archive", "docker-archive"),
                         [](const auto& info) { return std::string(info.param) == "oci-archive" ? "Oci" : "Docker"; });

// A docker-archive made by hand: two layers, the upper one deleting a file
// (.wh.FILE) and making a directory opaque (.wh..wh..opq); the lower one with
// a file owned by uid 1000 and a setuid file.
TEST_F(CtrImage, LoadCraftedDockerArchive) {
  std::string script = R"SH(
set -eu
cd "$WORK"
mkdir -p l1/etc l1/d l1/bin l2/etc l2/d out/l1 out/l2
echo keep > l1/etc/keep; echo gone > l1/etc/gone; echo old > l1/d/old
echo owned > l1/etc/owned; printf '#!/bin/sh\n' > l1/bin/suid; chmod 4755 l1/bin/suid
tar -C l1 --owner=0 --group=0 --numeric-owner -cf out/l1/layer.tar etc/keep etc/gone d bin
tar -C l1 --owner=1000 --group=1000 --numeric-owner -rf out/l1/layer.tar etc/owned
touch l2/etc/.wh.gone l2/d/.wh..wh..opq; echo new > l2/d/new
tar -C l2 --owner=0 --group=0 --numeric-owner -cf out/l2/layer.tar etc d
d1=$(sha256sum out/l1/layer.tar | cut -d' ' -f1); d2=$(sha256sum out/l2/layer.tar | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' "$d1" "$d2" > config.json
c=$(sha256sum config.json | cut -d' ' -f1); mv config.json out/$c.json
printf '[{"Config":"%s.json","RepoTags":["localhost/crafted:v1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]' "$c" > out/manifest.json
tar -C out -cf crafted.tar manifest.json $c.json l1 l2
echo "sha256:$d1 sha256:$d2"
)SH";
  auto made = run({"/bin/sh", "-c", "WORK=" + shell_quote(path("crafted")) + "; mkdir -p \"$WORK\"; export WORK;" + script});
  ASSERT_EQ(made.code, 0) << made.describe();
  auto diff_ids = split(trim(made.out), ' ');
  auto load = ctr({"load", "-i", path("crafted/crafted.tar")});
  ASSERT_EQ(load.code, 0) << load.describe();
  EXPECT_EQ(load.out, "Loaded image: localhost/crafted:v1\n");
  json object = inspect("localhost/crafted:v1");
  EXPECT_EQ(object["RootFS"]["Layers"], json(diff_ids));
  EXPECT_EQ(object["Created"], "2024-01-02T03:04:05Z");
  // As podman's overlay driver: UpperDir is the top layer, LowerDir the rest.
  const json& graph = object["GraphDriver"]["Data"];
  ASSERT_TRUE(graph.contains("UpperDir") && graph.contains("LowerDir")) << graph.dump();
  auto lowers = split(graph["LowerDir"].get<std::string>(), ':');
  ASSERT_EQ(lowers.size(), 1u) << object["GraphDriver"].dump();
  const std::string upper = graph["UpperDir"];
  const std::string& lower = lowers[0];

  // Owners as the image says, seen inside the store's user namespace.
  auto owner = ctr({"unshare", "stat", "-c", "%u:%g", lower + "/etc/owned"});
  EXPECT_EQ(owner.code, 0) << owner.describe();
  EXPECT_EQ(trim(owner.out), "1000:1000") << owner.describe();
  auto root_owned = ctr({"unshare", "stat", "-c", "%u:%g", lower + "/etc/keep"});
  EXPECT_EQ(trim(root_owned.out), "0:0") << root_owned.describe();
  struct stat st {};
  ASSERT_EQ(::stat((lower + "/bin/suid").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_ISUID) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  // Whiteouts in overlay form: a 0:0 character device, and the opaque xattr.
  ASSERT_EQ(::lstat((upper + "/etc/gone").c_str(), &st), 0) << "no whiteout for etc/gone";
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(path_exists(upper + "/etc/.wh.gone"));
  EXPECT_FALSE(path_exists(upper + "/d/.wh..wh..opq"));
  char value[8] = {};
  ssize_t n = ::lgetxattr((upper + "/d").c_str(), "user.overlay.opaque", value, sizeof value);
  EXPECT_EQ(std::string(value, n > 0 ? static_cast<size_t>(n) : 0), "y") << "no opaque xattr on d/";
  EXPECT_TRUE(path_exists(upper + "/d/new"));

  // Loading layers the store already has adds no copy of them (layer
  // sharing across different images: ImageStore unit tests, bench/load.sh).
  auto layers_before = sh("ls " + shell_quote(root_ + "/layers") + " | wc -l");
  ASSERT_EQ(ctr({"load", "-q", "-i", path("crafted/crafted.tar")}).code, 0);
  EXPECT_EQ(sh("ls " + shell_quote(root_ + "/layers") + " | wc -l").out, layers_before.out);

  auto df = ctr({"system", "df"});
  EXPECT_EQ(df.code, 0) << df.describe();
  EXPECT_TRUE(std::regex_search(df.out, std::regex("Images +1 +0 "))) << df.out;
}

TEST_F(CtrImage, SaveRefusesATerminal) {
  import_busybox();
  if (!have_tool("script")) GTEST_SKIP() << "NO-SCRIPT: util-linux script(1) is needed to give ctr a terminal";
  // script(1) gives ctr a pseudo-terminal as stdout.
  auto out =
      sh("script -qec " + shell_quote(shell_quote(ctr_binary()) + " --root " + shell_quote(root_) + " save busybox") + " /dev/null");
  EXPECT_NE(out.out.find("refusing to save to terminal"), std::string::npos) << out.describe();
}

// podman's archives load into ctr: podman imports the busybox rootfs and
// saves it in both formats (rootless, with the settings of TESTING.md).
TEST_F(CtrImage, LoadsWhatPodmanSaves) {
  if (!have_tool("podman")) GTEST_SKIP() << "NO-PODMAN: podman is not installed (apt-get install podman)";
  if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
  // Directly under /tmp: podman 4.3 + conmon mishandle long XDG_RUNTIME_DIR paths.
  char work_template[] = "/tmp/ctr-podman-XXXXXX";
  ASSERT_NE(::mkdtemp(work_template), nullptr);
  struct WorkDir {
    std::string dir;
    std::string path() const { return dir; }
    ~WorkDir() { (void)remove_tree(dir); }
  } work_dir{work_template};
  auto* work = &work_dir;
  std::string script = R"SH(
set -eu
export HOME=$W/home XDG_CONFIG_HOME=$W/config XDG_DATA_HOME=$W/data XDG_CACHE_HOME=$W/cache XDG_RUNTIME_DIR=$W/run
unset DBUS_SESSION_BUS_ADDRESS
mkdir -p $HOME $XDG_CONFIG_HOME/containers $XDG_DATA_HOME $XDG_CACHE_HOME; mkdir -m 700 $XDG_RUNTIME_DIR
printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > $XDG_CONFIG_HOME/containers/containers.conf
printf '[storage]\ndriver = "overlay"\n' > $XDG_CONFIG_HOME/containers/storage.conf
tar -C "$ROOTFS" --exclude=./.complete -c . | podman import -q - localhost/podbox:1 >/dev/null
podman save -q --format docker-archive -o $W/podman-docker.tar localhost/podbox:1
podman save -q --format oci-archive -o $W/podman-oci.tar localhost/podbox:1
podman image inspect --format '{{.Id}}' localhost/podbox:1
podman system reset --force >/dev/null 2>&1 || true
[ -f $XDG_RUNTIME_DIR/libpod/tmp/pause.pid ] && kill $(cat $XDG_RUNTIME_DIR/libpod/tmp/pause.pid) 2>/dev/null || true
)SH";
  auto podman =
      run({"/bin/sh", "-c",
           "W=" + shell_quote(work->path()) + " ROOTFS=" + shell_quote(busybox_rootfs()) + "; export W ROOTFS;" + script});
  ASSERT_EQ(podman.code, 0) << "podman could not build the archives (environment problem):\n" << podman.describe();
  std::string podman_id(trim(podman.out));
  for (const char* archive : {"podman-docker.tar", "podman-oci.tar"}) {
    auto load = ctr({"load", "-i", work->path() + "/" + archive});
    EXPECT_EQ(load.code, 0) << archive << ": " << load.describe();
    EXPECT_NE(load.out.find("Loaded image: "), std::string::npos) << load.out;
  }
  auto images = ctr({"images", "--no-trunc", "--format", "{{.ID}}"});
  EXPECT_NE(images.out.find(podman_id), std::string::npos) << "podman's image ID " << podman_id << "\n"
                                                           << images.describe();
  json object = inspect(podman_id);
  EXPECT_EQ(object["RootFS"]["Layers"].size(), 1u);
  auto sh_in_layer =
      ctr({"unshare", "test", "-x",
           object["GraphDriver"]["Data"]["UpperDir"].get<std::string>() + "/bin/busybox"});
  EXPECT_FALSE(object["GraphDriver"]["Data"].contains("LowerDir")) << "a one-layer image has no LowerDir";
  EXPECT_EQ(sh_in_layer.code, 0) << sh_in_layer.describe();
}

TEST(CtrCli, VersionAndHelpNeedNoStore) {
  if (::access(ctr_binary().c_str(), X_OK) != 0) FAIL() << "CTR_BIN=" << ctr_binary() << " is not an executable";
  auto dir = TempDir::create("ctr-cli-");
  ASSERT_TRUE(dir.ok());
  std::string root = dir->path() + "/never";
  auto version = run({ctr_binary(), "--root", root, "version"});
  EXPECT_EQ(version.code, 0) << version.describe();
  EXPECT_NE(version.out.find("Version:"), std::string::npos);
  auto help = run({ctr_binary(), "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("images"), std::string::npos);
  auto bare = run({ctr_binary()});
  EXPECT_EQ(bare.code, 125);
  EXPECT_NE(bare.out.find("Usage"), std::string::npos);
  EXPECT_FALSE(path_exists(root)) << "version/help must not create the store";
}

TEST(CtrCli, UnshareExitStatusPassesThrough) {
  if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
  auto dir = TempDir::create("ctr-cli-");
  ASSERT_TRUE(dir.ok());
  auto out = run({ctr_binary(), "--root", dir->path() + "/s", "unshare", "sh", "-c", "id -u; exit 7"});
  EXPECT_EQ(out.code, 7) << out.describe();
  EXPECT_EQ(trim(out.out), "0");
}

}  // namespace
}  // namespace ctr::itest
