#include "cmd/sdnotify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "cmd/app.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cmd {

Status check_sdnotify_mode(const std::string& mode) {
  for (const char* known : kSdNotifyModes)
    if (mode == known) return {};
  return make_error("invalid --sdnotify `" + mode + "`: use container, conmon or ignore", EINVAL);
}

const std::string& take_notify_socket() {
  static const std::string socket = [] {
    const char* value = std::getenv("NOTIFY_SOCKET");
    std::string text = value ? value : "";
    ::unsetenv("NOTIFY_SOCKET");
    return text;
  }();
  return socket;
}

bool notify_relayed(const std::string& mode, const std::string& socket) {
  return mode == "container" && !socket.empty();
}

Result<ContainerNotify> container_notify(const std::string& socket, const std::string& relay) {
  if (socket.size() < 2 || (socket[0] != '/' && socket[0] != '@'))
    return make_error("--sdnotify=container: NOTIFY_SOCKET `" + socket +
                          "` is neither a socket path nor an @abstract name: use --sdnotify=conmon or ignore",
                      EINVAL);
  ContainerNotify notify;
  notify.mount = {kContainerNotifySocket, "bind", relay, {"bind", "nosuid", "nodev", "noexec"}};
  notify.env = std::string("NOTIFY_SOCKET=") + kContainerNotifySocket;
  return notify;
}

Status send_notify(const std::string& socket, const std::string& message) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.empty() || socket.size() >= sizeof address.sun_path || (socket[0] != '/' && socket[0] != '@'))
    return make_error("NOTIFY_SOCKET `" + socket + "`: not an absolute path or @abstract name", EINVAL);
  std::memcpy(address.sun_path, socket.data(), socket.size());
  if (socket[0] == '@') address.sun_path[0] = '\0';
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  ssize_t sent;
  do sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&address), length);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return sys_error("send to NOTIFY_SOCKET `" + socket + "`");
  return {};
}

std::string started_message(const std::string& mode, bool detached, pid_t shim_pid) {
  std::string main_pid = detached && shim_pid > 0 ? "MAINPID=" + std::to_string(shim_pid) : "";
  if (mode == "conmon") return main_pid.empty() ? "READY=1" : main_pid + "\nREADY=1";
  if (mode == "container") return main_pid;  // READY=1 is the payload's to send
  return "";
}

namespace {

// The cgroup v2 path of `pid` ("0::/path"), "" when unknown.
std::string cgroup_of(const std::string& pid) {
  auto text = read_file("/proc/" + pid + "/cgroup");
  if (!text) return "";
  for (const auto& line : split(*text, '\n'))
    if (starts_with(line, "0::")) return line.substr(3);
  return "";
}

}  // namespace

bool inside_cgroup_of_self(pid_t pid) {
  std::string mine = cgroup_of("self"), theirs = cgroup_of(std::to_string(pid));
  if (mine.empty() || theirs.empty()) return true;  // cannot tell: let systemd judge
  return theirs == mine || starts_with(theirs, mine == "/" ? mine : mine + "/");
}

void notify_container_started(const std::string& mode, bool detached, pid_t shim_pid) {
  const std::string& socket = take_notify_socket();
  std::string message = started_message(mode, detached, shim_pid);
  if (socket.empty() || message.empty()) return;
  // systemd refuses a MAINPID= outside the unit's cgroup: the unit would
  // then end with ctr while the container runs on in its own scope.
  if (detached && shim_pid > 0 && !inside_cgroup_of_self(shim_pid))
    warn("--sdnotify=" + mode + ": the shim (pid " + std::to_string(shim_pid) +
         ") runs outside this unit's cgroup, so systemd will not take it as the main PID: use --cgroups=split (with "
         "Delegate=yes in the unit)");
  if (auto sent = send_notify(socket, message); !sent) warn("--sdnotify=" + mode + ": " + sent.error().message);
}

}  // namespace ctr::cmd
