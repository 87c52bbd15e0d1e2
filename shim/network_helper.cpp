#include "shim/network_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/port_proxy.h"
#include "shim/records.h"

namespace ctr::shim {
namespace {

// Fixed fd numbers in the helper (the shim's own fds are all close-on-exec).
constexpr int kNetnsFd = 3, kReadyFd = 4, kExitFd = 5;
// Configuring a namespace takes milliseconds; a helper that takes longer is hung.
constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(2);

bool has_any(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const auto& arg : args)
    for (const char* name : names)
      if (arg == name || starts_with(arg, std::string(name) + "=")) return true;
  return false;
}

// What the helper wrote, minus pasta's complaints about a missing syslog.
std::string helper_text(int fd) {
  ::lseek(fd, 0, SEEK_SET);
  auto text = read_fd(fd);
  if (!text) return "";
  std::vector<std::string> kept;
  for (const auto& line : split(*text, '\n'))
    if (!trim(line).empty() && !starts_with(line, "Failed to send")) kept.emplace_back(trim(line));
  return join(kept, "; ");
}

Error helper_error(const NetworkHelperConfig& config, const std::string& what, int output_fd) {
  std::string text = helper_text(output_fd);
  return make_error(config.kind + " (`" + config.binary + "`) " + what + (text.empty() ? "" : ": " + text), EIO);
}

// fork + exec with `fds` placed at 3, 4, ... (in that order), stdout and
// stderr on `output_fd`, in directory `cwd` ("": the shim's). Only syscalls
// between fork and exec.
Result<pid_t> spawn_helper(const std::vector<std::string>& argv, const std::vector<int>& fds, int output_fd,
                           const std::string& cwd = {}) {
  // Above any fixed number first, so placing one never overwrites another.
  std::vector<UniqueFd> high;
  for (int fd : fds) {
    high.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    if (!high.back()) return sys_error("dup");
  }
  UniqueFd out(::fcntl(output_fd, F_DUPFD_CLOEXEC, 100));
  if (!out) return sys_error("dup");
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDONLY));
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    // The shim blocks these for its signalfd and ignores SIGPIPE: both
    // would survive exec and keep the helper from being stopped.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    if (::dup2(null_fd.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(out.get(), 2) < 0) ::_exit(126);
    for (size_t i = 0; i < high.size(); ++i)
      if (::dup2(high[i].get(), kNetnsFd + static_cast<int>(i)) < 0) ::_exit(126);
    // Nothing else: a pasta daemon holding the sync pipe (not close-on-exec)
    // would keep ctr waiting for its end.
    ::close_range(static_cast<unsigned>(kNetnsFd + high.size()), ~0U, 0);
    ::execv(cargv[0], cargv.data());
    const char* message = "cannot execute the helper\n";
    (void)!::write(2, message, strlen(message));
    ::_exit(127);
  }
  return pid;
}

// Waits for our child `pid` to exit (at most `timeout`); its status, or -1
// when it did not exit in time (it is then killed and reaped).
int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  int status = 0;
  if (pidfd) {
    pollfd pfd{pidfd.get(), POLLIN, 0};
    int n;
    do n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    while (n < 0 && errno == EINTR);
    if (n == 0) {
      ::kill(pid, SIGKILL);
      (void)::waitpid(pid, &status, 0);
      return -1;
    }
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string describe(int status) {
  if (status < 0) return "did not finish within " + std::to_string(kReadyTimeout.count()) + " s";
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "failed with exit code " + std::to_string(WEXITSTATUS(status));
}

bool in_initial_user_namespace() {
  auto map = read_file("/proc/self/uid_map");
  if (!map) return false;
  auto fields = split(std::string(trim(*map)), ' ');
  std::vector<std::string> words;
  for (const auto& f : fields)
    if (!f.empty()) words.push_back(f);
  return words == std::vector<std::string>{"0", "0", "4294967295"};
}


struct ExitPipe {
  UniqueFd read, write;
};

Result<ExitPipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  return ExitPipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Waits for the "1" a child writes on its ready pipe once it is ready; an
// EOF first means it died. The error says which.
Status wait_ready(const UniqueFd& ready_read) {
  pollfd pfd{ready_read.get(), POLLIN, 0};
  int n;
  do n = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kReadyTimeout).count()));
  while (n < 0 && errno == EINTR);
  char byte = 0;
  if (n <= 0) return make_error("did not get ready within " + std::to_string(kReadyTimeout.count()) + " s", ETIMEDOUT);
  if (::read(ready_read.get(), &byte, 1) != 1 || byte != '1') return make_error("exited before it was ready", EIO);
  return {};
}

