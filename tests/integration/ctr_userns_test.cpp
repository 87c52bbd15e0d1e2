// run/create as the unprivileged user: unknown flags before IMAGE refused
// (nothing created), the command after IMAGE passed unchanged, and
// --userns=keep-id (your IDs inside, image files still root's, bind mounts
// yours on both sides).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using CtrUsernsTest = CtrContainerTest;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// keep-id needs fuse-overlayfs, which needs a usable /dev/fuse (the test
// harness gives the user one; real systems have it 0666).
std::optional<std::string> keep_id_problem() {
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::string("/dev/fuse cannot be opened: keep-id needs fuse-overlayfs");
  ::close(fd);
  if (::access("/usr/bin/fuse-overlayfs", X_OK) != 0 && ::access("/usr/local/bin/fuse-overlayfs", X_OK) != 0)
    return std::string("fuse-overlayfs is not installed: keep-id needs it");
  return std::nullopt;
}

std::string own_name() {
  const passwd* entry = ::getpwuid(::getuid());
  return entry ? entry->pw_name : "";
}

TEST_F(CtrUsernsTest, UnknownFlagsBeforeImageAreRefused) {
  auto run = ctr({"run", "--rm", "--bogus", "busybox", "true"});
  EXPECT_EQ(run.code, 125) << run.describe();
  EXPECT_TRUE(contains(run.err, "Error: unknown flag: --bogus\nSee 'ctr run --help'")) << run.describe();
  auto cluster = ctr({"create", "-itz", "busybox"});
  EXPECT_EQ(cluster.code, 125) << cluster.describe();
  EXPECT_TRUE(contains(cluster.err, "unknown shorthand flag: 'z' in -z")) << cluster.describe();
  auto nested = ctr({"container", "run", "--name=x", "--nope=1", "busybox"});
  EXPECT_EQ(nested.code, 125) << nested.describe();
  EXPECT_TRUE(contains(nested.err, "unknown flag: --nope\nSee 'ctr container run --help'")) << nested.describe();
  auto listed = ctr({"ps", "-a", "-q"});
  EXPECT_EQ(listed.code, 0) << listed.describe();
  EXPECT_EQ(listed.out, "") << "a refused run/create left a container behind";
}

TEST_F(CtrUsernsTest, WordsAfterImageAreTheCommand) {
  auto run = ctr({"run", "--rm", "--", "busybox", "echo", "--name", "x", "--", "-l"});
  EXPECT_EQ(run.code, 0) << run.describe();
  EXPECT_EQ(run.out, "--name x -- -l\n");
  auto option_as_command = ctr({"run", "--rm", "busybox", "--name", "x"});
  EXPECT_EQ(option_as_command.code, 127) << option_as_command.describe();
  EXPECT_TRUE(contains(option_as_command.err, "\"--name\"")) << option_as_command.describe();
}

