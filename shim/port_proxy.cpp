#include "shim/port_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/base/strings.h"
#include "shim/proxy_loop.h"

namespace ctr::shim {
namespace {

struct ForwardSpec {
  std::string protocol;
  uint16_t port = 0;
};

Result<ForwardSpec> parse_forward(const std::string& text) {
  auto colon = text.find(':');
  std::string protocol = text.substr(0, colon);
  uint64_t port = colon == std::string::npos ? 0 : parse_u64(text.substr(colon + 1)).value_or(0);
  if ((protocol != "tcp" && protocol != "udp") || port < 1 || port > 65535)
    return make_error("bad forward `" + text + "`: expected tcp:PORT or udp:PORT", EINVAL);
  return ForwardSpec{protocol, static_cast<uint16_t>(port)};
}

// The container's own IPv4 address: where slirp4netns's --configure put
// it (10.0.2.100 unless cidr= moved it). The caller is in its namespace.
Result<in_addr> container_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return sys_error("getifaddrs");
  std::optional<in_addr> found;
  for (ifaddrs* entry = list; entry && !found; entry = entry->ifa_next)
    if (entry->ifa_addr && entry->ifa_addr->sa_family == AF_INET && (entry->ifa_flags & IFF_UP) &&
        !(entry->ifa_flags & IFF_LOOPBACK))
      found = reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr;
  ::freeifaddrs(list);
  if (!found) return make_error("the container's network has no IPv4 address to forward to", EADDRNOTAVAIL);
  return *found;
}

// Each connection holds four fds (two sockets, a pipe for each way).
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Status serve(const std::vector<ForwardSpec>& forwards, proxy::Loop& loop) {
  if (::setns(kProxyNetnsFd, CLONE_NEWNET) != 0) return sys_error("enter the container's network namespace");
  ::close(kProxyNetnsFd);
  TRY_ASSIGN(address, container_address());
  for (size_t i = 0; i < forwards.size(); ++i) {
    int fd = kProxyFirstListenerFd + static_cast<int>(i);
    if (::fcntl(fd, F_SETFL, O_NONBLOCK) != 0) return sys_error("listener fd " + std::to_string(fd));
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_addr = address;
    target.sin_port = htons(forwards[i].port);
    auto added = forwards[i].protocol == "tcp" ? proxy::add_tcp_forwarder(loop, UniqueFd(fd), target)
                                               : proxy::add_udp_forwarder(loop, UniqueFd(fd), target);
    if (!added) return std::move(added).error();
  }
  return {};
}

}  // namespace

Result<std::vector<ProxiedPort>> bind_proxied_ports(const std::vector<PortMapping>& mappings) {
  std::vector<ProxiedPort> ports;
  for (const auto& m : mappings)
    for (unsigned offset = 0; offset < m.range; ++offset) {
      ProxiedPort port;
      port.protocol = m.protocol;
      port.container_port = static_cast<uint16_t>(m.container_port + offset);
      port.host = m.host_address() + ":" + std::to_string(m.host_port + offset) + "/" + m.protocol;
      auto fd = bind_host_port(m.host_ip, m.host_port + offset, m.protocol, m.protocol == "tcp");
      if (!fd) return std::move(fd).error().context("publish " + port.host);
      if (m.protocol == "tcp" && ::listen(fd->get(), SOMAXCONN) != 0)
        return sys_error("publish " + port.host + ": listen");
      port.listener = std::move(*fd);
      ports.push_back(std::move(port));
    }
  return ports;
}

std::vector<std::string> port_proxy_arguments(const std::vector<ProxiedPort>& ports) {
  std::vector<std::string> args;
  for (const auto& port : ports) args.push_back(port.protocol + ":" + std::to_string(port.container_port));
  return args;
}

int port_proxy_main(const std::vector<std::string>& args) {
  (void)::prctl(PR_SET_NAME, "ctr-port-proxy");
  ::signal(SIGPIPE, SIG_IGN);  // a peer gone mid-splice is an error return, not a death
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "ctr-shim port-proxy: %s\n", message.c_str());
    return 1;
  };
  std::vector<ForwardSpec> forwards;
  for (const auto& arg : args) {
    auto spec = parse_forward(arg);
    if (!spec) return fail(spec.error().message);
    forwards.push_back(*spec);
  }
  raise_fd_limit();
  auto loop = proxy::Loop::make();
  if (!loop) return fail(loop.error().message);
  if (auto served = serve(forwards, **loop); !served) return fail(served.error().message);
  char ready = '1';
  if (::write(kProxyReadyFd, &ready, 1) != 1) return fail("tell the shim it is ready: " + std::string(strerror(errno)));
  ::close(kProxyReadyFd);
  return (*loop)->run(kProxyExitFd);
}

}  // namespace ctr::shim
