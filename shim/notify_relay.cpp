#include "shim/notify_relay.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/base/strings.h"

namespace ctr::shim {
namespace {

// The address of a path or an "@abstract" name. A path too long for
// sun_path goes through its directory's fd (UnixAddress; as the attach
// socket does: state directories under long $XDG_RUNTIME_DIRs).
Result<UnixAddress> unix_address(const std::string& path) {
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@'))
    return make_error("notify socket `" + path + "`: not an absolute path or @abstract name", EINVAL);
  auto address = path[0] == '@' ? UnixAddress::abstract(std::string_view(path).substr(1)) : UnixAddress::for_path(path);
  if (!address) return std::move(address).error().context("notify socket `" + path + "`");
  return address;
}

}  // namespace

std::string relay_message(std::string_view datagram, pid_t main_pid) {
  std::string kept;
  bool ready = false;
  for (const auto& line : split(std::string(datagram), '\n')) {
    if (line.empty() || starts_with(line, "MAINPID=")) continue;
    if (line == "READY=1") ready = true;
    kept += line + "\n";
  }
  if (kept.empty()) return "";
  kept.pop_back();
  if (ready && main_pid > 0) kept = "MAINPID=" + std::to_string(main_pid) + "\n" + kept;
  return kept;
}

Result<NotifyRelay> NotifyRelay::open(const std::string& path, const std::string& target, pid_t main_pid) {
  NotifyRelay relay;
  TRY_ASSIGN(target_address, unix_address(target));
  TRY_ASSIGN(address, unix_address(path));
  relay.fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!relay.fd_) return sys_error("socket");
  (void)::unlink(path.c_str());  // a previous run's
  if (::bind(relay.fd_.get(), address.get(), address.size()) != 0)
    return sys_error("bind the notify socket `" + path + "`");
  // The container's user may be any uid of its user namespace.
  if (::chmod(path.c_str(), 0666) != 0) return sys_error("chmod `" + path + "`");
  relay.target_ = std::move(target_address);
  relay.main_pid_ = main_pid;
  return relay;
}

unsigned NotifyRelay::forward() {
  unsigned sent = 0;
  char buffer[4096];
  for (;;) {
    // Ancillary data (FDSTORE=1's fds) is not taken: the kernel closes them.
    ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer - 1, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: drained
    std::string message = relay_message(std::string_view(buffer, static_cast<size_t>(n)), main_pid_);
    if (message.empty()) continue;
    ssize_t out;
    do out = ::sendto(fd_.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                      target_.get(), target_.size());
    while (out < 0 && errno == EINTR);
    if (out >= 0) ++sent;  // else: systemd gone or its queue full; nothing to tell anyone
  }
  return sent;
}

}  // namespace ctr::shim
