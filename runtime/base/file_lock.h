// FileLock: an flock(2) held for the object's lifetime.
#pragma once

#include <string>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

class FileLock {
 public:
  enum class Mode { shared, exclusive };
  // Opens (creating if needed) `path` and blocks until the lock is held.
  static Result<FileLock> acquire(const std::string& path, Mode mode = Mode::exclusive);
  // Like acquire, but fails with EWOULDBLOCK instead of waiting.
  static Result<FileLock> try_acquire(const std::string& path, Mode mode = Mode::exclusive);
  static FileLock adopt(UniqueFd locked_fd) { return FileLock(std::move(locked_fd)); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing the fd releases the lock
};

}  // namespace ctr
