// Confinement as seen from inside: masked and read-only paths, a read-only
// root, capability sets, no_new_privs, seccomp rules and rlimits.
#include <unistd.h>

#include <map>

#include "runtime/base/strings.h"
#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Security : public RuntimeTest {};

// The /proc/mounts line whose mount point is `target` (the last one wins:
// later mounts cover earlier ones).
std::string mount_line(const std::string& mounts, const std::string& target) {
  std::string found;
  for (const auto& line : lines(mounts)) {
    auto fields = words(line);
    if (fields.size() >= 4 && fields[1] == target) found = line;
  }
  return found;
}

bool has_option(const std::string& line, const std::string& option) {
  auto fields = words(line);
  if (fields.size() < 4) return false;
  for (const auto& opt : split(fields[3], ',')) {
    if (opt == option) return true;
  }
  return false;
}

// Paths of the default masked/read-only lists that this kernel has (e.g.
// /proc/kcore and /proc/sysrq-trigger are compiled out on some).
std::vector<std::string> existing(std::vector<std::string> paths) {
  std::erase_if(paths, [](const std::string& path) { return !path_exists(path); });
  return paths;
}

TEST_F(Security, MaskedPathsAreEmpty) {
  // Unmasked, /proc/kcore and /proc/timer_list are unreadable here (mode
  // 0400, host root): masked, files read as empty and directories list empty.
  auto files = existing({"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"});
  auto dirs = existing({"/proc/acpi", "/proc/scsi", "/sys/firmware"});
  ASSERT_FALSE(files.empty() || dirs.empty()) << "none of the masked paths exists on this kernel";
  std::string script;
  for (const auto& f : files) script += "echo \"" + f + " $(wc -c < " + f + ")\";";
  for (const auto& d : dirs) script += "echo \"" + d + " $(ls -A " + d + " | wc -l)\";";
  auto bundle = make_bundle();
  bundle.shell(script + " echo --; cat /proc/mounts");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto out = lines(result.out.substr(0, result.out.find("--")));
  std::string mounts = result.out.substr(result.out.find("--") + 3);
  std::vector<std::string> expected;
  for (const auto& path : files) expected.push_back(path + " 0");
  for (const auto& path : dirs) expected.push_back(path + " 0");
  for (auto& line : out) line = trimmed(line);
  EXPECT_EQ(out, expected) << result.describe();
  for (const auto& path : files)
    EXPECT_FALSE(mount_line(mounts, path).empty()) << path << " is not masked:\n" << mounts;
  for (const auto& path : dirs) {
    auto line = mount_line(mounts, path);
    EXPECT_TRUE(has_option(line, "ro")) << path << " is not masked by a read-only mount:\n" << mounts;
  }
}

TEST_F(Security, ReadonlyPathsAreReadOnly) {
  auto bundle = make_bundle();
  auto paths = existing({"/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/fs", "/proc/irq"});
  paths.push_back("/tmp");
  // /tmp (a tmpfs the container could write) is added to the read-only
  // paths, so the write fails with EROFS rather than for lack of permission.
  bundle.readonly_paths(paths).shell(
      "touch /tmp/x; echo \"rc=$?\"; cat /proc/sys/kernel/hostname; echo --; cat /proc/mounts");
  auto result = run_bundle(bundle);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto out = lines(result.out.substr(0, result.out.find("--")));
  std::string mounts = result.out.substr(result.out.find("--") + 3);
  ASSERT_EQ(out.size(), 2u) << result.out;
  EXPECT_EQ(out[0], "rc=1");
  EXPECT_TRUE(contains_nocase(result.err, "Read-only file system"));
  EXPECT_EQ(out[1], "ctr-itest") << "read-only paths must stay readable";
  for (const auto& path : paths) {
    auto line = mount_line(mounts, path);
    EXPECT_TRUE(has_option(line, "ro")) << path << " is not mounted read-only: `" << line << "`";
  }
}

TEST_F(Security, ReadonlyRootRejectsWrites) {
  auto bundle = make_bundle();
  bundle.shell("mkdir /newdir; echo \"rc=$?\"; grep ' / ' /proc/mounts");
  auto result = run_bundle(bundle);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto out = lines(result.out);
  ASSERT_GE(out.size(), 2u) << result.out;
  EXPECT_EQ(out[0], "rc=1");
  EXPECT_TRUE(contains_nocase(result.err, "Read-only file system"));
  EXPECT_TRUE(has_option(out.back(), "ro")) << "/ is mounted read-write: " << out.back();
}

std::map<std::string, std::string> cap_lines(const std::string& status) {
  std::map<std::string, std::string> caps;
  for (const auto& line : lines(status)) {
    auto fields = words(line);
    if (fields.size() == 2 && starts_with(fields[0], "Cap")) caps[fields[0]] = fields[1];
  }
  return caps;
}

