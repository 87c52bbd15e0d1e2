// The container's filesystem: default devices and /dev symlinks, tmpfs
// mounts with options, read-only and read-write bind mounts of host
// directories, /dev/shm and /dev/mqueue.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/base/strings.h"
#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Mounts : public RuntimeTest {};

std::string mount_line(const std::string& mounts, const std::string& target) {
  std::string found;
  for (const auto& line : lines(mounts)) {
    auto fields = words(line);
    if (fields.size() >= 4 && fields[1] == target) found = line;
  }
  return found;
}

std::vector<std::string> mount_options(const std::string& line) {
  auto fields = words(line);
  return fields.size() >= 4 ? split(fields[3], ',') : std::vector<std::string>{};
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TEST_F(Mounts, DefaultDevicesExistAndWork) {
  auto bundle = make_bundle();
  bundle.shell(
      "for d in null zero full tty random urandom; do [ -c /dev/$d ] && echo \"$d char\"; done;"
      " echo x > /dev/null && echo null-write-ok;"
      " head -c 4 /dev/zero | tr -d '\\000' | wc -c;"
      " head -c 1 /dev/urandom | wc -c;"
      " head -c 1 /dev/random | wc -c;"
      " head -c 3 /dev/full | tr -d '\\000' | wc -c;"
      " (echo x > /dev/full) 2>/dev/null || echo full-write-fails");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  std::vector<std::string> expected = {
      "null char",     "zero char", "full char", "tty char", "random char", "urandom char",
      "null-write-ok", "0",         "1",         "1",        "0",           "full-write-fails"};
  for (auto& line : out) line = trimmed(line);
  EXPECT_EQ(out, expected) << result.describe();
}

TEST_F(Mounts, DevSymlinks) {
  auto bundle = make_bundle();
  bundle.shell(
      "for l in fd stdin stdout stderr ptmx; do echo \"$l -> $(readlink /dev/$l)\"; done; ls /dev/fd/ >/dev/null && "
      "echo fd-listable");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out,
            "fd -> /proc/self/fd\n"
            "stdin -> /proc/self/fd/0\n"
            "stdout -> /proc/self/fd/1\n"
            "stderr -> /proc/self/fd/2\n"
            "ptmx -> pts/ptmx\n"
            "fd-listable\n");
}

TEST_F(Mounts, DevPtsShmAndMqueue) {
  auto bundle = make_bundle();
  bundle.shell("echo shared > /dev/shm/f && cat /dev/shm/f; echo --; cat /proc/mounts");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out.substr(0, result.out.find("--")), "shared\n");
  std::string mounts = result.out.substr(result.out.find("--") + 3);
  auto shm = mount_line(mounts, "/dev/shm");
  auto mqueue = mount_line(mounts, "/dev/mqueue");
  auto pts = mount_line(mounts, "/dev/pts");
  ASSERT_FALSE(shm.empty()) << mounts;
  ASSERT_FALSE(mqueue.empty()) << mounts;
  ASSERT_FALSE(pts.empty()) << mounts;
  EXPECT_EQ(words(shm)[2], "tmpfs");
  EXPECT_TRUE(has(mount_options(shm), "nodev")) << shm;
  EXPECT_EQ(words(mqueue)[2], "mqueue");
  EXPECT_EQ(words(pts)[2], "devpts");
}

TEST_F(Mounts, TmpfsWithOptions) {
  auto bundle = make_bundle();
  // On a mount point the runtime creates (inside the /tmp tmpfs): runc lets
  // the mode of an existing mount point directory override `mode=`.
  bundle
      .add_mount({{"destination", "/tmp/opt"},
                  {"type", "tmpfs"},
                  {"source", "tmpfs"},
                  {"options", {"nosuid", "nodev", "noexec", "size=1m", "mode=1770"}}})
      .shell(
          "stat -c %a /tmp/opt; cp /bin/busybox /tmp/opt/bb 2>/dev/null; /tmp/opt/bb true; echo \"exec rc=$?\";"
          " dd if=/dev/zero of=/tmp/opt/big bs=1k count=2048 2>/dev/null; echo \"fill rc=$?\";"
          " grep ' /tmp/opt ' /proc/mounts");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 4u) << result.describe();
  EXPECT_EQ(out[0], "1770");
  EXPECT_NE(out[1], "exec rc=0") << "noexec not applied";
  EXPECT_NE(out[2], "fill rc=0") << "size=1m not applied: 2 MiB fit";
  auto options = mount_options(out[3]);
  EXPECT_EQ(words(out[3])[2], "tmpfs");
  for (const char* option : {"nosuid", "nodev", "noexec", "size=1024k", "mode=1770"})
    EXPECT_TRUE(has(options, option)) << option << " missing in " << out[3];
}

TEST_F(Mounts, ReadonlyBindOfAHostDirectory) {
  std::string data = host_dir("data");
  ASSERT_TRUE(write_file_atomic(data + "/hello.txt", "hello from the host\n"));
  auto bundle = make_bundle();
  bundle.bind(data, "/var", true)
      .shell("cat /var/hello.txt; touch /var/new; echo \"rc=$?\"; grep ' /var ' /proc/mounts");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 3u) << result.describe();
  EXPECT_EQ(out[0], "hello from the host");
  EXPECT_EQ(out[1], "rc=1");
  EXPECT_TRUE(contains_nocase(result.err, "Read-only file system"));
  EXPECT_TRUE(has(mount_options(out[2]), "ro")) << out[2];
  EXPECT_FALSE(path_exists(data + "/new"));
}

TEST_F(Mounts, ReadWriteBindOfAHostDirectory) {
  std::string data = host_dir("data");
  auto bundle = make_bundle();
  bundle.bind(data, "/var", false).shell("echo written-inside > /var/out.txt && mkdir /var/sub && echo ok");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "ok\n");
  EXPECT_EQ(slurp(data + "/out.txt"), "written-inside\n");
  struct stat st {};
  ASSERT_EQ(::stat((data + "/out.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::getuid()) << "container root does not map to the caller";
}

TEST_F(Mounts, BindMountOfAFile) {
  std::string data = host_dir("data");
  ASSERT_TRUE(write_file_atomic(data + "/motd", "file bind\n"));
  auto bundle = make_bundle();
  // The destination does not exist in the rootfs: the runtime creates it
  // under a tmpfs that is mounted first.
  bundle.tmpfs("/run").bind(data + "/motd", "/run/etc/motd", true).shell("cat /run/etc/motd");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "file bind\n");
}

}  // namespace
}  // namespace ctr::itest
