#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/child/seccomp_apply.h"
#include "runtime/console.h"
#include "runtime/seccomp.h"

using namespace ctr;

namespace {

spec::SeccompSyscall rule(std::vector<std::string> names, std::string action, std::optional<uint32_t> errno_ret = {},
                          std::vector<spec::SeccompArg> args = {}) {
  return spec::SeccompSyscall{std::move(names), std::move(action), errno_ret, std::move(args)};
}

spec::Seccomp allow_all_but(std::vector<spec::SeccompSyscall> rules) {
  spec::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.syscalls = std::move(rules);
  return seccomp;
}

std::string compile_error(const spec::Seccomp& seccomp) {
  auto program = compile_seccomp(seccomp);
  if (program) return "(compiled)";
  return program.error().message;
}

// Runs `body` in a forked child that has loaded `program` (after setting
// no_new_privs, which lets an unprivileged process use seccomp); the child's
// exit code is what `body` returns.
int run_filtered(const SeccompProgram& program, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    int listener = -1;
    int rc = child::apply_seccomp(program.filter.data(), static_cast<unsigned short>(program.filter.size()),
                                  program.flags, &listener);
    if (rc != 0) ::_exit(101);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// The errno of a raw syscall, 0 if it succeeded.
int errno_of(long rc) {
  return rc < 0 ? errno : 0;
}

}  // namespace

TEST(Seccomp, CompilesSmallProfile) {
  auto program = compile_seccomp(allow_all_but({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", 38)}));
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_GT(program->filter.size(), 4u);
  EXPECT_EQ(program->flags, 0u);
  EXPECT_FALSE(program->wants_listener);
}

TEST(Seccomp, UnknownNamesAreErrorsNamingTheField) {
  auto bad_action = allow_all_but({rule({"getpid"}, "SCMP_ACT_ERRNO"), rule({"mkdir"}, "SCMP_ACT_FOO")});
  EXPECT_EQ(compile_error(bad_action), "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");

  auto bad_default = allow_all_but({});
  bad_default.default_action = "SCMP_ACT_NOPE";
  EXPECT_EQ(compile_error(bad_default), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");

  auto bad_op =
      allow_all_but({rule({"dup"}, "SCMP_ACT_ERRNO", {}, {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 1, 0, "SCMP_CMP_LIKE"}})});
  EXPECT_EQ(compile_error(bad_op), "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_LIKE\"");

  auto bad_index = allow_all_but({rule({"dup"}, "SCMP_ACT_ERRNO", {}, {{6, 1, 0, "SCMP_CMP_EQ"}})});
  EXPECT_NE(compile_error(bad_index).find("linux.seccomp.syscalls[0].args[0].index"), std::string::npos);

  auto bad_arch = allow_all_but({});
  bad_arch.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  EXPECT_EQ(compile_error(bad_arch), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");

  auto bad_flag = allow_all_but({});
  bad_flag.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FAST"};
  EXPECT_EQ(compile_error(bad_flag), "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
}

TEST(Seccomp, UnknownSyscallsAndDefaultActionRulesAreSkipped) {
  auto plain = compile_seccomp(allow_all_but({rule({"mkdir"}, "SCMP_ACT_ERRNO")}));
  auto with_unknown =
      compile_seccomp(allow_all_but({rule({"not_a_syscall_at_all", "mkdir", "future_syscall3"}, "SCMP_ACT_ERRNO"),
                                     rule({"getpid"}, "SCMP_ACT_ALLOW")}));
  ASSERT_TRUE(plain) << plain.error().message;
  ASSERT_TRUE(with_unknown) << with_unknown.error().message;
  ASSERT_EQ(plain->filter.size(), with_unknown->filter.size());
  EXPECT_EQ(std::memcmp(plain->filter.data(), with_unknown->filter.data(), plain->filter.size() * sizeof(sock_filter)),
            0);
}

TEST(Seccomp, FlagsArchitecturesAndNotify) {
  auto seccomp = allow_all_but({rule({"mkdir"}, "SCMP_ACT_NOTIFY")});
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"};
  seccomp.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  EXPECT_EQ(compile_error(seccomp), "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  seccomp.listener_path = "/run/agent.sock";
  seccomp.listener_metadata = "meta";
  auto program = compile_seccomp(seccomp);
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_TRUE(program->wants_listener);
  EXPECT_EQ(program->listener_path, "/run/agent.sock");
  EXPECT_EQ(program->listener_metadata, "meta");
  EXPECT_EQ(program->flags,
            SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_NEW_LISTENER);

  auto killable = allow_all_but({rule({"mkdir"}, "SCMP_ACT_ERRNO")});
  killable.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  EXPECT_FALSE(compile_seccomp(killable));
}

TEST(Seccomp, PodmanSizedProfileCompiles) {
  // Every syscall of this architecture, as libseccomp names them: the same
  // size as podman's ~370-name allow-list.
  std::vector<std::string> names;
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!name) continue;
    if (std::string(name) != "mkdir") names.emplace_back(name);
    std::free(name);
  }
  ASSERT_GT(names.size(), 300u);
  spec::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ERRNO";
  seccomp.default_errno_ret = 38;
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  seccomp.syscalls = {rule(names, "SCMP_ACT_ALLOW"),
                      rule({"personality"}, "SCMP_ACT_ALLOW", {}, {{0, 0, 0, "SCMP_CMP_EQ"}}),
                      rule({"clone"}, "SCMP_ACT_ERRNO", 1, {{0, 0x7E020000, 0, "SCMP_CMP_MASKED_EQ"}}),
                      rule({"kexec_load", "swapon", "vmsplice"}, "SCMP_ACT_ERRNO", 1)};
  auto start = std::chrono::steady_clock::now();
  auto program = compile_seccomp(seccomp);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(program) << program.error().message;
  RecordProperty("compile_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  EXPECT_LE(program->filter.size(), 4096u);
}

TEST(Seccomp, InstalledPodmanProfileCompiles) {
  auto text = read_file("/usr/share/containers/seccomp.json");
  if (!text) GTEST_SKIP() << "NO-PODMAN-PROFILE: no /usr/share/containers/seccomp.json (apt-get install podman)";
  auto json = nlohmann::json::parse(*text);
  spec::Seccomp seccomp;
  seccomp.default_action = json.at("defaultAction");
  if (json.contains("defaultErrnoRet")) seccomp.default_errno_ret = json["defaultErrnoRet"].get<uint32_t>();
  for (const auto& entry : json.at("syscalls")) {
    // The capability- and arch-gated entries are podman's to resolve; take
    // them all, which only makes the filter bigger.
    spec::SeccompSyscall sc;
    sc.names = entry.at("names").get<std::vector<std::string>>();
    sc.action = entry.at("action");
    if (entry.contains("errnoRet")) sc.errno_ret = entry["errnoRet"].get<uint32_t>();
    for (const auto& arg : entry.value("args", nlohmann::json::array()))
      sc.args.push_back({arg.at("index").get<unsigned>(), arg.at("value").get<uint64_t>(),
                         arg.value("valueTwo", uint64_t{0}), arg.at("op").get<std::string>()});
    seccomp.syscalls.push_back(std::move(sc));
  }
  auto program = compile_seccomp(seccomp);
  ASSERT_TRUE(program) << program.error().message;
}

TEST(Seccomp, AppliedFilterReturnsTheErrno) {
  auto program = compile_seccomp(allow_all_but({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", 38)}));
  ASSERT_TRUE(program) << program.error().message;
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->path() + "/blocked";
  int code = run_filtered(*program, [&] {
    if (errno_of(::syscall(SYS_mkdir, path.c_str(), 0755)) != ENOSYS) return 1;
    if (errno_of(::syscall(SYS_mkdirat, AT_FDCWD, path.c_str(), 0755)) != ENOSYS) return 2;
    if (::syscall(SYS_getpid) <= 0) return 3;
    return 0;
  });
  EXPECT_EQ(code, 0);
  EXPECT_FALSE(path_exists(path));
}

TEST(Seccomp, ArgumentConditionsAndRepeatedIndexes) {
  auto program = compile_seccomp(allow_all_but({
      // Same index twice: either value matches (one rule each).
      rule({"dup"}, "SCMP_ACT_ERRNO", EXDEV, {{0, 1001, 0, "SCMP_CMP_EQ"}, {0, 1002, 0, "SCMP_CMP_EQ"}}),
      // Different indexes: both must match.
      rule({"dup2"}, "SCMP_ACT_ERRNO", EXDEV, {{0, 0, 0, "SCMP_CMP_EQ"}, {1, 500, 0, "SCMP_CMP_GT"}}),
      rule({"dup3"}, "SCMP_ACT_ERRNO", EXDEV, {{2, 0xF00, 0x700, "SCMP_CMP_MASKED_EQ"}}),
  }));
  ASSERT_TRUE(program) << program.error().message;
  int code = run_filtered(*program, [] {
    if (errno_of(::syscall(SYS_dup, 1001)) != EXDEV) return 1;
    if (errno_of(::syscall(SYS_dup, 1002)) != EXDEV) return 2;
    if (errno_of(::syscall(SYS_dup, 1003)) != EBADF) return 3;
    if (errno_of(::syscall(SYS_dup2, 0, 600)) != EXDEV) return 4;
    if (errno_of(::syscall(SYS_dup2, 0, 400)) != 0) return 5;
    if (errno_of(::syscall(SYS_dup2, 1, 600)) != 0) return 6;
    if (errno_of(::syscall(SYS_dup3, 0, 401, 0x7AB)) != EXDEV) return 7;
    if (errno_of(::syscall(SYS_dup3, 0, 402, 0)) != 0) return 8;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(Seccomp, NotifyListenerReachesTheAgent) {
  auto program = compile_seccomp([] {
    auto s = allow_all_but({rule({"mkdir"}, "SCMP_ACT_NOTIFY")});
    s.listener_path = "unused";
    return s;
  }());
  ASSERT_TRUE(program) << program.error().message;
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string socket_path = dir->path() + "/agent.sock";
  UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_path.c_str());
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(server.get(), 1), 0);
  const std::string state = R"({"ociVersion":"1.2.0","fds":["seccompFd"],"pid":1})";

  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    int listener = -1;
    if (child::apply_seccomp(program->filter.data(), static_cast<unsigned short>(program->filter.size()),
                             program->flags, &listener) != 0 ||
        listener < 0)
      ::_exit(101);
    if (child::send_seccomp_listener(socket_path.c_str(), listener, state.c_str()) != 0) ::_exit(102);
    ::close(listener);
    // The agent answers this mkdir with EXDEV.
    ::_exit(errno_of(::syscall(SYS_mkdir, "/ctr-notify-test", 0755)) == EXDEV ? 0 : 103);
  }
  ASSERT_GT(pid, 0);
  pollfd pfd{server.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  UniqueFd conn(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  auto received = receive_fd_with_name(conn.get());
  ASSERT_TRUE(received) << received.error().message;
  // Stream semantics: the rest of the state may arrive separately.
  std::string body = received->name;
  while (body.size() < state.size()) {
    char buf[256];
    ssize_t n = ::read(conn.get(), buf, sizeof buf);
    if (n <= 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(body, state);

  pollfd notify{received->fd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&notify, 1, 5000), 1);
  seccomp_notif request{};
  ASSERT_EQ(::ioctl(received->fd.get(), SECCOMP_IOCTL_NOTIF_RECV, &request), 0) << std::strerror(errno);
  EXPECT_EQ(request.data.nr, SYS_mkdir);
  seccomp_notif_resp response{};
  response.id = request.id;
  response.error = -EXDEV;
  ASSERT_EQ(::ioctl(received->fd.get(), SECCOMP_IOCTL_NOTIF_SEND, &response), 0) << std::strerror(errno);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Seccomp, CacheReturnsTheSameProgramAndIgnoresForeignEntries) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string cache = dir->path() + "/cache";
  auto seccomp = allow_all_but({rule({"mkdir"}, "SCMP_ACT_NOTIFY"), rule({"dup"}, "SCMP_ACT_ERRNO", 5)});
  seccomp.listener_path = "/run/agent.sock";
  auto fresh = compile_seccomp(seccomp);
  ASSERT_TRUE(fresh) << fresh.error().message;
  auto same = [&](const SeccompProgram& program) {
    return program.flags == fresh->flags && program.wants_listener && program.listener_path == "/run/agent.sock" &&
           program.filter.size() == fresh->filter.size() &&
           std::memcmp(program.filter.data(), fresh->filter.data(), program.filter.size() * sizeof(sock_filter)) == 0;
  };
  auto first = compile_seccomp_cached(seccomp, cache);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(same(*first));
  auto second = compile_seccomp_cached(seccomp, cache);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(same(*second));

  // Put another profile's entry under this profile's file name (as a hash
  // collision would): it must not be used.
  auto other_dir = TempDir::create();
  ASSERT_TRUE(other_dir);
  ASSERT_TRUE(compile_seccomp_cached(allow_all_but({rule({"getpid"}, "SCMP_ACT_ERRNO")}), other_dir->path()));
  auto entries = [](const std::string& d) {
    std::vector<std::string> paths;
    for (const auto& e : std::filesystem::directory_iterator(d)) paths.push_back(e.path());
    return paths;
  };
  ASSERT_EQ(entries(cache).size(), 1u);
  ASSERT_EQ(entries(other_dir->path()).size(), 1u);
  ASSERT_TRUE(write_file_atomic(entries(cache)[0], *read_file(entries(other_dir->path())[0])));
  auto third = compile_seccomp_cached(seccomp, cache);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_TRUE(same(*third));

  ASSERT_TRUE(write_file_atomic(entries(cache)[0], "garbage"));
  auto fourth = compile_seccomp_cached(seccomp, cache);
  ASSERT_TRUE(fourth) << fourth.error().message;
  EXPECT_TRUE(same(*fourth));
}