TEST_F(Security, CapabilitySetsMatchTheConfig) {
  auto bundle = make_bundle();
  bundle.capabilities({"CAP_CHOWN", "CAP_KILL"}).shell("grep ^Cap /proc/self/status");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto caps = cap_lines(result.out);
  std::string expected = capability_mask({"CAP_CHOWN", "CAP_KILL"});
  ASSERT_EQ(expected, "0000000000000021");
  EXPECT_EQ(caps["CapBnd:"], expected) << result.out;
  EXPECT_EQ(caps["CapEff:"], expected) << result.out;
  EXPECT_EQ(caps["CapPrm:"], expected) << result.out;
  EXPECT_EQ(caps["CapInh:"], "0000000000000000") << result.out;
  EXPECT_EQ(caps["CapAmb:"], "0000000000000000") << result.out;
}

TEST_F(Security, DefaultCapabilitySetAndAmbient) {
  auto bundle = make_bundle();
  bundle.process()["capabilities"]["inheritable"] = {"CAP_KILL"};
  bundle.process()["capabilities"]["ambient"] = {"CAP_KILL"};
  bundle.shell("grep ^Cap /proc/self/status");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  auto caps = cap_lines(result.out);
  std::string expected = capability_mask(default_capabilities());
  EXPECT_EQ(caps["CapBnd:"], expected) << result.out;
  EXPECT_EQ(caps["CapEff:"], expected) << result.out;
  EXPECT_EQ(caps["CapPrm:"], expected) << result.out;
  EXPECT_EQ(caps["CapInh:"], capability_mask({"CAP_KILL"})) << result.out;
  EXPECT_EQ(caps["CapAmb:"], capability_mask({"CAP_KILL"})) << result.out;
}

TEST_F(Security, DroppedCapabilityIsEnforced) {
  // A mode-000 file: root reads it only with CAP_DAC_OVERRIDE (or
  // CAP_DAC_READ_SEARCH), which the first container keeps and the second lacks.
  const std::string script = "echo secret > /tmp/f; chmod 000 /tmp/f; cat /tmp/f; echo rc=$?";
  auto with = make_bundle();
  with.shell(script);
  auto allowed = run_bundle(with);
  ASSERT_TRUE(allowed.ok()) << allowed.describe();
  EXPECT_EQ(allowed.out, "secret\nrc=0\n");

  auto without = make_bundle();
  without.capabilities({"CAP_KILL", "CAP_CHOWN"}).shell(script);
  auto denied = run_bundle(without);
  ASSERT_TRUE(denied.ok()) << denied.describe();
  EXPECT_EQ(denied.out, "rc=1\n");
  EXPECT_TRUE(contains_nocase(denied.err, "Permission denied"));
}

std::string status_field(const std::string& status, const std::string& name) {
  for (const auto& line : lines(status)) {
    auto fields = words(line);
    if (fields.size() >= 2 && fields[0] == name + ":") return fields[1];
  }
  return "";
}

TEST_F(Security, NoNewPrivilegesIsSet) {
  auto bundle = make_bundle();
  bundle.no_new_privileges(true).shell("cat /proc/self/status");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(status_field(result.out, "NoNewPrivs"), "1");
}

TEST_F(Security, NoNewPrivilegesOffIsNotSet) {
  if (status_field(slurp("/proc/self/status"), "NoNewPrivs") == "1")
    GTEST_SKIP() << "HOST-NO-NEW-PRIVS: the test process itself runs with no_new_privs, which children inherit";
  auto bundle = make_bundle();
  bundle.no_new_privileges(false).shell("cat /proc/self/status");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(status_field(result.out, "NoNewPrivs"), "0");
}

TEST_F(Security, SeccompRuleDeniesASyscall) {
  auto bundle = make_bundle();
  bundle.seccomp(
      {{"defaultAction", "SCMP_ACT_ALLOW"},
       {"syscalls", json::array({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}})}});
  bundle.shell(
      "mkdir /tmp/x; echo \"mkdir rc=$?\"; touch /tmp/y && echo touched; ls /tmp; grep ^Seccomp: /proc/self/status");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "mkdir rc=1\ntouched\ny\nSeccomp:\t2\n") << result.describe();
  EXPECT_TRUE(contains_nocase(result.err, "Operation not permitted"));
}

TEST_F(Security, SeccompArgumentFilter) {
  auto bundle = make_bundle();
  // kill(pid, 0) (a liveness probe) is denied; kill(pid, SIGCONT) is not.
  bundle.seccomp(
      {{"defaultAction", "SCMP_ACT_ALLOW"},
       {"syscalls", json::array({{{"names", {"kill"}},
                                  {"action", "SCMP_ACT_ERRNO"},
                                  {"errnoRet", 1},
                                  {"args", json::array({{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}})}}})}});
  bundle.shell("kill -0 $$; echo \"probe rc=$?\"; kill -CONT $$; echo \"cont rc=$?\"");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "probe rc=1\ncont rc=0\n") << result.describe();
  EXPECT_TRUE(contains_nocase(result.err, "Operation not permitted"));
}

TEST_F(Security, RlimitsAreApplied) {
  auto bundle = make_bundle();
  bundle.rlimit("RLIMIT_NOFILE", 512, 768).rlimit("RLIMIT_CORE", 0, 0).shell("ulimit -n; ulimit -Hn; ulimit -c");
  auto result = run_bundle(bundle);
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.out, "512\n768\n0\n");
}

}  // namespace
}  // namespace ctr::itest
