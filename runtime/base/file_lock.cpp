#include "runtime/base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include "runtime/base/files.h"

namespace ctr {

static Result<FileLock> lock_path(const std::string& path, int operation) {
  TRY_ASSIGN(fd, open_fd(path, O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), operation) != 0) {
    if (errno != EINTR) return sys_error("lock `" + path + "`");
  }
  return FileLock::adopt(std::move(fd));
}

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode) {
  return lock_path(path, mode == Mode::shared ? LOCK_SH : LOCK_EX);
}

Result<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) {
  return lock_path(path, (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB);
}

}  // namespace ctr
