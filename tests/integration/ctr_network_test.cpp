// --network: the namespace each mode gives (none: only lo, up; host: the
// host's interfaces; pasta and slirp4netns: an interface besides lo), two
// containers sharing one namespace, the helper's life (none left after the
// container ends, after rm -f, after a SIGKILLed `ctr run` or shim), and
// the errors. Loopback only: no traffic leaves the test's namespaces.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

class CtrNetworkTest : public CtrContainerTest {
 protected:
  void SetUp() override {
    CtrContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!have_tool("pasta") || !have_tool("slirp4netns"))
      GTEST_SKIP() << "pasta (passt) and slirp4netns are needed: apt-get install passt slirp4netns";
    if (::access("/dev/net/tun", R_OK | W_OK) != 0)
      GTEST_SKIP() << "/dev/net/tun is not usable by this user (run in a session with user devices)";
  }

  // `env VARS... ctr --root STORE ARGS...`
  CommandOutput ctr_env(const std::vector<std::string>& env, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {ctr_binary(), "--root", root_});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_tracked(argv);
  }

  std::string id_of(const std::string& name) {
    auto out = ctr({"inspect", "--format", "{{.Id}}", name});
    EXPECT_EQ(out.code, 0) << out.describe();
    return std::string(trim(out.out));
  }

  void run_detached(const std::vector<std::string>& args) {
    std::vector<std::string> all{"run", "-d"};
    all.insert(all.end(), args.begin(), args.end());
    auto out = ctr(all);
    ASSERT_EQ(out.code, 0) << out.describe();
  }

  bool no_container(const std::string& name) {
    auto ps = ctr({"ps", "-a", "--format", "{{.Names}}"});
    return ps.code == 0 && ps.out.find(name) == std::string::npos;
  }
};

// Network helpers (pasta, slirp4netns) whose command line names container
// `id` (its state directory): pid -> parent pid.
std::vector<std::pair<pid_t, pid_t>> helpers_of(const std::string& id) {
  std::vector<std::pair<pid_t, pid_t>> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  while (dirent* entry = ::readdir(proc)) {
    auto pid = parse_u64(entry->d_name);
    if (!pid) continue;
    std::string base = "/proc/" + std::string(entry->d_name);
    auto cmdline = read_file(base + "/cmdline");
    if (!cmdline) continue;
    std::string argv0 = cmdline->substr(0, cmdline->find('\0'));
    argv0 = argv0.substr(argv0.rfind('/') + 1);
    if (!starts_with(argv0, "pasta") && !starts_with(argv0, "passt") && !starts_with(argv0, "slirp4netns")) continue;
    auto stat = read_file(base + "/stat");
    pid_t ppid = 0;
    if (stat) {
      auto fields = split(stat->substr(stat->rfind(')') + 2), ' ');
      if (fields.size() > 1) ppid = static_cast<pid_t>(parse_u64(fields[1]).value_or(0));
    }
    // pasta's command line names its pid file in STATE; slirp4netns's does
    // not, but its parent is the container's shim (so is pasta's daemon's).
    auto parent = read_file("/proc/" + std::to_string(ppid) + "/cmdline");
    if (cmdline->find(id) == std::string::npos && (!parent || parent->find(id) == std::string::npos)) continue;
    found.emplace_back(static_cast<pid_t>(*pid), ppid);
  }
  ::closedir(proc);
  return found;
}

std::set<std::string> interfaces(const std::string& proc_net_dev) {
  std::set<std::string> names;
  for (const auto& line : split(proc_net_dev, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    names.insert(std::string(trim(std::string_view(line).substr(0, colon))));
  }
  return names;
}

}  // namespace

TEST_F(CtrNetworkTest, NoneHasOnlyLoopbackAndItIsUp) {
  auto out = ctr({"run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"});
  ASSERT_EQ(out.code, 0) << out.describe();
  auto lines = split(std::string(trim(out.out)), '\n');
  ASSERT_EQ(lines.size(), 1u) << out.out;
  EXPECT_NE(lines[0].find(": lo:"), std::string::npos) << out.out;
  EXPECT_NE(lines[0].find("UP"), std::string::npos) << out.out;
  // Usable: a server on 127.0.0.1 answers (httpd without -f returns once it listens).
  auto served = ctr({"run", "--rm", "--net=none", "busybox", "sh", "-c",
                     "mkdir /w && echo lo-works > /w/i && httpd -p 127.0.0.1:8000 -h /w && "
                     "wget -q -O - http://127.0.0.1:8000/i"});
  EXPECT_EQ(served.code, 0) << served.describe();
  EXPECT_EQ(trim(served.out), "lo-works");
  auto mode = ctr({"create", "--name", "n", "--network", "none", "busybox", "true"});
  ASSERT_EQ(mode.code, 0) << mode.describe();
  EXPECT_EQ(trim(ctr({"inspect", "--format", "{{.HostConfig.NetworkMode}}", "n"}).out), "none");
}