// A child with `before` at fds 3, ..., then its ready pipe and its exit
// pipe, then `after`; running and ready, or an error (and no child).
Result<HelperProcess> spawn_with_pipes(const std::vector<std::string>& argv, std::vector<int> before,
                                       const std::vector<int>& after, int output_fd, const std::string& cwd = {}) {
  TRY_ASSIGN(ready, make_pipe());
  TRY_ASSIGN(quit, make_pipe());
  std::vector<int> fds = std::move(before);
  fds.push_back(ready.write.get());
  fds.push_back(quit.read.get());
  fds.insert(fds.end(), after.begin(), after.end());
  TRY_ASSIGN(child, spawn_helper(argv, fds, output_fd, cwd));
  HelperProcess process;
  process.pid = child;
  process.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
  process.exit_fd = std::move(quit.write);
  ready.write.reset();
  quit.read.reset();
  TRY(wait_ready(ready.read));
  return process;
}

Result<HelperProcess> start_pasta(const NetworkHelperConfig& config, const UniqueFd& netns, int output_fd) {
  std::string pid_file = config.state_dir + "/pasta.pid";
  (void)::unlink(pid_file.c_str());
  TRY_ASSIGN(child, spawn_helper(pasta_argv(config, pid_file, kNetnsFd), {netns.get()}, output_fd));
  int status = wait_child(child, kReadyTimeout);
  if (status != 0) return helper_error(config, describe(status), output_fd);
  auto text = read_file(pid_file);
  auto pid = text ? parse_u64(trim(*text)) : std::nullopt;
  (void)::unlink(pid_file.c_str());
  if (!pid || *pid == 0 || *pid > INT32_MAX)
    return helper_error(config, "started but wrote no pid to `" + pid_file + "`", output_fd);
  HelperProcess process;
  process.pid = static_cast<pid_t>(*pid);
  // Still ours to signal safely: an orphan of ours is not reaped (and its
  // pid not reused) until the shim's loop runs.
  process.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, process.pid, 0)));
  return process;
}

Result<HelperProcess> start_slirp4netns(const NetworkHelperConfig& config, const UniqueFd& netns, int output_fd) {
  // It runs in the state directory: its API socket's full path may exceed sun_path.
  auto started = spawn_with_pipes(slirp4netns_argv(config, kNetnsFd, kReadyFd, kExitFd), {netns.get()}, {},
                                  output_fd, config.state_dir);
  if (!started) return helper_error(config, started.error().message, output_fd);
  return started;
}

Status forward_with_slirp4netns(const NetworkHelperConfig& config) {
  for (const auto& mapping : config.ports)
    TRY(slirp4netns_add_forward(config.state_dir + "/" + kSlirpApiSocket, mapping));
  return {};
}

// The port proxy: the shim's own binary, run as `ctr-shim port-proxy`.
Result<HelperProcess> start_port_proxy(const std::vector<ProxiedPort>& ports, const UniqueFd& netns, int output_fd) {
  std::vector<std::string> argv{"/proc/self/exe", kPortProxyCommand};
  auto forwards = port_proxy_arguments(ports);
  argv.insert(argv.end(), forwards.begin(), forwards.end());
  std::vector<int> listeners;
  for (const auto& port : ports) listeners.push_back(port.listener.get());
  static_assert(kProxyNetnsFd == kNetnsFd && kProxyReadyFd == kReadyFd && kProxyExitFd == kExitFd &&
                kProxyFirstListenerFd == kExitFd + 1);
  auto started = spawn_with_pipes(argv, {netns.get()}, listeners, output_fd);
  if (!started) {
    std::string text = helper_text(output_fd);
    return make_error("ctr's port proxy " + started.error().message + (text.empty() ? "" : ": " + text), EIO);
  }
  return started;
}

}  // namespace

std::vector<std::string> pasta_argv(const NetworkHelperConfig& config, const std::string& pid_file, int netns_fd) {
  std::vector<std::string> argv{config.binary, "--config-net"};
  auto ports = pasta_port_arguments(config.ports);
  argv.insert(argv.end(), ports.begin(), ports.end());
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  // As podman: nothing is forwarded that was not asked for (pasta's default
  // would forward every port bound on either side).
  std::vector<std::string> all(argv.begin() + 1, argv.end());
  if (!has_any(all, {"-t", "--tcp-ports"})) argv.insert(argv.end(), {"-t", "none"});
  if (!has_any(all, {"-u", "--udp-ports"})) argv.insert(argv.end(), {"-u", "none"});
  if (!has_any(all, {"-T", "--tcp-ns"})) argv.insert(argv.end(), {"-T", "none"});
  if (!has_any(all, {"-U", "--udp-ns"})) argv.insert(argv.end(), {"-U", "none"});
  if (config.real_root && !has_any(all, {"--runas"})) argv.insert(argv.end(), {"--runas", "0:0"});
  // --pid: pasta daemonizes once the namespace is configured; the file names
  // the daemon (an orphan the shim, a subreaper, inherits).
  argv.insert(argv.end(), {"--quiet", "--pid", pid_file, "--netns", "/proc/self/fd/" + std::to_string(netns_fd)});
  return argv;
}

