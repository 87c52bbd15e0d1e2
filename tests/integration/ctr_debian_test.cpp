// A real distribution image through ctr, as the unprivileged user: the Debian
// fixture (tests/fixtures/build-debian-image.sh: debootstrap + umoci +
// skopeo) in every format; one image ID whatever the format; names as podman
// gives them; owners, setuid bits and hard links as debootstrap made them;
// umoci's whiteouts and an opaque directory in the upper layers; save -> load
// keeping the ID; and what ctr saves read back by skopeo, umoci and podman.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

using nlohmann::json;

std::string fixtures_dir() {
  const char* dir = std::getenv("CTR_FIXTURES");
  return dir && *dir ? dir : "/var/tmp/ctr-test-fixtures";
}

// KEY=VALUE lines of the fixture's facts.env.
std::map<std::string, std::string> read_facts(const std::string& path) {
  std::map<std::string, std::string> facts;
  auto text = read_file(path);
  if (!text) return facts;
  for (const auto& line : split(*text, '\n')) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) facts[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return facts;
}

class CtrDebian : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
    if (::access(ctr_binary().c_str(), X_OK) != 0) FAIL() << "CTR_BIN=" << ctr_binary() << " is not an executable";
    fixture_ = fixtures_dir() + "/debian";
    if (!path_exists(fixture_ + "/.complete"))
      GTEST_SKIP() << "NO-DEBIAN-FIXTURE: " << fixture_
                   << " is missing: build it as root with tests/fixtures/build-debian-image.sh " << fixture_
                   << " (scripts/test.sh does, through build_fixtures in scripts/lib.sh)";
    facts_ = read_facts(fixture_ + "/facts.env");
    ASSERT_FALSE(facts_["ROOTFS"].empty()) << fixture_ << "/facts.env is incomplete: rebuild the fixture";
    auto dir = TempDir::create("ctr-debian-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/store";
  }
  void TearDown() override {
    // Layer files belong to subordinate IDs: remove them from inside the namespace.
    if (dir_) (void)run_command({ctr_binary(), "--root", root_, "unshare", "rm", "-rf", root_});
  }

  CommandOutput ctr(std::vector<std::string> args) {
    std::vector<std::string> argv{ctr_binary(), "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }
  std::string fixture(const std::string& name) const { return fixture_ + "/" + name; }

  // Loads an archive; returns the names it reported, in order.
  std::vector<std::string> load(const std::string& archive) {
    auto out = ctr({"load", "-q", "-i", archive});
    EXPECT_EQ(out.code, 0) << archive << ": " << out.describe();
    EXPECT_EQ(out.err, "") << archive;
    std::vector<std::string> names;
    for (const auto& line : split(trim(out.out), '\n'))
      if (starts_with(line, "Loaded image: ")) names.push_back(line.substr(14));
    return names;
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
  // Layer diff dirs, top first (UpperDir, then LowerDir), as podman reports them.
  std::vector<std::string> layer_dirs(const std::string& image) {
    json data = inspect(image)["GraphDriver"]["Data"];
    std::vector<std::string> dirs;
    if (data.contains("UpperDir")) dirs.push_back(data["UpperDir"]);
    if (data.contains("LowerDir"))
      for (const auto& dir : split(data["LowerDir"].get<std::string>(), ':')) dirs.push_back(dir);
    return dirs;
  }
  // stat(1) of a path as seen inside the store's user namespace.
  std::string stat_inside(const std::string& format, const std::string& file) {
    auto out = ctr({"unshare", "stat", "-c", format, file});
    EXPECT_EQ(out.code, 0) << out.describe();
    return std::string(trim(out.out));
  }
  // The image ID (config digest) of each image in the fixture's OCI layout, by ref.name.
  json read_json(const std::string& file) {
    auto text = read_file(file);
    EXPECT_TRUE(text.ok()) << file;
    return json::parse(text ? *text : "{}");
  }
  std::map<std::string, std::string> layout_ids() {
    std::map<std::string, std::string> ids;
    for (const auto& entry : read_json(fixture("oci/index.json")).value("manifests", json::array())) {
      std::string digest = entry["digest"];
      json manifest = read_json(fixture("oci/blobs/sha256/" + digest.substr(7)));
      ids[entry["annotations"]["org.opencontainers.image.ref.name"]] = manifest["config"]["digest"];
    }
    return ids;
  }
  std::string id_of(const std::string& image) {
    return "sha256:" + inspect(image).value("Id", std::string());
  }

  std::string fixture_;
  std::map<std::string, std::string> facts_;
  std::optional<TempDir> dir_;
  std::string root_;
};

// Every format the fixture has, into one store: the images keep one ID each
// (the config is the same bytes in all of them), names accumulate as podman's
// do, and layers are stored once.
TEST_F(CtrDebian, LoadsEveryFormatAsTheSameImages) {
  using Names = std::vector<std::string>;
  EXPECT_EQ(load(fixture("oci")), (Names{"localhost/debian:bookworm", "localhost/debian-two:latest"}));
  EXPECT_EQ(load(fixture("debian.oci.tar")), (Names{"docker.io/library/debian:bookworm"}));
  EXPECT_EQ(load(fixture("debian-two.oci.tar")), (Names{"localhost/debian-two:latest"}));
  EXPECT_EQ(load(fixture("debian.docker.tar")), (Names{"docker.io/library/debian:bookworm"}));
  // RepoTags written short, as `docker save` does: normalized to Docker Hub.
  EXPECT_EQ(load(fixture("debian-all.docker.tar")),
            (Names{"docker.io/library/debian:bookworm", "docker.io/library/debian-two:latest"}));

  auto ids = layout_ids();
  ASSERT_EQ(ids.size(), 2u);
  auto rows = ctr({"images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"});
  ASSERT_EQ(rows.code, 0) << rows.describe();
  auto lines = split(trim(rows.out), '\n');
  std::set<std::string> got(lines.begin(), lines.end());
  std::set<std::string> want{ids["debian:bookworm"] + " localhost/debian:bookworm",
                             ids["debian:bookworm"] + " docker.io/library/debian:bookworm",
                             ids["debian-two:latest"] + " localhost/debian-two:latest",
                             ids["debian-two:latest"] + " docker.io/library/debian-two:latest"};
  EXPECT_EQ(got, want) << rows.out;
  auto layers = run_shell("ls " + shell_quote(root_ + "/layers") + " | wc -l");
  EXPECT_EQ(trim(layers.out), "3") << "base + 2 upper layers, each stored once";

  // Short names resolve as podman's do: localhost/ first, then docker.io.
  EXPECT_EQ(id_of("debian:bookworm"), ids["debian:bookworm"]);
  EXPECT_EQ(id_of("debian-two"), ids["debian-two:latest"]);
  EXPECT_EQ(id_of("library/debian:bookworm"), ids["debian:bookworm"]);
  ASSERT_EQ(ctr({"rmi", "localhost/debian:bookworm"}).code, 0);
  EXPECT_EQ(id_of("debian:bookworm"), ids["debian:bookworm"]) << "found again through docker.io";
  auto missing = ctr({"image", "inspect", "debian"});  // debian:latest does not exist
  EXPECT_EQ(missing.code, 125) << missing.describe();
  EXPECT_NE(missing.err.find("\"debian\" not found"), std::string::npos) << missing.err;
}

// Owners, modes and links as debootstrap made them, seen inside the store's
// user namespace and, mapped, from the host.
TEST_F(CtrDebian, OwnersModesAndHardLinksAsInTheImage) {
  ASSERT_EQ(load(fixture("debian.oci.tar")).size(), 1u);
  auto dirs = layer_dirs("debian:bookworm");
  ASSERT_EQ(dirs.size(), 1u);
  const std::string& layer = dirs[0];
  ASSERT_EQ(facts_["SHADOW_GID"], "42") << "Debian's shadow group";
  EXPECT_EQ(stat_inside("%u:%g %a", layer + "/etc/shadow"), "0:42 " + facts_["SHADOW_MODE"]);
  auto subgid = subordinate_range("/etc/subgid");
  if (subgid) {
    struct stat st{};
    ASSERT_EQ(::stat((layer + "/etc/shadow").c_str(), &st), 0);
    // Inside, 0 is the user and 1.. the subordinate range: gid 42 is start + 41.
    EXPECT_EQ(st.st_gid, subgid->start + 41) << "host gid of /etc/shadow";
    EXPECT_EQ(st.st_uid, ::getuid()) << "container root is the user";
  }
  // setuid root binaries keep their mode.
  EXPECT_EQ(stat_inside("%u %a", layer + "/usr/bin/passwd"), "0 " + facts_["PASSWD_MODE"]);
  EXPECT_EQ(facts_["PASSWD_MODE"], "4755");
  EXPECT_EQ(stat_inside("%a", layer + "/usr/bin/su"), "4755");
  // Hard links stay links: one inode.
  struct stat a{}, b{};
  ASSERT_EQ(::stat((layer + "/" + facts_["HARDLINK_A"]).c_str(), &a), 0);
  ASSERT_EQ(::stat((layer + "/" + facts_["HARDLINK_B"]).c_str(), &b), 0) << facts_["HARDLINK_B"];
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  // merged /usr: /bin is a symlink; a file owned by another group (utmp).
  auto bin = run_shell("readlink " + shell_quote(layer + "/bin"));
  EXPECT_EQ(trim(bin.out), "usr/bin");
  EXPECT_EQ(stat_inside("%g", layer + "/var/log/wtmp"), "43") << "utmp is gid 43 in Debian";
  auto count = ctr({"unshare", "sh", "-c", "find " + shell_quote(layer) + " -mindepth 1 | wc -l"});
  EXPECT_EQ(trim(count.out), facts_["FILES"]) << "every file of the debootstrap tree";
}

// debian-two's upper layers in overlay form: umoci's whiteouts as 0:0
// character devices, the hand-made opaque directory as the opaque xattr.
TEST_F(CtrDebian, UpperLayersKeepWhiteoutsAndOpaqueDirs) {
  ASSERT_EQ(load(fixture("debian-two.oci.tar")).size(), 1u);
  auto dirs = layer_dirs("debian-two");
  ASSERT_EQ(dirs.size(), 3u);
  const std::string& opaque_layer = dirs[0];  // layer 3
  const std::string& umoci_layer = dirs[1];   // layer 2
  EXPECT_EQ(stat_inside("%F %t:%T", umoci_layer + "/etc/issue.net"), "character special file 0:0");
  EXPECT_EQ(stat_inside("%F %t:%T", umoci_layer + "/etc/apt/apt.conf.d/70debconf"), "character special file 0:0");
  EXPECT_EQ(stat_inside("%F", umoci_layer + "/etc/apt/apt.conf.d/99ctr-test"), "regular file");
  EXPECT_EQ(stat_inside("%F", umoci_layer + "/etc/motd"), "directory") << "a file replaced by a directory";
  EXPECT_EQ(stat_inside("%F", umoci_layer + "/etc/cron.d"), "regular file") << "a directory replaced by a file";
  auto stray = ctr({"unshare", "sh", "-c", "find " + shell_quote(umoci_layer) + " " + shell_quote(opaque_layer) +
                                               " -name '.wh.*'"});
  EXPECT_EQ(stray.code, 0) << stray.describe();
  EXPECT_EQ(stray.out, "") << "aufs whiteout files must not reach the layer dirs";
  char value[8] = {};
  ssize_t n = ::lgetxattr((opaque_layer + "/etc/skel").c_str(), "user.overlay.opaque", value, sizeof value);
  EXPECT_EQ(std::string(value, n > 0 ? static_cast<size_t>(n) : 0), "y") << "etc/skel is not opaque";
  auto skel = ctr({"unshare", "ls", "-A", opaque_layer + "/etc/skel"});
  EXPECT_EQ(skel.out, ".profile\n") << skel.describe();
  EXPECT_NE(::lgetxattr((umoci_layer + "/etc/apt/apt.conf.d").c_str(), "user.overlay.opaque", value, sizeof value),
            1)
      << "umoci whites out files one by one; the directory must not become opaque";
}

class CtrDebianSave : public CtrDebian, public ::testing::WithParamInterface<const char*> {};

// ctr save -> ctr load of a three-layer image keeps its ID: the saved layers
// are the bytes the diff IDs name.
TEST_P(CtrDebianSave, RoundTripKeepsTheId) {
  std::string format = GetParam();
  ASSERT_EQ(load(fixture("debian-two.oci.tar")).size(), 1u);
  std::string id = id_of("debian-two");
  std::string archive = path("saved.tar");
  auto save = ctr({"save", "-q", "--format", format, "-o", archive, "debian-two"});
  ASSERT_EQ(save.code, 0) << save.describe();
  ASSERT_EQ(ctr({"rmi", "debian-two"}).code, 0);
  EXPECT_EQ(load(archive), std::vector<std::string>{"localhost/debian-two:latest"});
  EXPECT_EQ(id_of("debian-two"), id) << "save -> load changed the image ID";
  auto dirs = layer_dirs("debian-two");
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(stat_inside("%F", dirs[1] + "/etc/issue.net"), "character special file");
  EXPECT_EQ(stat_inside("%u:%g", dirs[2] + "/etc/shadow"), "0:42");
}

// skopeo reads what ctr saves: the manifest, the config, and layer tars
// whose headers carry the image's owners.
TEST_P(CtrDebianSave, SkopeoReadsWhatCtrSaves) {
  std::string format = GetParam();
  for (const char* tool : {"skopeo", "jq"})
    if (!have_tool(tool)) GTEST_SKIP() << "NO-" << tool << ": " << tool << " is not installed (scripts/lib.sh installs it)";
  ASSERT_EQ(load(fixture("debian-two.oci.tar")).size(), 1u);
  std::string archive = path("saved.tar");
  ASSERT_EQ(ctr({"save", "-q", "--format", format, "-o", archive, "debian-two"}).code, 0);
  std::string transport = format + ":" + archive;
  auto inspected = run_shell("skopeo inspect " + shell_quote(transport));
  ASSERT_EQ(inspected.code, 0) << inspected.describe();
  json info = json::parse(inspected.out);
  EXPECT_EQ(info["Layers"].size(), 3u) << inspected.out;
  EXPECT_EQ(info["Os"], "linux");
  auto config = run_shell("skopeo inspect --config " + shell_quote(transport));
  ASSERT_EQ(config.code, 0) << config.describe();
  EXPECT_EQ(json::parse(config.out)["config"]["Cmd"], json::array({"bash"}));
  // The dir: transport keeps the layers as they are (no recompression).
  std::string copied = path("copied");
  auto copy = run_shell("skopeo --insecure-policy copy -q " + shell_quote(transport) + " " + shell_quote("dir:" + copied));
  ASSERT_EQ(copy.code, 0) << copy.describe();
  auto base_tar = run_shell("cd " + shell_quote(copied) +
                            " && l=$(jq -r '.layers[0].digest' manifest.json | cut -c8-) && "
                            "tar --numeric-owner -tvf $l ./etc/shadow etc/shadow 2>/dev/null; true");
  EXPECT_NE(base_tar.out.find("0/42"), std::string::npos) << "owner of etc/shadow in the saved tar\n"
                                                          << base_tar.describe();
}

INSTANTIATE_TEST_SUITE_P(Formats, CtrDebianSave, ::testing::Values("oci-archive", "docker-archive"),
                         [](const auto& info) { return std::string(info.param) == "oci-archive" ? "Oci" : "Docker"; });

// umoci unpacks ctr's oci-archive (through skopeo's OCI layout) into the
// files, modes and owners of the fixture's debootstrap tree, with the upper
// layers' whiteouts and opaque directory applied.
TEST_F(CtrDebian, UmociUnpacksWhatCtrSaves) {
  for (const char* tool : {"skopeo", "umoci"})
    if (!have_tool(tool)) GTEST_SKIP() << "NO-" << tool << ": " << tool << " is not installed (scripts/lib.sh installs it)";
  ASSERT_EQ(load(fixture("debian-two.oci.tar")).size(), 1u);
  std::string archive = path("saved.tar");
  ASSERT_EQ(ctr({"save", "-q", "--format", "oci-archive", "-o", archive, "debian-two"}).code, 0);
  std::string layout = path("layout");
  auto copy = run_shell("skopeo --insecure-policy copy -q " + shell_quote("oci-archive:" + archive) + " " +
                        shell_quote("oci:" + layout + ":t"));
  ASSERT_EQ(copy.code, 0) << copy.describe();
  std::string bundle = path("bundle");
  auto unpack = run_shell("umoci unpack --rootless --image " + shell_quote(layout + ":t") + " " + shell_quote(bundle));
  ASSERT_EQ(unpack.code, 0) << unpack.describe();
  std::string rootfs = bundle + "/rootfs";
  const std::string& source = facts_["ROOTFS"];
  for (const char* file : {"etc/os-release", "usr/bin/passwd", "etc/passwd", "usr/bin/dpkg"}) {
    auto same = run_shell("cmp " + shell_quote(rootfs + "/" + file) + " " + shell_quote(source + "/" + file));
    EXPECT_EQ(same.code, 0) << file << ": " << same.describe();
  }
  struct stat st{};
  ASSERT_EQ(::stat((rootfs + "/usr/bin/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_FALSE(path_exists(rootfs + "/etc/issue.net")) << "the whiteout was not applied by umoci";
  EXPECT_EQ(run_shell("ls -A " + shell_quote(rootfs + "/etc/skel")).out, ".profile\n") << "opaque dir not applied";
  EXPECT_EQ(run_shell("ls -A " + shell_quote(rootfs + "/etc/apt/apt.conf.d")).out, "99ctr-test\n");
  EXPECT_TRUE(path_exists(rootfs + "/etc/motd/note"));
  // umoci --rootless keeps the image's owners in its mtree manifest, as a
  // user.rootlesscontainers protobuf: field 2 (gid) = 42 is bytes 10 2a.
  auto owner = run_shell("grep -h '^ *shadow ' " + shell_quote(bundle) +
                         "/*.mtree | sed -n 's/.*xattr.user.rootlesscontainers=\\([^ ]*\\).*/\\1/p' | head -n1 | "
                         "base64 -d | od -An -tx1");
  EXPECT_NE(owner.out.find("10 2a"), std::string::npos) << "gid 42 of etc/shadow\n" << owner.describe();
  (void)run_shell("chmod -R u+rwX " + shell_quote(bundle));
}

// podman loads ctr's docker-archive (only that format: each podman load of
// the Debian image costs tens of seconds on a busy 2-core machine) and gets
// the ID the archive's config names, and the image's owners.
TEST_F(CtrDebian, PodmanLoadsWhatCtrSaves) {
  for (const char* tool : {"podman", "skopeo", "jq"})
    if (!have_tool(tool)) GTEST_SKIP() << "NO-" << tool << ": " << tool << " is not installed (scripts/lib.sh installs it)";
  if (auto problem = multi_range_problem()) GTEST_SKIP() << *problem;
  ASSERT_EQ(load(fixture("debian.oci.tar")).size(), 1u);
  std::string archive = path("saved.tar");
  ASSERT_EQ(ctr({"save", "-q", "--format", "docker-archive", "-o", archive, "debian:bookworm"}).code, 0);
  auto config = run_shell("skopeo inspect --raw " + shell_quote("docker-archive:" + archive) + " | jq -r .config.digest");
  ASSERT_EQ(config.code, 0) << config.describe();
  std::string config_digest(trim(config.out));
  // Directly under /tmp: podman 4.3 + conmon mishandle long XDG_RUNTIME_DIR paths.
  char work_template[] = "/tmp/ctr-podman-XXXXXX";
  ASSERT_NE(::mkdtemp(work_template), nullptr);
  std::string work = work_template;
  std::string script = R"SH(
set -eu
export HOME=$W/home XDG_CONFIG_HOME=$W/config XDG_DATA_HOME=$W/data XDG_CACHE_HOME=$W/cache XDG_RUNTIME_DIR=$W/run
unset DBUS_SESSION_BUS_ADDRESS
mkdir -p $HOME $XDG_CONFIG_HOME/containers $XDG_DATA_HOME $XDG_CACHE_HOME; mkdir -m 700 $XDG_RUNTIME_DIR
printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > $XDG_CONFIG_HOME/containers/containers.conf
printf '[storage]\ndriver = "overlay"\n' > $XDG_CONFIG_HOME/containers/storage.conf
stop() {
  podman unshare rm -rf $XDG_DATA_HOME/containers >/dev/null 2>&1 || true
  [ -f $XDG_RUNTIME_DIR/libpod/tmp/pause.pid ] && kill $(cat $XDG_RUNTIME_DIR/libpod/tmp/pause.pid) 2>/dev/null || true
}
trap stop EXIT
podman load -q -i "$ARCHIVE"
podman image inspect --format '{{.Id}} {{.RepoTags}}' debian:bookworm
podman unshare stat -c '%g %a' $(podman image inspect --format '{{.GraphDriver.Data.UpperDir}}' debian:bookworm)/etc/shadow
)SH";
  auto podman = run_shell("W=" + shell_quote(work) + " ARCHIVE=" + shell_quote(archive) + "; export W ARCHIVE;" + script,
                          110);
  (void)run_shell("rm -rf " + shell_quote(work) + " 2>/dev/null");
  ASSERT_EQ(podman.code, 0) << podman.describe();
  auto lines = split(trim(podman.out), '\n');
  ASSERT_GE(lines.size(), 3u) << podman.out;
  EXPECT_NE(lines[0].find("docker.io/library/debian:bookworm"), std::string::npos) << lines[0];
  EXPECT_EQ("sha256:" + lines[1], config_digest + " [docker.io/library/debian:bookworm]");
  EXPECT_EQ(lines[2], "42 640") << "owner of /etc/shadow in podman's store";
}

}  // namespace
}  // namespace ctr::itest
