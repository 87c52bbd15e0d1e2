#include "shim/attach_proto.h"

#include <sys/socket.h>

#include "runtime/base/unix_address.h"

namespace ctr::shim {

namespace {

// Binds or connects `fd` to `path`. A path too long for sun_path goes
// through an O_PATH fd of its directory (UnixAddress; as conmon does for
// attach sockets under long state directories).
Status with_address(int fd, const std::string& path, bool bind) {
  TRY_ASSIGN(address, UnixAddress::for_path(path));
  int rc = bind ? ::bind(fd, address.get(), address.size()) : ::connect(fd, address.get(), address.size());
  if (rc != 0) return sys_error(std::string(bind ? "bind" : "connect") + " `" + path + "`");
  return {};
}

Result<UniqueFd> listen_socket(const std::string& path, int type) {
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("socket");
  (void)::unlink(path.c_str());
  TRY(with_address(fd.get(), path, true));
  if (::listen(fd.get(), 16) != 0) return sys_error("listen `" + path + "`");
  return fd;
}

}  // namespace

Result<UniqueFd> listen_seqpacket(const std::string& path) {
  return listen_socket(path, SOCK_SEQPACKET);
}
Result<UniqueFd> listen_stream(const std::string& path) {
  return listen_socket(path, SOCK_STREAM);
}

Result<UniqueFd> connect_seqpacket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  TRY(with_address(fd.get(), path, false));
  return fd;
}

std::string make_packet(PacketType type, const void* data, size_t size) {
  std::string packet(1, static_cast<char>(type));
  packet.append(static_cast<const char*>(data), size);
  return packet;
}

}  // namespace ctr::shim
