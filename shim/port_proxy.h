// ctr's own forwarder for the published ports of a slirp4netns network
// (podman's default there, port_handler=rootlesskit): slirp4netns's own
// forwarding copies every byte through its user-mode TCP stack, at about
// half the throughput. The shim binds the host ports in the host's network
// namespace and starts `ctr-shim port-proxy`, which enters the container's
// namespace (it is in the container's user namespace, which owns it), so
// every socket it opens is there. It accepts on the host side, connects to
// the container's own address and moves the bytes with splice(2) (TCP) or
// per-client sockets (UDP). A server in the container sees connections and
// datagrams come from the container's own address, not the client's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/port_mapping.h"

namespace ctr::shim {

// The proxy's command word: `ctr-shim port-proxy PROTO:PORT...`.
inline constexpr const char* kPortProxyCommand = "port-proxy";
// Its fixed fds: the container's network namespace, the ready pipe (it
// writes "1" once it is in the namespace), the exit pipe (EOF: the shim is
// gone or wants it gone), then one listener per PROTO:PORT argument.
inline constexpr int kProxyNetnsFd = 3, kProxyReadyFd = 4, kProxyExitFd = 5, kProxyFirstListenerFd = 6;

// A host port bound by the shim, and where it leads in the container.
struct ProxiedPort {
  UniqueFd listener;  // listening (tcp) or bound (udp), in the host's namespace
  std::string protocol;
  uint16_t container_port = 0;
  std::string host;  // "127.0.0.1:8080/tcp", for messages
};

// Binds (and for tcp listens on) every host port of `mappings`; the error
// names the first port that cannot be had and why.
Result<std::vector<ProxiedPort>> bind_proxied_ports(const std::vector<PortMapping>& mappings);

// The proxy's arguments after the command word ("tcp:80", "udp:53"), one per port in order.
std::vector<std::string> port_proxy_arguments(const std::vector<ProxiedPort>& ports);

// `ctr-shim port-proxy ...`: runs until its exit pipe ends; its exit code.
int port_proxy_main(const std::vector<std::string>& args);

}  // namespace ctr::shim