std::vector<std::string> slirp4netns_argv(const NetworkHelperConfig& config, int netns_fd, int ready_fd, int exit_fd) {
  std::vector<std::string> argv{config.binary,
                                "--configure",
                                "--ready-fd=" + std::to_string(ready_fd),
                                "--exit-fd=" + std::to_string(exit_fd),
                                // Relative (it runs in the state directory):
                                // the full path may exceed sun_path's 108 bytes.
                                "--api-socket",
                                kSlirpApiSocket,
                                "--enable-sandbox",
                                "--enable-seccomp"};
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  argv.insert(argv.end(), {"--netns-type=path", "/proc/self/fd/" + std::to_string(netns_fd), "tap0"});
  return argv;
}

HelperProcess::HelperProcess(HelperProcess&& other) noexcept
    : pid(std::exchange(other.pid, 0)), pidfd(std::move(other.pidfd)), exit_fd(std::move(other.exit_fd)) {}

HelperProcess& HelperProcess::operator=(HelperProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid = std::exchange(other.pid, 0);
    pidfd = std::move(other.pidfd);
    exit_fd = std::move(other.exit_fd);
  }
  return *this;
}

void HelperProcess::stop() {
  if (pid <= 0) return;
  exit_fd.reset();  // slirp4netns and the port proxy: the signal to quit
  if (pidfd) {
    (void)::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0);
    pollfd pfd{pidfd.get(), POLLIN, 0};
    int n;
    do n = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kStopTimeout).count()));
    while (n < 0 && errno == EINTR);
    if (n == 0) {
      (void)::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
      do n = ::poll(&pfd, 1, 5000);
      while (n < 0 && errno == EINTR);
    }
    // Reaped here unless the shim's loop got it first (then ECHILD).
    siginfo_t info{};
    (void)::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(pidfd.get()), &info, WEXITED | WNOHANG);
  }
  pidfd.reset();
  pid = 0;
}

NetworkHelper& NetworkHelper::operator=(NetworkHelper&& other) noexcept {
  if (this != &other) {
    stop();
    helper_ = std::move(other.helper_);
    proxy_ = std::move(other.proxy_);
    state_dir_ = std::move(other.state_dir_);
  }
  return *this;
}

Result<NetworkHelper> NetworkHelper::start(const NetworkHelperConfig& given, pid_t container_pid) {
  NetworkHelperConfig config = given;
  config.real_root = ::geteuid() == 0 && in_initial_user_namespace();
  bool proxied = config.kind == "slirp4netns" && config.port_handler != "slirp4netns" && !config.ports.empty();
  // First the host ports: one that is taken fails before anything started.
  std::vector<ProxiedPort> ports;
  if (proxied) {
    TRY_ASSIGN(bound, bind_proxied_ports(config.ports));
    ports = std::move(bound);
  }
  TRY_ASSIGN(netns, open_fd("/proc/" + std::to_string(container_pid) + "/ns/net", O_RDONLY));
  UniqueFd output(::memfd_create("network-helper", MFD_CLOEXEC));
  if (!output) return sys_error("memfd_create");
  NetworkHelper helper;
  helper.state_dir_ = config.state_dir;
  if (config.kind == "pasta") {
    TRY_ASSIGN(pasta, start_pasta(config, netns, output.get()));
    helper.helper_ = std::move(pasta);
  } else {
    TRY_ASSIGN(slirp, start_slirp4netns(config, netns, output.get()));
    helper.helper_ = std::move(slirp);
    if (proxied) {
      TRY_ASSIGN(proxy, start_port_proxy(ports, netns, output.get()));
      helper.proxy_ = std::move(proxy);
    } else {
      TRY(forward_with_slirp4netns(config));
    }
  }
  auto identity = process_identity(helper.helper_.pid);
  if (!identity) return helper_error(config, "exited right after it started", output.get());
  TRY_CTX(write_file_atomic(config.state_dir + "/" + kNetworkHelperPidFile, format_identity(*identity), 0644,
                            Durability::ephemeral),
          "record the network helper's pid");
  return helper;
}

void NetworkHelper::stop() {
  proxy_.stop();
  if (helper_.pid <= 0) return;
  helper_.stop();
  if (!state_dir_.empty()) {
    (void)::unlink((state_dir_ + "/" + kNetworkHelperPidFile).c_str());
    (void)::unlink((state_dir_ + "/" + kSlirpApiSocket).c_str());
  }
}

}  // namespace ctr::shim