TEST_F(CtrNetworkTest, HostSeesTheHostsInterfaces) {
  auto out = ctr({"run", "--rm", "--network", "host", "busybox", "cat", "/proc/net/dev"});
  ASSERT_EQ(out.code, 0) << out.describe();
  auto host = read_file("/proc/net/dev");
  ASSERT_TRUE(host);
  EXPECT_EQ(interfaces(out.out), interfaces(*host)) << out.out;
}

TEST_F(CtrNetworkTest, DefaultIsPastaAndItsHelperLivesAsLongAsTheContainer) {
  run_detached({"--name", "p", "busybox", "sleep", "300"});
  std::string id = id_of("p");
  EXPECT_EQ(trim(ctr({"inspect", "--format", "{{.HostConfig.NetworkMode}}", "p"}).out), "pasta");
  auto helpers = helpers_of(id);
  ASSERT_EQ(helpers.size(), 1u) << "expected one pasta for " << id;
  auto links = ctr({"exec", "p", "ip", "-o", "link"});
  ASSERT_EQ(links.code, 0) << links.describe();
  EXPECT_GE(split(std::string(trim(links.out)), '\n').size(), 2u) << links.out;
  auto stopped = ctr({"stop", "-t", "0", "p"});
  ASSERT_EQ(stopped.code, 0) << stopped.describe();
  // exit.json is written after the helper is gone: no waiting needed.
  EXPECT_TRUE(helpers_of(id).empty());

  // rm -f of a running container.
  run_detached({"--name", "q", "busybox", "sleep", "300"});
  std::string q = id_of("q");
  ASSERT_EQ(helpers_of(q).size(), 1u);
  ASSERT_EQ(ctr({"rm", "-f", "q"}).code, 0);
  EXPECT_TRUE(helpers_of(q).empty());

  // A container that ends by itself, with --rm.
  auto quick = ctr({"run", "--rm", "--name", "r", "busybox", "sh", "-c", "ip -o link | grep -v ': lo:'"});
  EXPECT_EQ(quick.code, 0) << quick.describe();
  EXPECT_FALSE(trim(quick.out).empty());
}

TEST_F(CtrNetworkTest, Slirp4netnsGivesTap0) {
  auto out = ctr({"run", "--rm", "--name", "s", "--network", "slirp4netns:mtu=1500", "busybox", "ip", "-o", "link",
                  "show", "tap0"});
  ASSERT_EQ(out.code, 0) << out.describe();
  EXPECT_NE(out.out.find("tap0"), std::string::npos);
  EXPECT_NE(out.out.find("mtu 1500"), std::string::npos) << out.out;
  run_detached({"--name", "s2", "--network", "slirp4netns", "busybox", "sleep", "300"});
  std::string id = id_of("s2");
  ASSERT_EQ(helpers_of(id).size(), 1u);
  ASSERT_EQ(ctr({"rm", "-f", "s2"}).code, 0);
  EXPECT_TRUE(helpers_of(id).empty());
}

TEST_F(CtrNetworkTest, TwoContainersShareOneNamespace) {
  run_detached({"--name", "web", "busybox", "sh", "-c",
                "mkdir /www && echo shared-hello > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"});
  // httpd may need a moment to listen: the client retries (bounded).
  auto out = ctr({"run", "--rm", "--network", "container:web", "busybox", "sh", "-c",
                  "for i in $(seq 100); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1"});
  ASSERT_EQ(out.code, 0) << out.describe();
  EXPECT_EQ(trim(out.out), "shared-hello");
  std::string web = id_of("web");
  // The same namespace by path: ns:/proc/PID/ns/net of web's process.
  auto pid = ctr({"inspect", "--format", "{{.State.Pid}}", "web"});
  ASSERT_EQ(pid.code, 0) << pid.describe();
  auto by_path = ctr({"run", "--rm", "--network", "ns:/proc/" + std::string(trim(pid.out)) + "/ns/net", "busybox",
                      "wget", "-q", "-O", "-", "http://127.0.0.1:8080/"});
  ASSERT_EQ(by_path.code, 0) << by_path.describe();
  EXPECT_EQ(trim(by_path.out), "shared-hello");
  auto created = ctr({"create", "--name", "b", "--network", "container:web", "busybox", "true"});
  ASSERT_EQ(created.code, 0) << created.describe();
  EXPECT_EQ(trim(ctr({"inspect", "--format", "{{.HostConfig.NetworkMode}}", "b"}).out), "container:" + web);
  // The target gone: starting the joiner is an error naming it; it stays created.
  ASSERT_EQ(ctr({"stop", "-t", "0", "web"}).code, 0);
  auto start = ctr({"start", "b"});
  EXPECT_EQ(start.code, 125) << start.describe();
  EXPECT_NE(start.err.find("web"), std::string::npos) << start.err;
  EXPECT_NE(start.err.find("not running"), std::string::npos) << start.err;
  EXPECT_TRUE(has_state("b", "created"));
  auto keep_id = ctr({"create", "--userns", "keep-id", "--network", "container:web", "busybox", "true"});
  EXPECT_EQ(keep_id.code, 125);
  EXPECT_NE(keep_id.err.find("--userns"), std::string::npos) << keep_id.err;
}

