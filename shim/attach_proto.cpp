#include "shim/attach_proto.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "runtime/base/files.h"

namespace ctr::shim {

namespace {

// Binds or connects `fd` to `path`. A path too long for sun_path goes
// through an O_PATH fd of its directory (as conmon does for attach sockets
// under long state directories).
Status with_address(int fd, const std::string& path, bool bind) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  UniqueFd dir;
  std::string target = path;
  if (target.size() >= sizeof addr.sun_path) {
    auto slash = path.rfind('/');
    std::string dir_path = slash == std::string::npos ? "." : path.substr(0, slash ? slash : 1);
    TRY_ASSIGN(opened, open_fd(dir_path, O_PATH | O_DIRECTORY));
    dir = std::move(opened);
    target = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + path.substr(slash + 1);
    if (target.size() >= sizeof addr.sun_path)
      return make_error("socket path `" + path + "` is too long", ENAMETOOLONG);
  }
  std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  auto* address = reinterpret_cast<sockaddr*>(&addr);
  int rc = bind ? ::bind(fd, address, sizeof addr) : ::connect(fd, address, sizeof addr);
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
