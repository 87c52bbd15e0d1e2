// `ctr cp` and `ctr export` for real, as the unprivileged user: both
// directions on created and running containers, modes, mtimes, symlinks and
// owners through the user namespace, tar streams on stdin/stdout, errors,
// and export -> import -> run.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using CtrCpTest = CtrContainerTest;

CommandOutput sh(const std::string& script) {
  return run_tracked({"/bin/sh", "-c", script});
}

TEST_F(CtrCpTest, CopiesBothWaysOnACreatedContainer) {
  ASSERT_EQ(ctr({"create", "--name", "box", "busybox", "sleep", "100"}).code, 0);
  std::string src = path("src");
  ASSERT_TRUE(mkdir_p(src + "/sub").ok());
  ASSERT_TRUE(write_file_atomic(src + "/sub/file", "content\n").ok());
  ASSERT_EQ(::chmod((src + "/sub/file").c_str(), 0750), 0);
  ASSERT_EQ(::symlink("sub/file", (src + "/link").c_str()), 0);
  ASSERT_EQ(sh("touch -h -d '2001-02-03 04:05:06' " + src + "/sub/file").code, 0);

  auto in = ctr({"cp", src, "box:/tmp/"});
  ASSERT_EQ(in.code, 0) << in.describe();
  auto in_file = ctr({"cp", src + "/sub/file", "box:/etc/renamed"});
  ASSERT_EQ(in_file.code, 0) << in_file.describe();

  // Owners inside: container root (the container's user), seen in a tar stream.
  auto listing = sh(shell_quote(ctr_binary()) + " --root " + shell_quote(root_) +
                    " cp box:/tmp/src - | tar -tv --numeric-owner -f -");
  ASSERT_EQ(listing.code, 0) << listing.describe();
  EXPECT_NE(listing.out.find("0/0"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("src/link -> sub/file"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("-rwxr-x--- 0/0"), std::string::npos) << listing.out;

  std::string back = path("back");
  auto out = ctr({"cp", "box:/tmp/src", back});
  ASSERT_EQ(out.code, 0) << out.describe();
  auto text = read_file(back + "/sub/file");
  ASSERT_TRUE(text.ok()) << "copied as a new directory";
  EXPECT_EQ(*text, "content\n");
  struct stat st {};
  ASSERT_EQ(::lstat((back + "/sub/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, ::getuid()) << "container root comes out as you";
  ASSERT_EQ(::lstat((back + "/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  auto mtime = sh("date -u -r " + back + "/sub/file +%Y");
  EXPECT_EQ(mtime.out, "2001\n") << mtime.describe();

  auto renamed = ctr({"cp", "box:/etc/renamed", path("one")});
  ASSERT_EQ(renamed.code, 0) << renamed.describe();
  EXPECT_EQ(read_file(path("one")).value(), "content\n");
  // Into an existing directory: under the source's name.
  ASSERT_EQ(ctr({"cp", "box:/etc/passwd", dir_->path()}).code, 0);
  EXPECT_TRUE(path_exists(path("passwd")));
}

TEST_F(CtrCpTest, RunningContainerSeesCopiesAndUserOwnsThem) {
  auto started = ctr({"run", "-d", "--name", "live", "-u", "1000:1000", "busybox", "sh", "-c",
                      "while [ ! -f /tmp/go ]; do sleep 0.1; done; cat /tmp/go; stat -c %u:%g /tmp/go; sleep 100"});
  ASSERT_EQ(started.code, 0) << started.describe();
  ASSERT_TRUE(write_file_atomic(path("go"), "copied in\n").ok());
  auto in = ctr({"cp", path("go"), "live:/tmp/go"});
  ASSERT_EQ(in.code, 0) << in.describe();
  std::string logs;
  EXPECT_TRUE(eventually([&] {
    logs = ctr({"logs", "live"}).out;
    return logs.find("1000:1000") != std::string::npos;
  })) << logs;
  EXPECT_NE(logs.find("copied in"), std::string::npos) << logs;
  auto out = ctr({"cp", "live:/tmp/go", path("again")});
  ASSERT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(read_file(path("again")).value(), "copied in\n");
}

TEST_F(CtrCpTest, TarStreamFromStdin) {
  ASSERT_EQ(ctr({"create", "--name", "box", "busybox", "true"}).code, 0);
  ASSERT_TRUE(mkdir_p(path("t/d")).ok());
  ASSERT_TRUE(write_file_atomic(path("t/d/f"), "x\n").ok());
  auto piped = sh("tar -C " + path("t") + " -cf - d | " + shell_quote(ctr_binary()) + " --root " +
                  shell_quote(root_) + " cp - box:/root");
  ASSERT_EQ(piped.code, 0) << piped.describe();
  ASSERT_EQ(ctr({"cp", "box:/root/d/f", path("f")}).code, 0);
  EXPECT_EQ(read_file(path("f")).value(), "x\n");
  auto not_dir = sh("tar -C " + path("t") + " -cf - d | " + shell_quote(ctr_binary()) + " --root " +
                    shell_quote(root_) + " cp - box:/etc/passwd");
  EXPECT_EQ(not_dir.code, 125) << not_dir.describe();
}

TEST_F(CtrCpTest, Errors) {
  ASSERT_EQ(ctr({"create", "--name", "box", "busybox", "true"}).code, 0);
  auto missing = ctr({"cp", "box:/nope", path("x")});
  EXPECT_EQ(missing.code, 125) << missing.describe();
  EXPECT_NE(missing.err.find("/nope"), std::string::npos) << missing.describe();
  EXPECT_FALSE(path_exists(path("x")));
  auto host_missing = ctr({"cp", path("nope"), "box:/tmp"});
  EXPECT_EQ(host_missing.code, 125) << host_missing.describe();
  EXPECT_NE(host_missing.err.find("nope"), std::string::npos) << host_missing.describe();
  auto no_container = ctr({"cp", "ghost:/etc/passwd", path("x")});
  EXPECT_EQ(no_container.code, 125) << no_container.describe();
  EXPECT_NE(no_container.err.find("ghost"), std::string::npos) << no_container.describe();
  auto both_host = ctr({"cp", path("a"), path("b")});
  EXPECT_EQ(both_host.code, 125) << both_host.describe();
  auto no_parent = ctr({"cp", "box:/etc/passwd", path("no/such/dir")});
  EXPECT_EQ(no_parent.code, 125) << no_parent.describe();
}

TEST_F(CtrCpTest, ExportImportsAsAWorkingImage) {
  ASSERT_EQ(ctr({"run", "--name", "src", "busybox", "sh", "-c", "echo made > /marker"}).code, 0);
  std::string tarball = path("export.tar");
  auto exported = ctr({"export", "-o", tarball, "src"});
  ASSERT_EQ(exported.code, 0) << exported.describe();
  auto listing = run_tracked({"tar", "-tf", tarball});
  EXPECT_NE(listing.out.find("bin/busybox"), std::string::npos);
  EXPECT_NE(listing.out.find("marker"), std::string::npos);
  auto imported = ctr({"import", tarball, "exported"});
  ASSERT_EQ(imported.code, 0) << imported.describe();
  auto ran = ctr({"run", "--rm", "exported", "cat", "/marker"});
  EXPECT_EQ(ran.code, 0) << ran.describe();
  EXPECT_EQ(ran.out, "made\n");
  auto to_stdout = sh(shell_quote(ctr_binary()) + " --root " + shell_quote(root_) + " export src | tar -tf - | wc -l");
  EXPECT_EQ(to_stdout.code, 0) << to_stdout.describe();
  EXPECT_GT(std::stoi(std::string(trim(to_stdout.out))), 10);
  auto unknown = ctr({"export", "-o", tarball, "ghost"});
  EXPECT_EQ(unknown.code, 125) << unknown.describe();
}

}  // namespace
}  // namespace ctr::itest
