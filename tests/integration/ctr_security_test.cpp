// The security and environment flags of `ctr run/create`, for real, as the
// unprivileged user: the default seccomp profile and its capability gates,
// seccomp profile files, --security-opt, capabilities, --privileged,
// --read-only, --ulimit, --shm-size, --device, --group-add, --env-file,
// --env-host, labels, annotations, --stop-signal/--stop-timeout, and the
// errors for bad values.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

class CtrSecurityTest : public CtrContainerTest {
 protected:
  // `ctr run --rm FLAGS... busybox sh -c SCRIPT`
  CommandOutput sh(std::vector<std::string> flags, const std::string& script) {
    std::vector<std::string> args{"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"busybox", "sh", "-c", script});
    return ctr(args);
  }
  std::string status_field(std::vector<std::string> flags, const std::string& field) {
    auto out = sh(std::move(flags), "grep '^" + field + ":' /proc/self/status");
    EXPECT_EQ(out.code, 0) << out.describe();
    return std::string(trim(out.out));
  }
  void expect_error(const CommandOutput& out, const std::string& text) {
    EXPECT_EQ(out.code, 125) << out.describe();
    EXPECT_NE(out.err.find(text), std::string::npos) << out.describe();
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string file = path(name);
    EXPECT_TRUE(write_file_atomic(file, text, 0644).ok());
    return file;
  }
};

TEST_F(CtrSecurityTest, DefaultSeccompProfileIsAppliedAndCanBeTurnedOff) {
  EXPECT_EQ(status_field({}, "Seccomp"), "Seccomp:\t2");
  EXPECT_EQ(status_field({"--security-opt", "seccomp=unconfined"}, "Seccomp"), "Seccomp:\t0");
  EXPECT_EQ(status_field({"--privileged"}, "Seccomp"), "Seccomp:\t0");
  // Ordinary work is allowed: files, processes, pipes, sockets.
  auto normal = sh({}, "mkdir /d && echo x > /d/f && cat /d/f | wc -c && ls / >/dev/null && echo ok");
  EXPECT_EQ(normal.code, 0) << normal.describe();
  EXPECT_EQ(normal.out, "2\nok\n");
}

TEST_F(CtrSecurityTest, CapabilityGatedSyscallsFollowTheBoundingSet) {
  auto denied = sh({}, "hostname changed");
  EXPECT_NE(denied.code, 0) << denied.describe();
  EXPECT_NE(denied.err.find("Operation not permitted"), std::string::npos) << denied.describe();
  auto allowed = sh({"--cap-add", "sys_admin"}, "hostname changed && hostname");
  EXPECT_EQ(allowed.code, 0) << allowed.describe();
  EXPECT_EQ(allowed.out, "changed\n");
  EXPECT_EQ(status_field({"--cap-drop", "ALL", "--cap-add", "CAP_NET_RAW"}, "CapBnd"), "CapBnd:\t0000000000002000");
  auto no_chroot = sh({"--cap-drop", "SYS_CHROOT"}, "chroot / true");
  EXPECT_NE(no_chroot.code, 0) << no_chroot.describe();
  expect_error(ctr({"run", "--rm", "--cap-add", "CAP_FLY", "busybox", "true"}), "unknown capability `CAP_FLY`");
}

TEST_F(CtrSecurityTest, SeccompProfileFile) {
  std::string profile = write("deny-mkdir.json", R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                 {"names": ["syscall_of_the_future"], "action": "SCMP_ACT_ERRNO"}]})");
  auto out = sh({"--security-opt", "seccomp=" + profile}, "touch /ok && mkdir /denied");
  EXPECT_EQ(out.code, 1) << out.describe();
  EXPECT_NE(out.err.find("Operation not permitted"), std::string::npos) << out.describe();

  expect_error(ctr({"run", "--rm", "--security-opt", "seccomp=" + write("bad.json", "{ nope"), "busybox", "true"}),
               "seccomp profile " + path("bad.json") + ": not valid JSON");
  expect_error(ctr({"run", "--rm", "--security-opt",
                    "seccomp=" + write("bad-action.json", R"({"defaultAction": "SCMP_ACT_MAYBE"})"), "busybox",
                    "true"}),
               "unknown action");
  expect_error(ctr({"run", "--rm", "--security-opt", "seccomp=" + path("missing.json"), "busybox", "true"}),
               "cannot read seccomp profile " + path("missing.json"));
  EXPECT_EQ(trim(ctr({"ps", "-a", "-q"}).out), "") << "a failed create left a container";
}

TEST_F(CtrSecurityTest, SecurityOptions) {
  EXPECT_EQ(status_field({"--security-opt", "no-new-privileges"}, "NoNewPrivs"), "NoNewPrivs:\t1");
  EXPECT_EQ(status_field({}, "NoNewPrivs"), "NoNewPrivs:\t0");
  auto masked = sh({"--security-opt", "mask=/etc/passwd", "--security-opt", "label=disable"},
                   "wc -c < /etc/passwd");
  EXPECT_EQ(masked.code, 0) << masked.describe();
  EXPECT_EQ(trim(masked.out), "0");
  // A masked path is a mount over it (/dev/null or an empty tmpfs).
  auto masks = [&](std::vector<std::string> flags) {
    return trim(sh(std::move(flags), "grep -c ' /proc/timer_list ' /proc/self/mountinfo").out);
  };
  EXPECT_EQ(masks({}), "1");
  EXPECT_EQ(masks({"--security-opt", "unmask=ALL"}), "0");
  EXPECT_EQ(masks({"--security-opt", "unmask=/proc/timer_list"}), "0");
  expect_error(ctr({"run", "--rm", "--security-opt", "bogus=1", "busybox", "true"}), "unknown --security-opt");
  expect_error(ctr({"run", "--rm", "--security-opt", "label=type:spc_t", "busybox", "true"}), "not supported");
  expect_error(ctr({"run", "--rm", "--userns", "keep-id:size=1", "busybox", "true"}), "keep-id");
  expect_error(ctr({"run", "--rm", "--userns", "private", "busybox", "true"}), "--userns private");
  EXPECT_EQ(ctr({"run", "--rm", "--userns", "host", "busybox", "true"}).code, 0);
}

