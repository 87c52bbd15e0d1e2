// Volumes for real, as the unprivileged user: `ctr volume` create/ls/
// inspect/rm/prune, and run's -v (named, anonymous, bind, ro, U), --mount,
// --tmpfs and image VOLUMEs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using CtrVolumeTest = CtrContainerTest;

TEST_F(CtrVolumeTest, CreateListInspectRemovePrune) {
  auto made = ctr({"volume", "create", "--label", "app=web", "data"});
  ASSERT_EQ(made.code, 0) << made.describe();
  EXPECT_EQ(trim(made.out), "data");
  auto again = ctr({"volume", "create", "data"});
  EXPECT_EQ(again.code, 125) << again.describe();
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.describe();
  auto anonymous = ctr({"volume", "create"});
  ASSERT_EQ(anonymous.code, 0) << anonymous.describe();
  std::string generated(trim(anonymous.out));
  EXPECT_TRUE(std::regex_match(generated, std::regex("[0-9a-f]{64}"))) << generated;

  auto listed = ctr({"volume", "ls"});
  ASSERT_EQ(listed.code, 0) << listed.describe();
  EXPECT_NE(listed.out.find("DRIVER"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("local       data"), std::string::npos) << listed.out;
  auto by_label = ctr({"volume", "ls", "-q", "--filter", "label=app=web"});
  EXPECT_EQ(by_label.out, "data\n") << by_label.describe();
  auto bad_filter = ctr({"volume", "ls", "--filter", "colour=red"});
  EXPECT_EQ(bad_filter.code, 125) << bad_filter.describe();

  auto inspected = ctr({"volume", "inspect", "data"});
  ASSERT_EQ(inspected.code, 0) << inspected.describe();
  auto doc = nlohmann::json::parse(inspected.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["Name"], "data");
  EXPECT_EQ(doc[0]["Driver"], "local");
  EXPECT_EQ(doc[0]["Scope"], "local");
  EXPECT_EQ(doc[0]["Labels"]["app"], "web");
  EXPECT_EQ(doc[0]["Mountpoint"], root_ + "/volumes/data/_data");
  EXPECT_TRUE(std::regex_match(doc[0]["CreatedAt"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)")));
  auto format = ctr({"volume", "inspect", "--format", "{{.Name}} {{.Driver}}", "data"});
  EXPECT_EQ(format.out, "data local\n") << format.describe();
  auto missing = ctr({"volume", "inspect", "nosuch"});
  EXPECT_EQ(missing.code, 125) << missing.describe();
  EXPECT_NE(missing.err.find("no such volume nosuch"), std::string::npos) << missing.describe();

  auto rm_missing = ctr({"volume", "rm", "nosuch"});
  EXPECT_EQ(rm_missing.code, 1) << rm_missing.describe();
  auto removed = ctr({"volume", "rm", "data"});
  EXPECT_EQ(removed.code, 0) << removed.describe();
  EXPECT_FALSE(path_exists(root_ + "/volumes/data"));
  auto pruned = ctr({"volume", "prune", "-f"});
  EXPECT_EQ(pruned.code, 0) << pruned.describe();
  EXPECT_EQ(pruned.out, generated + "\n");
  EXPECT_EQ(ctr({"volume", "ls", "-q"}).out, "");
}

TEST_F(CtrVolumeTest, NamedVolumeIsSharedAndReadOnlyIsEnforced) {
  auto wrote = ctr({"run", "--rm", "-v", "shared:/data", "busybox", "sh", "-c", "echo hello > /data/f"});
  ASSERT_EQ(wrote.code, 0) << wrote.describe();
  EXPECT_EQ(ctr({"volume", "ls", "-q"}).out, "shared\n") << "created on first use";
  auto read = ctr({"run", "--rm", "--mount", "type=volume,source=shared,target=/in,ro", "busybox", "cat", "/in/f"});
  EXPECT_EQ(read.code, 0) << read.describe();
  EXPECT_EQ(read.out, "hello\n");
  auto readonly = ctr({"run", "--rm", "-v", "shared:/data:ro", "busybox", "sh", "-c", "echo x > /data/g"});
  EXPECT_NE(readonly.code, 0) << readonly.describe();
  EXPECT_NE(readonly.err.find("Read-only file system"), std::string::npos) << readonly.describe();
  auto data = read_file(root_ + "/volumes/shared/_data/f");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "hello\n");

  // In use: an error with podman's exit code 2, unless -f removes the user.
  ASSERT_EQ(ctr({"create", "--name", "user", "-v", "shared:/data", "busybox", "true"}).code, 0);
  auto busy = ctr({"volume", "rm", "shared"});
  EXPECT_EQ(busy.code, 2) << busy.describe();
  EXPECT_NE(busy.err.find("being used"), std::string::npos) << busy.describe();
  EXPECT_EQ(ctr({"volume", "prune", "-f"}).out, "") << "a used volume is not pruned";
  auto forced = ctr({"volume", "rm", "-f", "shared"});
  EXPECT_EQ(forced.code, 0) << forced.describe();
  EXPECT_EQ(ctr({"ps", "-a", "-q"}).out, "") << "the container using it is gone too";
}

TEST_F(CtrVolumeTest, BindMountsAndTheUOption) {
  std::string host = path("host");
  ASSERT_TRUE(mkdir_p(host).ok());
  ASSERT_TRUE(write_file_atomic(host + "/in", "from host\n").ok());
  auto bound = ctr({"run", "--rm", "-v", host + ":/b:z", "busybox", "sh", "-c", "cat /b/in; echo back > /b/out"});
  ASSERT_EQ(bound.code, 0) << bound.describe();
  EXPECT_EQ(bound.out, "from host\n");
  struct stat st {};
  ASSERT_EQ(::stat((host + "/out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::getuid()) << "container root is the host user";

  auto ro = ctr({"run", "--rm", "--mount", "type=bind,source=" + host + ",target=/b,readonly", "busybox", "touch",
                 "/b/x"});
  EXPECT_NE(ro.code, 0) << ro.describe();

  std::string owned = path("owned");
  ASSERT_TRUE(mkdir_p(owned).ok());
  auto chowned = ctr({"run", "--rm", "-u", "1000:1000", "-v", owned + ":/o:U", "busybox", "sh", "-c",
                      "touch /o/made && stat -c '%u:%g' /o"});
  ASSERT_EQ(chowned.code, 0) << chowned.describe();
  EXPECT_EQ(chowned.out, "1000:1000\n");
  ASSERT_EQ(::stat(owned.c_str(), &st), 0);
  EXPECT_NE(st.st_uid, ::getuid()) << "owned by a subordinate UID on the host";
  auto inside = ctr({"unshare", "stat", "-c", "%u", owned + "/made"});
  EXPECT_EQ(inside.out, "1000\n") << inside.describe();
  (void)ctr({"unshare", "rm", "-rf", owned});  // subordinate owners: TempDir could not remove it

  auto missing = ctr({"run", "--rm", "-v", path("nope") + ":/x", "busybox", "true"});
  EXPECT_EQ(missing.code, 125) << missing.describe();
  EXPECT_NE(missing.err.find("no such file or directory"), std::string::npos) << missing.describe();
  auto bad_name = ctr({"run", "--rm", "-v", "rel/path:/x", "busybox", "true"});
  EXPECT_EQ(bad_name.code, 125) << bad_name.describe();
  auto bad_option = ctr({"run", "--rm", "-v", host + ":/x:bogus", "busybox", "true"});
  EXPECT_EQ(bad_option.code, 125) << bad_option.describe();
  EXPECT_NE(bad_option.err.find("bogus"), std::string::npos) << bad_option.describe();
}

TEST_F(CtrVolumeTest, TmpfsAndAnonymousVolumes) {
  auto tmpfs = ctr({"run", "--rm", "--tmpfs", "/t1", "--mount", "type=tmpfs,target=/t2,tmpfs-size=1m,tmpfs-mode=700",
                    "busybox", "sh", "-c", "grep -E ' /t[12] ' /proc/mounts; stat -c %a /t2"});
  ASSERT_EQ(tmpfs.code, 0) << tmpfs.describe();
  EXPECT_NE(tmpfs.out.find("tmpfs /t1 tmpfs"), std::string::npos) << tmpfs.out;
  EXPECT_NE(tmpfs.out.find("noexec"), std::string::npos) << tmpfs.out;
  EXPECT_NE(tmpfs.out.find("size=1024k"), std::string::npos) << tmpfs.out;
  EXPECT_NE(tmpfs.out.find("\n700\n"), std::string::npos) << tmpfs.out;

  ASSERT_EQ(ctr({"create", "--name", "anon", "-v", "/scratch", "busybox", "true"}).code, 0);
  auto listed = ctr({"volume", "ls", "-q"});
  EXPECT_TRUE(std::regex_match(listed.out, std::regex("[0-9a-f]{64}\n"))) << listed.describe();
  ASSERT_EQ(ctr({"rm", "anon"}).code, 0);
  EXPECT_EQ(ctr({"volume", "prune", "-f"}).out, listed.out);

  // An image VOLUME gets an anonymous volume.
  auto imported = ctr({"import", "-c", "VOLUME /vol", path("rootfs.tar.gz"), "withvol"});
  ASSERT_EQ(imported.code, 0) << imported.describe();
  auto mounted = ctr({"run", "--name", "iv", "withvol", "sh", "-c", "grep ' /vol ' /proc/mounts && touch /vol/x"});
  EXPECT_EQ(mounted.code, 0) << mounted.describe();
  auto volumes = ctr({"volume", "ls", "-q"});
  EXPECT_TRUE(std::regex_match(volumes.out, std::regex("[0-9a-f]{64}\n"))) << volumes.describe();
}

}  // namespace
}  // namespace ctr::itest
