// The canonical port text, pasta's options and slirp4netns's API. No JSON
// library here: the shim binary links none (records_parse.cpp), and the
// request and reply are small and fixed in shape.
#include "shim/port_mapping.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"
#include "runtime/base/unix_address.h"

namespace ctr::shim {
namespace {

std::string port_range_text(unsigned first, unsigned range) {
  std::string text = std::to_string(first);
  if (range > 1) text += "-" + std::to_string(first + range - 1);
  return text;
}

// "8080" or "8080-8082" -> first and count; strict (canonical input only).
bool parse_port_range(std::string_view text, uint16_t& first, uint16_t& range) {
  size_t dash = text.find('-');
  auto start = parse_u64(text.substr(0, dash));
  if (!start || *start < 1 || *start > 65535) return false;
  uint64_t last = *start;
  if (dash != std::string_view::npos) {
    auto end = parse_u64(text.substr(dash + 1));
    if (!end || *end <= *start || *end > 65535) return false;
    last = *end;
  }
  first = static_cast<uint16_t>(*start);
  range = static_cast<uint16_t>(last - *start + 1);
  return true;
}

bool valid_ip(const std::string& ip) {
  unsigned char buffer[16];
  int family = ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  return ::inet_pton(family, ip.c_str(), buffer) == 1;
}

// The string value of "desc" in slirp4netns's error reply, or the whole reply.
std::string reply_description(const std::string& reply) {
  size_t key = reply.find("\"desc\"");
  size_t open = key == std::string::npos ? key : reply.find('"', reply.find(':', key) + 1);
  if (open == std::string::npos) return reply;
  std::string out;
  for (size_t i = open + 1; i < reply.size() && reply[i] != '"'; ++i) {
    if (reply[i] == '\\' && i + 1 < reply.size()) ++i;
    out += reply[i];
  }
  return out;
}

Result<std::string> exchange(const std::string& path, const std::string& request, std::chrono::milliseconds timeout) {
  // A path longer than sun_path (deep $XDG_RUNTIME_DIR) is reached through
  // its directory's fd (UnixAddress).
  auto address = UnixAddress::for_path(path);
  if (!address) return std::move(address).error().context("slirp4netns's API socket");
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::connect(fd.get(), address->get(), address->size()) != 0)
    return sys_error("connect to slirp4netns's API socket `" + path + "`");
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write to slirp4netns's API socket");
    sent += static_cast<size_t>(n);
  }
  // slirp4netns answers once the request is complete, i.e. at EOF.
  if (::shutdown(fd.get(), SHUT_WR) != 0) return sys_error("shutdown slirp4netns's API socket");
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd.get(), POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return sys_error("poll slirp4netns's API socket");
    if (ready == 0)
      return make_error("slirp4netns did not answer within " + std::to_string(timeout.count()) + " ms", ETIMEDOUT);
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read slirp4netns's API socket");
    if (n == 0) return reply;
    reply.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

std::string format_port_mapping(const PortMapping& m) {
  return m.host_address() + ":" + port_range_text(m.host_port, m.range) + ":" +
         port_range_text(m.container_port, m.range) + "/" + m.protocol;
}

Result<PortMapping> parse_canonical_port_mapping(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return make_error("malformed port mapping `" + text + "` (" + why +
                          "): expected HOSTIP:HOSTPORT[-LAST]:CONTAINERPORT[-LAST]/tcp|udp",
                      EINVAL);
  };
  PortMapping m;
  size_t slash = text.rfind('/');
  if (slash == std::string::npos) return bad("no protocol");
  m.protocol = text.substr(slash + 1);
  if (m.protocol != "tcp" && m.protocol != "udp") return bad("protocol");
  std::string_view rest = std::string_view(text).substr(0, slash);
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return bad("address");
    m.host_ip = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 2);
    if (!m.ipv6()) return bad("address");
  } else {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return bad("address");
    m.host_ip = std::string(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
    if (m.ipv6()) return bad("address");
  }
  if (!valid_ip(m.host_ip)) return bad("address");
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return bad("ports");
  uint16_t host_range = 0;
  if (!parse_port_range(rest.substr(0, colon), m.host_port, host_range) ||
      !parse_port_range(rest.substr(colon + 1), m.container_port, m.range) || host_range != m.range)
    return bad("ports");
  return m;
}

Result<std::vector<PortMapping>> parse_canonical_port_mappings(const std::vector<std::string>& texts) {
  std::vector<PortMapping> out;
  for (const auto& text : texts) {
    TRY_ASSIGN(mapping, parse_canonical_port_mapping(text));
    out.push_back(std::move(mapping));
  }
  return out;
}

std::vector<std::string> pasta_port_arguments(const std::vector<PortMapping>& mappings) {
  std::vector<std::string> args;
  bool tcp = false, udp = false;
  for (const auto& m : mappings) {
    (m.protocol == "udp" ? udp : tcp) = true;
    args.push_back(m.protocol == "udp" ? "-u" : "-t");
    args.push_back(m.host_ip + "/" + port_range_text(m.host_port, m.range) + ":" +
                   port_range_text(m.container_port, m.range));
  }
  if (!tcp) args.insert(args.end(), {"-t", "none"});
  if (!udp) args.insert(args.end(), {"-u", "none"});
  return args;
}

std::string slirp4netns_hostfwd_request(const PortMapping& m, unsigned offset) {
  return R"({"execute": "add_hostfwd", "arguments": {"proto": ")" + m.protocol + R"(", "host_addr": ")" + m.host_ip +
         R"(", "host_port": )" + std::to_string(m.host_port + offset) + R"(, "guest_port": )" +
         std::to_string(m.container_port + offset) + "}}";
}

Status slirp4netns_add_forward(const std::string& api_socket, const PortMapping& m, std::chrono::milliseconds timeout) {
  if (m.ipv6())
    return make_error("cannot publish " + format_port_mapping(m) +
                          " with slirp4netns: it forwards IPv4 host addresses only (use --network pasta)",
                      EAFNOSUPPORT);
  for (unsigned offset = 0; offset < m.range; ++offset) {
    std::string what = "publish " + m.host_address() + ":" + std::to_string(m.host_port + offset) + "/" + m.protocol +
                       " (container port " + std::to_string(m.container_port + offset) + ") through slirp4netns";
    auto reply = exchange(api_socket, slirp4netns_hostfwd_request(m, offset), timeout);
    if (!reply) return std::move(reply).error().context(what);
    if (reply->find("\"return\"") == std::string::npos)
      return make_error(what + ": " + (reply->empty() ? "no reply" : reply_description(*reply)), EIO);
  }
  return {};
}

Result<UniqueFd> bind_host_port(const std::string& ip, unsigned port, const std::string& protocol, bool reuse) {
  bool v6 = ip.find(':') != std::string::npos;
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) return make_error("bad IPv6 address `" + ip + "`", EINVAL);
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) return make_error("bad IPv4 address `" + ip + "`", EINVAL);
    length = sizeof *a;
  }
  int type = protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  int one = 1;
  if (reuse) (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6) (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) return sys_error("bind");
  return fd;
}

}  // namespace ctr::shim
