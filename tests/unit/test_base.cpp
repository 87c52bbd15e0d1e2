#include <gtest/gtest.h>

#include "runtime/base/child_process.h"
#include "runtime/base/file_lock.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

using namespace ctr;

TEST(Result, CarriesValueOrErrorWithContext) {
  Result<int> ok = 3;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  Result<int> bad = make_error("boom", EIO);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().context("doing x").message, "doing x: boom");
  EXPECT_EQ(bad.error().code, EIO);
}

TEST(Files, AtomicWriteReplacesWholeFile) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir) << dir.error().message;
  std::string path = dir->path() + "/f";
  ASSERT_TRUE(write_file_atomic(path, "one"));
  ASSERT_TRUE(write_file_atomic(path, "two"));
  EXPECT_EQ(*read_file(path), "two");
  auto missing = read_file(dir->path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST(Files, RemoveTreeRemovesNestedDirsButNotSymlinkTargets) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto outside = TempDir::create();
  ASSERT_TRUE(outside);
  ASSERT_TRUE(write_file_atomic(outside->path() + "/keep", "x"));
  ASSERT_TRUE(mkdir_p(dir->path() + "/a/b/c"));
  ASSERT_TRUE(write_file_atomic(dir->path() + "/a/b/c/f", "x"));
  ASSERT_EQ(::symlink(outside->path().c_str(), (dir->path() + "/a/link").c_str()), 0);
  ASSERT_TRUE(remove_tree(dir->path() + "/a"));
  EXPECT_FALSE(path_exists(dir->path() + "/a"));
  EXPECT_TRUE(path_exists(outside->path() + "/keep"));
}

TEST(FileLock, SecondExclusiveTryFailsWhileHeld) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto first = FileLock::acquire(dir->path() + "/lock");
  ASSERT_TRUE(first);
  auto second = FileLock::try_acquire(dir->path() + "/lock");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EWOULDBLOCK);
}

TEST(ChildProcess, ReportsExitCodeSignalAndTimeout) {
  auto exited = run_process({"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->code, 7);
  auto killed = run_process({"/bin/sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->signal, SIGTERM);
  auto slow = run_process({"/bin/sleep", "5"}, {}, std::chrono::milliseconds(50));
  ASSERT_TRUE(slow);
  EXPECT_TRUE(slow->timed_out);
}

TEST(ChildProcess, FeedsStdin) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  SpawnOptions options;
  options.stdin_data = "hello";
  auto status = run_process({"/bin/sh", "-c", "cat > " + dir->path() + "/out"}, options);
  ASSERT_TRUE(status);
  EXPECT_EQ(*read_file(dir->path() + "/out"), "hello");
}

TEST(Strings, SplitJoinTrimParse) {
  EXPECT_EQ(split("a:b::c", ':'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(trim("  x \n"), "x");
  EXPECT_EQ(parse_u64("42"), 42u);
  EXPECT_FALSE(parse_u64("42x"));
  EXPECT_FALSE(parse_u64(""));
  EXPECT_EQ(parse_i64("-3"), -3);
}
