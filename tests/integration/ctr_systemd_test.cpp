// ctr in systemd user units, against a real `systemd --user` (labelled
// needs-systemd: scripts/test.sh runs this binary inside a transient service
// of a manager it starts; see scripts/lib.sh start_user_manager). Units go
// into $XDG_RUNTIME_DIR/systemd/user, which the manager reads; each test uses
// unit and container names of its own and removes them.
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

class CtrSystemdTest : public CtrContainerTest {
 protected:
  void SetUp() override {
    const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (!bus || !*bus || !runtime || !*runtime)
      GTEST_SKIP() << "NO-USER-MANAGER: no systemd user bus (DBUS_SESSION_BUS_ADDRESS); scripts/test.sh runs these "
                      "tests inside a systemd --user it starts";
    auto state = systemctl({"is-system-running"});
    if (trim(state.out).empty() || trim(state.out) == "offline")
      GTEST_SKIP() << "NO-USER-MANAGER: systemctl --user does not reach a manager: " << state.describe();
    CtrContainerTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    unit_dir_ = std::string(runtime) + "/systemd/user";
    ASSERT_TRUE(mkdir_p(unit_dir_, 0755));
    prefix_ = "ctr-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : prefix_)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  }

  void TearDown() override {
    for (const auto& unit : units_) {
      (void)systemctl({"stop", unit});
      (void)systemctl({"reset-failed", unit});
      (void)::unlink((unit_dir_ + "/" + unit).c_str());
    }
    if (!units_.empty()) (void)systemctl({"daemon-reload"});
    CtrContainerTest::TearDown();
  }

  static CommandOutput systemctl(std::vector<std::string> args, int timeout_s = 60) {
    args.insert(args.begin(), {"systemctl", "--user"});
    return run_tracked(args, timeout_s);
  }
  std::string property(const std::string& unit, const std::string& name) {
    return std::string(trim(systemctl({"show", "-P", name, unit}).out));
  }
  std::string active_state(const std::string& unit) { return property(unit, "ActiveState"); }

  // Writes UNIT (a file name under the unit dir) and reloads the manager.
  void install_unit(const std::string& unit, const std::string& text) {
    ASSERT_TRUE(write_file_atomic(unit_dir_ + "/" + unit, text, 0644));
    units_.push_back(unit);
    auto reloaded = systemctl({"daemon-reload"});
    ASSERT_EQ(reloaded.code, 0) << reloaded.describe();
  }

  // `ctr --root STORE` as it appears in an ExecStart= line.
  std::string ctr_prefix() const { return ctr_binary() + " --root " + root_; }
  std::string unit_name(const std::string& what) const { return prefix_ + "-" + what + ".service"; }
  std::string container_name(const std::string& what) const { return prefix_ + "-" + what; }
  pid_t shim_pid(const std::string& name) {
    auto out = ctr({"inspect", "--format", "{{.State.ConmonPid}}", name});
    return static_cast<pid_t>(std::atoi(std::string(trim(out.out)).c_str()));
  }

  std::string unit_dir_, prefix_;
  std::vector<std::string> units_;
};

// A payload that exits 0 on SIGTERM (a plain `sleep` as PID 1 ignores it).
constexpr const char* kTrapScript = "sh -c \"trap 'exit 0' TERM; sleep 1000 & wait\"";

TEST_F(CtrSystemdTest, ForegroundNotifyUnitGoesActiveAndStopRemovesTheContainer) {
  std::string unit = unit_name("fg"), name = container_name("fg");
  install_unit(unit, "[Service]\nType=notify\nTimeoutStartSec=30\nTimeoutStopSec=30\nExecStart=" + ctr_prefix() +
                         " run --rm --sdnotify=conmon --name " + name + " busybox " + kTrapScript + "\n");
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  EXPECT_EQ(active_state(unit), "active");
  EXPECT_TRUE(has_state(name, "running")) << state_of(name);
  auto stopped = systemctl({"stop", unit});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(active_state(unit), "inactive") << systemctl({"status", unit}).out;
  EXPECT_EQ(state_of(name).find(name), std::string::npos) << "--rm container still there: " << state_of(name);
}

TEST_F(CtrSystemdTest, ForegroundCrashFailsTheUnit) {
  std::string unit = unit_name("crash"), name = container_name("crash");
  install_unit(unit, "[Service]\nType=notify\nTimeoutStartSec=30\nExecStart=" + ctr_prefix() +
                         " run --rm --sdnotify=conmon --name " + name + " busybox sh -c \"sleep 1; exit 3\"\n");
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe();
  EXPECT_TRUE(eventually([&] { return active_state(unit) == "failed"; })) << active_state(unit);
  EXPECT_EQ(property(unit, "ExecMainStatus"), "3");
}

TEST_F(CtrSystemdTest, DetachedNotifyUnitWatchesTheShim) {
  std::string unit = unit_name("detached"), name = container_name("detached");
  // The shim stays in the unit's cgroup (split), or systemd refuses MAINPID=.
  install_unit(unit, "[Service]\nType=notify\nNotifyAccess=all\nDelegate=yes\nTimeoutStartSec=30\nExecStart=" +
                         ctr_prefix() + " run -d --rm --cgroups=split --sdnotify=conmon --name " + name +
                         " busybox sh -c \"sleep 2; exit 4\"\n");
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  pid_t shim = shim_pid(name);
  std::string main_pid = property(unit, "MainPID");
  if (shim > 0 && active_state(unit) == "active") {
    EXPECT_EQ(main_pid, std::to_string(shim));
  }
  // The shim exits with the container's status: the unit fails.
  EXPECT_TRUE(eventually([&] { return active_state(unit) == "failed"; })) << active_state(unit);
  EXPECT_EQ(property(unit, "ExecMainStatus"), "4");
}

TEST_F(CtrSystemdTest, ContainerModeGetsTheSocket) {
  std::string unit = unit_name("container"), name = container_name("container");
  // Type=exec with NotifyAccess=all: systemd sets NOTIFY_SOCKET without
  // waiting for a READY=1 (busybox cannot send a datagram to a unix socket).
  install_unit(unit, "[Service]\nType=exec\nNotifyAccess=all\nExecStart=" + ctr_prefix() +
                         " run --sdnotify=container --name " + name +
                         " busybox sh -c \"test -S /run/notify/notify && echo socket=$$NOTIFY_SOCKET\"\n");
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe();
  EXPECT_TRUE(eventually([&] { return has_state(name, "exited"); })) << state_of(name);
  auto logs = ctr({"logs", name});
  EXPECT_EQ(trim(logs.out), "socket=/run/notify/notify") << logs.describe();
  auto mode = ctr({"inspect", "--format", "{{.Config.sdNotifyMode}}", name});
  EXPECT_EQ(trim(mode.out), "container") << mode.describe();
}

// The payload's own READY=1 (perl from the Debian fixture: busybox cannot
// send a datagram to a unix socket) activates the unit; --cgroups=split keeps
// it in the unit's cgroup, where systemd accepts notifications from.
TEST_F(CtrSystemdTest, ContainerModeReadyFromThePayloadActivatesTheUnit) {
  std::string image = load_debian_image();
  if (image.empty())
    GTEST_SKIP() << "NO-DEBIAN-FIXTURE: $CTR_FIXTURES/debian/debian.docker.tar is missing";
  ASSERT_FALSE(HasFailure());
  std::string unit = unit_name("ready"), name = container_name("ready");
  std::string perl =
      "$$SIG{TERM}=sub{exit 0}; my $$s=IO::Socket::UNIX->new(Type=>SOCK_DGRAM, Peer=>$$ENV{NOTIFY_SOCKET}) or die; "
      "sleep 1; $$s->send(q{READY=1}) or die; sleep 1000";
  install_unit(unit, "[Service]\nType=notify\nNotifyAccess=all\nDelegate=yes\nTimeoutStartSec=30\nExecStart=" +
                         ctr_prefix() + " run --rm --cgroups=split --sdnotify=container --name " + name + " " +
                         image + " perl -MSocket -MIO::Socket::UNIX -e \"" + perl + "\"\n");
  auto started = systemctl({"start", unit}, 90);
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  EXPECT_EQ(active_state(unit), "active");
  auto stopped = systemctl({"stop", unit});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(active_state(unit), "inactive") << systemctl({"status", unit}).out;
}

// Without --cgroups=split the payload runs in a scope of its own, where
// systemd would ignore its READY=1: the shim, left in the unit's cgroup,
// relays it (shim/notify_relay.h). The unit is active only once the payload
// said so, and stop ends and removes the container.
TEST_F(CtrSystemdTest, ContainerModeRelaysReadyFromTheContainersOwnScope) {
  std::string image = load_debian_image();
  if (image.empty())
    GTEST_SKIP() << "NO-DEBIAN-FIXTURE: $CTR_FIXTURES/debian/debian.docker.tar is missing";
  ASSERT_FALSE(HasFailure());
  std::string unit = unit_name("relay"), name = container_name("relay");
  std::string perl =
      "$$SIG{TERM}=sub{exit 0}; my $$s=IO::Socket::UNIX->new(Type=>SOCK_DGRAM, Peer=>$$ENV{NOTIFY_SOCKET}) or die; "
      "sleep 2; $$s->send(q{READY=1}) or die; sleep 1000";
  install_unit(unit, "[Service]\nType=notify\nNotifyAccess=all\nTimeoutStartSec=30\nTimeoutStopSec=30\nExecStart=" +
                         ctr_prefix() + " run --rm --sdnotify=container --name " + name + " " + image +
                         " perl -MSocket -MIO::Socket::UNIX -e \"" + perl + "\"\n");
  auto begun = std::chrono::steady_clock::now();
  auto started = systemctl({"start", unit}, 90);
  auto took = std::chrono::steady_clock::now() - begun;
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  EXPECT_EQ(active_state(unit), "active");
  EXPECT_GE(took, std::chrono::seconds(2)) << "active before the payload's READY=1";
  // The payload in its scope, the relaying shim in the unit's cgroup.
  auto cgroup_of = [](const std::string& pid) {
    auto text = read_file("/proc/" + pid + "/cgroup");
    return text ? std::string(trim(text->substr(text->rfind("0::") + 3))) : std::string();
  };
  std::string payload(trim(ctr({"inspect", "-f", "{{.State.Pid}}", name}).out));
  std::string unit_group = property(unit, "ControlGroup");
  EXPECT_EQ(cgroup_of(std::to_string(shim_pid(name))), unit_group);
  std::string payload_group = cgroup_of(payload);
  EXPECT_NE(payload_group.find(".scope"), std::string::npos) << payload_group;
  EXPECT_NE(payload_group.rfind(unit_group, 0), 0u) << "the payload is outside the unit: " << payload_group;
  auto stopped = systemctl({"stop", unit});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(active_state(unit), "inactive") << systemctl({"status", unit}).out;
  EXPECT_TRUE(eventually([&] { return state_of(name).find(name) == std::string::npos; }))
      << "--rm container still there: " << state_of(name);
}

TEST_F(CtrSystemdTest, IgnoreModeDoesNotPassTheSocketOn) {
  std::string unit = unit_name("ignore"), name = container_name("ignore");
  // Even --env-host (ctr's whole environment) must not carry NOTIFY_SOCKET.
  install_unit(unit, "[Service]\nType=exec\nNotifyAccess=all\nExecStart=" + ctr_prefix() +
                         " run --sdnotify=ignore --env-host --name " + name +
                         " busybox sh -c \"echo socket=$${NOTIFY_SOCKET:-none}; test -e /run/notify || echo no-mount\"\n");
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe();
  EXPECT_TRUE(eventually([&] { return has_state(name, "exited"); })) << state_of(name);
  auto logs = ctr({"logs", name});
  EXPECT_EQ(trim(logs.out), "socket=none\nno-mount") << logs.describe();
  auto mode = ctr({"inspect", "--format", "{{.Config.sdNotifyMode}}", name});
  EXPECT_EQ(trim(mode.out), "ignore") << mode.describe();
}

TEST_F(CtrSystemdTest, GeneratedNewUnitStartsAWorkingContainer) {
  std::string name = container_name("gen");
  auto created = ctr({"create", "--name", name, "-e", "GREETING=hello world", "busybox", "sh", "-c",
                      "trap 'exit 0' TERM; echo \"$GREETING\"; sleep 1000 & wait"});
  ASSERT_EQ(created.code, 0) << created.describe();
  auto generated = ctr({"generate", "systemd", "--new", "--name", "-t", "5", name});
  ASSERT_EQ(generated.code, 0) << generated.describe();
  EXPECT_NE(generated.out.find("\"GREETING=hello world\""), std::string::npos) << generated.out;
  ASSERT_EQ(ctr({"rm", name}).code, 0);
  std::string unit = unit_name("gen");
  install_unit(unit, generated.out);
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  EXPECT_EQ(active_state(unit), "active");
  ASSERT_TRUE(eventually([&] { return trim(ctr({"logs", name}).out) == "hello world"; }))
      << ctr({"logs", name}).describe();
  EXPECT_EQ(property(unit, "MainPID"), std::to_string(shim_pid(name)));
  auto stopped = systemctl({"stop", unit});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(active_state(unit), "inactive") << systemctl({"status", unit}).out;
  EXPECT_EQ(state_of(name).find(name), std::string::npos) << state_of(name);
}

TEST_F(CtrSystemdTest, GeneratedUnitStartsAndStopsAnExistingContainer) {
  std::string name = container_name("existing");
  auto created = ctr({"create", "--name", name, "busybox", "sh", "-c", "trap 'exit 0' TERM; echo up; sleep 1000 & wait"});
  ASSERT_EQ(created.code, 0) << created.describe();
  auto generated = ctr({"generate", "systemd", name});
  ASSERT_EQ(generated.code, 0) << generated.describe();
  std::string unit = unit_name("existing");
  install_unit(unit, generated.out);
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  EXPECT_EQ(active_state(unit), "active");
  EXPECT_TRUE(eventually([&] { return has_state(name, "running"); })) << state_of(name);
  auto stopped = systemctl({"stop", unit});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(active_state(unit), "inactive") << systemctl({"status", unit}).out;
  EXPECT_TRUE(has_state(name, "exited")) << "the container stays, stopped: " << state_of(name);
}

TEST_F(CtrSystemdTest, ContainerFileThroughTheGeneratorStartsAWorkingContainer) {
  const char* config = std::getenv("XDG_CONFIG_HOME");
  ASSERT_TRUE(config && *config) << "XDG_CONFIG_HOME is not set";
  std::string sources = std::string(config) + "/ctr/systemd";
  ASSERT_TRUE(mkdir_p(sources, 0755));
  std::string base = prefix_ + "-quadlet", name = container_name("q");
  std::string file = sources + "/" + base + ".container", bad = sources + "/" + base + "-bad.container";
  ASSERT_TRUE(write_file_atomic(file,
                                "[Unit]\nDescription=ctr quadlet test\n[Container]\nImage=busybox\nContainerName=" +
                                    name + "\nEnvironment=WHO=quadlet\nExec=sh -c \"trap 'exit 0' TERM; echo hi "
                                    "$WHO; sleep 1000 & wait\"\n[Service]\nEnvironment=CTR_STORAGE_ROOT=" + root_ +
                                    "\nTimeoutStartSec=30\n",
                                0644));
  ASSERT_TRUE(write_file_atomic(bad, "[Container]\nExec=true\n", 0644));
  std::string generator = std::string(CTR_BUILD_DIR) + "/cmd/ctr-user-generator";
  auto ran = run_tracked({generator, unit_dir_, unit_dir_, unit_dir_});
  (void)::unlink(file.c_str());
  (void)::unlink(bad.c_str());
  ASSERT_EQ(ran.code, 0) << ran.describe();
  EXPECT_NE(ran.err.find(base + "-bad.container: [Container] has no Image= (skipped)"), std::string::npos) << ran.err;
  std::string unit = base + ".service";
  units_.push_back(unit);
  ASSERT_EQ(systemctl({"daemon-reload"}).code, 0);
  auto started = systemctl({"start", unit});
  ASSERT_EQ(started.code, 0) << started.describe() << "\n" << systemctl({"status", unit}).out;
  EXPECT_EQ(active_state(unit), "active");
  ASSERT_TRUE(eventually([&] { return trim(ctr({"logs", name}).out) == "hi quadlet"; }))
      << ctr({"logs", name}).describe();
  auto stopped = systemctl({"stop", unit});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  EXPECT_EQ(active_state(unit), "inactive") << systemctl({"status", unit}).out;
  EXPECT_EQ(state_of(name).find(name), std::string::npos) << state_of(name);
}

TEST_F(CtrSystemdTest, BadValuesAreErrors) {
  auto bad_mode = ctr({"run", "--rm", "--sdnotify=always", "busybox", "true"});
  EXPECT_EQ(bad_mode.code, 125);
  EXPECT_NE(bad_mode.err.find("invalid --sdnotify `always`: use container, conmon or ignore"), std::string::npos)
      << bad_mode.err;
  auto unknown = ctr({"generate", "systemd", "nosuchcontainer"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_NE(unknown.err.find("nosuchcontainer"), std::string::npos) << unknown.err;
  ASSERT_EQ(ctr({"create", "--name", container_name("b"), "busybox", "true"}).code, 0);
  auto policy = ctr({"generate", "systemd", "--restart-policy", "sometimes", container_name("b")});
  EXPECT_EQ(policy.code, 125);
  EXPECT_NE(policy.err.find("invalid --restart-policy `sometimes`"), std::string::npos) << policy.err;
}

}  // namespace
}  // namespace ctr::itest