TEST_F(CtrUsernsTest, KeepIdRunsAsYouWithImageFilesStillRoots) {
  if (auto problem = keep_id_problem()) GTEST_SKIP() << *problem;
  std::string data = path("data");
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  auto run = ctr({"run", "--rm", "--userns=keep-id", "-v", data + ":/data", "busybox", "sh", "-c",
                  "id -u; id -g; id -un; stat -c %u:%g /bin /data; touch /data/made; grep :" + uid +
                      ": /etc/passwd; stat -c %u /etc/passwd"});
  ASSERT_EQ(run.code, 0) << run.describe();
  auto lines = split(trim(run.out), '\n');
  ASSERT_EQ(lines.size(), 7u) << run.out;
  EXPECT_EQ(lines[0], uid);
  EXPECT_EQ(lines[1], gid);
  EXPECT_EQ(lines[2], own_name());
  EXPECT_EQ(lines[3], "0:0") << "image files keep their owner (root)";
  EXPECT_EQ(lines[4], uid + ":" + gid) << "a directory you own shows your IDs";
  EXPECT_TRUE(contains(lines[5], own_name() + ":*:" + uid + ":" + gid)) << lines[5];
  EXPECT_EQ(lines[6], "0") << "the added /etc/passwd is root's, as podman";
  struct stat st {};
  ASSERT_EQ(::stat((data + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::getuid()) << "a file made inside is yours on the host";
  EXPECT_EQ(st.st_gid, ::getgid());
}

TEST_F(CtrUsernsTest, KeepIdWithUserZeroAndExplicitIds) {
  if (auto problem = keep_id_problem()) GTEST_SKIP() << *problem;
  std::string data = path("data");
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  auto root = ctr({"run", "--rm", "--userns=keep-id", "-u", "0", "-v", data + ":/data", "busybox", "sh", "-c",
                   "id -u; stat -c %u /data /bin"});
  ASSERT_EQ(root.code, 0) << root.describe();
  EXPECT_EQ(root.out, "0\n" + std::to_string(::getuid()) + "\n0\n");
  auto mapped = ctr({"run", "--rm", "--userns=keep-id:uid=5,gid=7", "-v", data + ":/data", "busybox", "sh", "-c",
                     "id -u; id -g; stat -c %u:%g /data /bin"});
  ASSERT_EQ(mapped.code, 0) << mapped.describe();
  EXPECT_EQ(mapped.out, "5\n7\n5:7\n0:0\n");
  std::string owned = path("owned");
  ASSERT_EQ(::mkdir(owned.c_str(), 0755), 0);
  auto chowned = ctr({"run", "--rm", "--userns=keep-id", "-v", owned + ":/o:U", "busybox", "stat", "-c", "%u", "/o"});
  ASSERT_EQ(chowned.code, 0) << chowned.describe();
  EXPECT_EQ(chowned.out, std::to_string(::getuid()) + "\n") << "U chowns to the keep-id user";
  struct stat st {};
  ASSERT_EQ(::stat(owned.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::getuid());
  auto made = ctr({"create", "--name", "k", "--userns=keep-id", "busybox", "true"});
  ASSERT_EQ(made.code, 0) << made.describe();
  auto mode = ctr({"inspect", "--format", "{{.HostConfig.UsernsMode}}", "k"});
  EXPECT_EQ(mode.code, 0) << mode.describe();
  EXPECT_EQ(mode.out, "keep-id\n");
}

// cp sees owners as the container does, running or stopped: image files
// stay root's, a file the keep-id user made is the user's.
TEST_F(CtrUsernsTest, KeepIdCpShowsTheContainersOwners) {
  if (auto problem = keep_id_problem()) GTEST_SKIP() << *problem;
  ASSERT_EQ(ctr({"run", "-d", "--name", "k", "--userns=keep-id", "busybox", "sh", "-c",
                 "touch /tmp/mine; exec sleep 100"})
                .code,
            0);
  ASSERT_TRUE(eventually([&] { return ctr({"exec", "k", "test", "-e", "/tmp/mine"}).code == 0; }));
  std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  auto listing = [&](const std::string& file) {
    auto out = run_tracked({"/bin/sh", "-c",
                            shell_quote(ctr_binary()) + " --root " + shell_quote(root_) + " cp k:" + file +
                                " - | tar -tv --numeric-owner -f -"});
    EXPECT_EQ(out.code, 0) << out.describe();
    return out.out;
  };
  auto check = [&](const char* state) {
    std::string image_file = listing("/bin/busybox"), made = listing("/tmp/mine");
    EXPECT_TRUE(contains(image_file, " 0/0 ")) << state << ": " << image_file;
    EXPECT_TRUE(contains(made, " " + uid + "/" + gid + " ")) << state << ": " << made;
  };
  check("running");
  ASSERT_EQ(ctr({"stop", "-t", "0", "k"}).code, 0);
  check("stopped");
}

TEST_F(CtrUsernsTest, BadUsernsValuesAreRefused) {
  for (const auto& [value, message] : std::vector<std::pair<std::string, std::string>>{
           {"keep-id:foo=1", "unknown keep-id option `foo=1`"},
           {"keep-id:uid=x", "`x` is not a valid ID"},
           {"keep-id:uid=99999999", "does not fit"},
           {"auto", "unsupported value"}}) {
    auto run = ctr({"run", "--rm", "--userns=" + value, "busybox", "true"});
    EXPECT_EQ(run.code, 125) << value << ": " << run.describe();
    EXPECT_TRUE(contains(run.err, message)) << value << ": " << run.describe();
  }
  auto listed = ctr({"ps", "-a", "-q"});
  EXPECT_EQ(listed.out, "");
}

}  // namespace
}  // namespace ctr::itest
