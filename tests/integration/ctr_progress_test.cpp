// `ctr load` progress on a real terminal (a pseudo-terminal from script(1)):
// one "Copying blob" line per layer that ends as "done", even when layers
// unpack in parallel; nothing but the result with -q or without a terminal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_cli.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

// The screen a terminal shows after `output`: enough of a VT100 for what
// ctr writes (CR, LF, erase to end of line, cursor up); other escapes fail
// the test, since ctr must not emit them.
std::vector<std::string> screen_after(const std::string& output) {
  std::vector<std::string> rows{""};
  size_t row = 0, col = 0;
  for (size_t i = 0; i < output.size(); ++i) {
    char c = output[i];
    if (c == '\r') {
      col = 0;
    } else if (c == '\n') {
      if (++row == rows.size()) rows.emplace_back();
      col = 0;
    } else if (c == '\033' && i + 1 < output.size() && output[i + 1] == '[') {
      size_t end = output.find_first_of("ABCDHJKm", i + 2);
      if (end == std::string::npos) break;
      std::string arg = output.substr(i + 2, end - i - 2);
      int n = arg.empty() ? 1 : std::atoi(arg.c_str());
      if (output[end] == 'K') {
        rows[row].resize(std::min(rows[row].size(), col));
      } else if (output[end] == 'A') {
        row = row >= static_cast<size_t>(n) ? row - static_cast<size_t>(n) : 0;
      } else {
        ADD_FAILURE() << "unexpected escape ESC[" << arg << output[end];
      }
      i = end;
    } else {
      if (rows[row].size() <= col) rows[row].resize(col, ' ');
      rows[row].replace(col, 1, 1, c);
      ++col;
    }
  }
  while (!rows.empty() && rows.back().empty()) rows.pop_back();
  return rows;
}

class CtrProgress : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
    if (::access(ctr_binary().c_str(), X_OK) != 0) FAIL() << "CTR_BIN=" << ctr_binary() << " is not an executable";
    if (!have_tool("script"))
      GTEST_SKIP() << "NO-SCRIPT: script(1) from bsdutils is needed to give ctr a terminal";
    if (busybox_rootfs().empty()) FAIL() << "no busybox fixture: " << fixture_error();
    auto dir = TempDir::create("ctr-progress-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/store";
  }
  void TearDown() override {
    if (dir_) (void)run_command({ctr_binary(), "--root", root_, "unshare", "rm", "-rf", root_});
  }
  std::string ctr_command(const std::string& args) const {
    return shell_quote(ctr_binary()) + " --root " + shell_quote(root_) + " " + args;
  }
  // Runs a ctr command line on a pseudo-terminal; returns what the terminal received.
  CommandOutput on_terminal(const std::string& args) {
    return run_shell("script -qfec " + shell_quote(ctr_command(args)) + " /dev/null");
  }
  // A docker-archive of busybox (one layer), made by ctr; the store is left empty.
  std::string busybox_archive() {
    std::string tarball = dir_->path() + "/rootfs.tar";
    std::string archive = dir_->path() + "/busybox.tar";
    auto made = run_shell("tar -C " + shell_quote(busybox_rootfs()) + " --exclude=./.complete -cf " +
                          shell_quote(tarball) + " . && " + ctr_command("import -q " + shell_quote(tarball) + " busybox") +
                          " >/dev/null && " + ctr_command("save -q -o " + shell_quote(archive) + " busybox") + " && " +
                          ctr_command("rmi busybox") + " >/dev/null");
    EXPECT_EQ(made.code, 0) << made.describe();
    return archive;
  }

  std::optional<TempDir> dir_;
  std::string root_;
};

const std::regex kDoneLine("Copying blob [0-9a-f]{12}  [0-9.]+ [kMG]?B( / [0-9.]+ [kMG]?B)?  done");

TEST_F(CtrProgress, TerminalShowsOneLinePerLayer) {
  std::string archive = busybox_archive();
  auto out = on_terminal("load -i " + shell_quote(archive));
  ASSERT_EQ(out.code, 0) << out.describe();
  auto screen = screen_after(out.out);
  ASSERT_EQ(screen.size(), 2u) << out.out;
  EXPECT_TRUE(std::regex_match(screen[0], kDoneLine)) << screen[0];
  EXPECT_EQ(screen[1], "Loaded image: localhost/busybox:latest");
}

// Three layers unpack in parallel: still one line each, all done at the end.
TEST_F(CtrProgress, ParallelLayersKeepTheirLines) {
  const char* fixtures = std::getenv("CTR_FIXTURES");
  std::string archive = std::string(fixtures && *fixtures ? fixtures : "/var/tmp/ctr-test-fixtures") +
                        "/debian/debian-two.oci.tar";
  if (!path_exists(archive))
    GTEST_SKIP() << "NO-DEBIAN-FIXTURE: " << archive
                 << " is missing: build it as root with tests/fixtures/build-debian-image.sh";
  auto out = on_terminal("load -i " + shell_quote(archive));
  ASSERT_EQ(out.code, 0) << out.describe();
  auto screen = screen_after(out.out);
  ASSERT_EQ(screen.size(), 4u) << out.out;
  std::vector<std::string> blobs;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::regex_match(screen[i], kDoneLine)) << screen[i];
    blobs.push_back(screen[i].substr(13, 12));
  }
  std::sort(blobs.begin(), blobs.end());
  EXPECT_EQ(std::unique(blobs.begin(), blobs.end()), blobs.end()) << "a layer has two lines";
  EXPECT_EQ(screen[3], "Loaded image: localhost/debian-two:latest");
}

TEST_F(CtrProgress, QuietOnTerminalPrintsOnlyTheResult) {
  std::string archive = busybox_archive();
  auto out = on_terminal("load -q -i " + shell_quote(archive));
  ASSERT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(out.out, "Loaded image: localhost/busybox:latest\r\n");
}

TEST_F(CtrProgress, NoTerminalPrintsOnlyTheResult) {
  std::string archive = busybox_archive();
  auto out = run_shell(ctr_command("load -i " + shell_quote(archive)));
  ASSERT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(out.out, "Loaded image: localhost/busybox:latest\n");
  EXPECT_EQ(out.err, "");
  // Nor for import.
  auto imported = run_shell("tar -C " + shell_quote(busybox_rootfs()) + " -cf - ./bin/busybox | " +
                            ctr_command("import - small"));
  ASSERT_EQ(imported.code, 0) << imported.describe();
  EXPECT_TRUE(std::regex_match(imported.out, std::regex("[0-9a-f]{64}\n"))) << imported.out;
  EXPECT_EQ(imported.err, "");
}

}  // namespace
}  // namespace ctr::itest