TEST_F(CtrNetworkTest, NoHelperLeftAfterSigkillOfForegroundRun) {
  std::vector<std::string> argv{ctr_binary(), "--root", root_, "run", "--name", "fg", "busybox", "sleep", "300"};
  SpawnOptions spawn;
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  spawn.stdin_fd = spawn.stdout_fd = spawn.stderr_fd = null_fd.get();
  auto child = spawn_process(argv, spawn);
  ASSERT_TRUE(child) << child.error().message;
  ASSERT_TRUE(eventually([&] { return has_state("fg", "running"); }));
  std::string id = id_of("fg");
  // "running" shows as soon as the shim is up; its helper is ready once the
  // shim has recorded it (shim/README.md).
  const char* runroot = ::getenv("CTR_RUNROOT");
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  std::string state = (runroot && *runroot ? std::string(runroot) : std::string(xdg ? xdg : "/tmp") + "/ctr") +
                      "/containers/" + id;
  ASSERT_TRUE(eventually([&] { return path_exists(state + "/network-helper.pid"); })) << state;
  ASSERT_TRUE(child->kill(SIGKILL));
  (void)child->wait();
  ASSERT_EQ(helpers_of(id).size(), 1u);
  ASSERT_EQ(ctr({"stop", "-t", "0", "fg"}).code, 0);
  EXPECT_TRUE(helpers_of(id).empty());
}

TEST_F(CtrNetworkTest, NoHelperLeftAfterSigkillOfTheShim) {
  run_detached({"--name", "k", "busybox", "sleep", "300"});
  std::string id = id_of("k");
  auto helpers = helpers_of(id);
  ASSERT_EQ(helpers.size(), 1u);
  pid_t shim = helpers[0].second;  // pasta's daemon is the shim's orphan (a subreaper)
  auto comm = read_file("/proc/" + std::to_string(shim) + "/comm");
  ASSERT_TRUE(comm && starts_with(*comm, "ctr-shim")) << (comm ? *comm : comm.error().message);
  ASSERT_EQ(::kill(shim, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return !has_state("k", "running"); }));
  auto removed = ctr({"rm", "-f", "k"});
  ASSERT_EQ(removed.code, 0) << removed.describe();
  EXPECT_TRUE(helpers_of(id).empty());
}

TEST_F(CtrNetworkTest, BadModesAreRefusedBeforeAnythingIsMade) {
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{{{"--network", "bogus"}, "unknown network mode"},
                                         {{"--network", "bridge"}, "no bridge networks"},
                                         {{"--network", "container:nosuch"}, "nosuch"},
                                         {{"--network", "ns:/nonexistent/netns"}, "no such network namespace"},
                                         {{"--network", "slirp4netns:outbound_addr=eth0"}, "outbound_addr"}}) {
    std::vector<std::string> args{"run", "--rm", "--name", "bad"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"busybox", "true"});
    auto out = ctr(args);
    EXPECT_EQ(out.code, 125) << out.describe();
    EXPECT_NE(out.err.find(c.message), std::string::npos) << out.err;
    EXPECT_TRUE(no_container("bad"));
  }
}

TEST_F(CtrNetworkTest, MissingHelperIsAnErrorNamingThePackage) {
  auto out = ctr_env({"CTR_PASTA_BIN=/nonexistent/pasta", "CTR_SLIRP4NETNS_BIN=/nonexistent/slirp4netns"},
                     {"run", "--rm", "--name", "m", "busybox", "true"});
  EXPECT_EQ(out.code, 125) << out.describe();
  EXPECT_NE(out.err.find("install the passt package (pasta) or slirp4netns"), std::string::npos) << out.err;
  EXPECT_TRUE(no_container("m"));
  // --network none needs no helper.
  auto none = ctr_env({"CTR_PASTA_BIN=/nonexistent/pasta", "CTR_SLIRP4NETNS_BIN=/nonexistent/slirp4netns"},
                      {"run", "--rm", "--network", "none", "busybox", "true"});
  EXPECT_EQ(none.code, 0) << none.describe();
}

TEST_F(CtrNetworkTest, HelperDyingAtStartFailsTheStart) {
  std::string fake = path("fake-pasta");
  ASSERT_TRUE(write_file_atomic(fake, "#!/bin/sh\necho 'simulated pasta failure' >&2\nexit 3\n", 0755));
  auto out = ctr_env({"CTR_PASTA_BIN=" + fake}, {"run", "--name", "d", "--network", "pasta", "busybox", "true"});
  EXPECT_EQ(out.code, 125) << out.describe();
  EXPECT_NE(out.err.find("simulated pasta failure"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("pasta"), std::string::npos) << out.err;
  // As podman: created, not running; the runtime's container is gone.
  EXPECT_TRUE(has_state("d", "created") || has_state("d", "exited")) << state_of("d");
  auto slirp = ctr_env({"CTR_SLIRP4NETNS_BIN=/bin/false"},
                       {"run", "--rm", "--name", "d2", "--network", "slirp4netns", "busybox", "true"});
  EXPECT_EQ(slirp.code, 125) << slirp.describe();
  EXPECT_NE(slirp.err.find("slirp4netns"), std::string::npos) << slirp.err;
}

}  // namespace ctr::itest
