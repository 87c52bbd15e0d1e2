#include "runtime/base/unix_address.h"

#include <fcntl.h>

#include <cstddef>
#include <cstring>

#include "runtime/base/files.h"

namespace ctr {
namespace {

constexpr size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;  // room for the NUL

}  // namespace

Result<UnixAddress> UnixAddress::for_path(const std::string& path) {
  if (path.empty()) return make_error("empty socket path", EINVAL);
  UnixAddress out;
  std::string name = path;
  if (name.size() > kMaxPath) {
    size_t slash = path.rfind('/');
    std::string dir_path = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    auto dir = open_fd(dir_path, O_PATH | O_DIRECTORY);
    if (!dir) return std::move(dir).error().context("socket path `" + path + "`: open its directory");
    out.dir_ = std::move(*dir);
    name = "/proc/self/fd/" + std::to_string(out.dir_.get()) + "/" + base;
    if (name.size() > kMaxPath)
      return make_error("socket path `" + path + "` is too long: its name `" + base +
                            "` does not fit a socket address (" + std::to_string(kMaxPath) +
                            " bytes) even through its directory's fd; use a shorter name",
                        ENAMETOOLONG);
  }
  out.address_.sun_family = AF_UNIX;
  std::memcpy(out.address_.sun_path, name.c_str(), name.size() + 1);
  out.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  return out;
}

Result<UnixAddress> UnixAddress::abstract(std::string_view name) {
  if (name.empty()) return make_error("empty abstract socket name", EINVAL);
  if (name.size() > kMaxPath)
    return make_error("abstract socket name `@" + std::string(name) + "` is too long for a socket address",
                      ENAMETOOLONG);
  UnixAddress out;
  out.address_.sun_family = AF_UNIX;
  // sun_path[0] stays NUL: the abstract namespace; the length delimits the name.
  std::memcpy(out.address_.sun_path + 1, name.data(), name.size());
  out.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return out;
}

}  // namespace ctr
