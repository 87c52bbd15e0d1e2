// UnixAddress: a sockaddr_un for a unix socket path, also for paths longer
// than sun_path (108 bytes, including the NUL). State directories under deep
// $XDG_RUNTIME_DIRs or bundle paths easily pass that, so a long path is
// reached through an O_PATH fd of its directory: /proc/self/fd/N/NAME. The
// UnixAddress owns that fd and keeps it open while it lives (the address is
// only meaningful as long as fd N is), so keep it alive across the
// bind/connect/sendto calls that use it.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

class UnixAddress {
 public:
  UnixAddress() = default;
  UnixAddress(UnixAddress&&) noexcept = default;
  UnixAddress& operator=(UnixAddress&&) noexcept = default;

  // The address of the socket at `path`. Errors: EINVAL for an empty path,
  // the open error of a long path's directory, ENAMETOOLONG when even
  // /proc/self/fd/N/NAME does not fit (the message names the path). Callers
  // add their own context ("connect `...`").
  static Result<UnixAddress> for_path(const std::string& path);
  // A Linux abstract socket name (no file; `name` without the leading NUL or '@').
  static Result<UnixAddress> abstract(std::string_view name);

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t size() const { return length_; }
  // True when the path is reached through its directory's fd (a long path).
  bool via_directory() const { return dir_.valid(); }

 private:
  sockaddr_un address_{};
  socklen_t length_ = 0;
  UniqueFd dir_;  // a long path's directory, named by address_
};

}  // namespace ctr