TEST_F(CtrSecurityTest, PrivilegedGetsEveryCapabilityAndNoMasks) {
  EXPECT_EQ(status_field({}, "CapEff"), "CapEff:\t00000000800405fb") << "podman's rootless set";
  EXPECT_NE(status_field({"--privileged"}, "CapEff"), "CapEff:\t00000000800405fb");
  auto out = sh({"--privileged"}, "hostname priv && hostname && grep -c ' /proc/timer_list ' /proc/self/mountinfo");
  EXPECT_EQ(out.out, "priv\n0\n") << out.describe();
}

TEST_F(CtrSecurityTest, ReadOnlyRootWithTmpfs) {
  auto out = sh({"--read-only"}, "touch /tmp/a /var/tmp/b /run/c && echo tmp-ok; touch /root-file");
  EXPECT_NE(out.code, 0) << out.describe();
  EXPECT_EQ(out.out, "tmp-ok\n");
  EXPECT_NE(out.err.find("Read-only file system"), std::string::npos) << out.describe();
  auto no_tmpfs = sh({"--read-only", "--read-only-tmpfs=false"}, "touch /tmp/a");
  EXPECT_NE(no_tmpfs.code, 0) << no_tmpfs.describe();
}

TEST_F(CtrSecurityTest, UlimitsAndShmSize) {
  auto out = sh({"--ulimit", "nofile=100:200", "--shm-size", "1m"}, "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1");
  EXPECT_EQ(out.code, 0) << out.describe();
  auto lines = split(std::string(trim(out.out)), '\n');
  ASSERT_EQ(lines.size(), 3u) << out.out;
  EXPECT_EQ(lines[0], "100");
  EXPECT_EQ(lines[1], "200");
  EXPECT_NE(lines[2].find(" 1024 "), std::string::npos) << lines[2];
  expect_error(ctr({"run", "--rm", "--ulimit", "nofile=1:99999999999", "busybox", "true"}), "above yours");
  expect_error(ctr({"run", "--rm", "--ulimit", "files=1", "busybox", "true"}), "unknown limit `files`");
  expect_error(ctr({"run", "--rm", "--shm-size", "huge", "busybox", "true"}), "invalid --shm-size");
}

TEST_F(CtrSecurityTest, DevicesAndGroups) {
  auto out = sh({"--device", "/dev/null:/dev/other-null:rw", "--group-add", "tty", "--group-add", "4242"},
                "echo x > /dev/other-null && ls -l /dev/other-null | cut -c1 && id -G");
  EXPECT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(out.out, "c\n0 5 4242\n");
  expect_error(ctr({"run", "--rm", "--device", "/dev/ctr-no-such-device", "busybox", "true"}),
               "/dev/ctr-no-such-device");
  expect_error(ctr({"run", "--rm", "--group-add", "wheel", "busybox", "true"}), "--group-add wheel");
}

TEST_F(CtrSecurityTest, EnvironmentFromFilesAndHost) {
  ::setenv("CTR_SECURITY_TEST_VAR", "from-host", 1);
  std::string env_file = write("vars.env", "# comment\nFROM_FILE=1\nCTR_SECURITY_TEST_VAR\nOVERRIDDEN=file\n");
  auto out = ctr({"run", "--rm", "--env-file", env_file, "-e", "OVERRIDDEN=flag", "busybox", "sh", "-c",
                  "echo $FROM_FILE $CTR_SECURITY_TEST_VAR $OVERRIDDEN"});
  EXPECT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(out.out, "1 from-host flag\n");
  auto host = ctr({"run", "--rm", "--env-host", "busybox", "sh", "-c", "echo $CTR_SECURITY_TEST_VAR"});
  EXPECT_EQ(host.out, "from-host\n") << host.describe();
  ::unsetenv("CTR_SECURITY_TEST_VAR");
  expect_error(ctr({"run", "--rm", "--env-file", path("missing.env"), "busybox", "true"}), "--env-file");
}

TEST_F(CtrSecurityTest, LabelsAnnotationsAndStopSettingsAreRecorded) {
  std::string labels = write("labels", "# labels\nfrom=file\nshared=file\n");
  auto made = ctr({"create", "--name", "meta", "--label", "shared=flag", "-l", "solo", "--label-file", labels,
                   "--annotation", "org.example/key=value", "--stop-signal", "SIGINT", "--stop-timeout", "3",
                   "busybox", "true"});
  ASSERT_EQ(made.code, 0) << made.describe();
  std::string id(trim(made.out));
  auto record = read_file(root_ + "/containers/" + id + "/ctr.json");
  ASSERT_TRUE(record.ok()) << record.error().message;
  auto r = nlohmann::json::parse(*record);
  EXPECT_EQ(r["labels"], nlohmann::json({{"from", "file"}, {"shared", "flag"}, {"solo", ""}}));
  EXPECT_EQ(r["stop_signal"], "SIGINT");
  EXPECT_EQ(r["stop_timeout"], 3);
  auto config = read_file(root_ + "/containers/" + id + "/config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(nlohmann::json::parse(*config)["annotations"]["org.example/key"], "value");
  expect_error(ctr({"create", "--stop-signal", "SIGNOPE", "busybox", "true"}), "SIGNOPE");
}

}  // namespace
}  // namespace ctr::itest
