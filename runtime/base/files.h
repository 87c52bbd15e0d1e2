// File helpers: whole-file reads, atomic writes, directories, TempDir.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

Result<UniqueFd> open_fd(const std::string& path, int flags, mode_t mode = 0);
Result<std::string> read_file(const std::string& path);
Result<std::string> read_fd(int fd);
Status write_all(int fd, const void* data, size_t size);
Status write_all(int fd, const std::string& data);
enum class Durability {
  durable,    // fsync before the rename: the content survives a power loss
  ephemeral,  // runtime state on tmpfs, gone at reboot anyway: atomic, no fsync
};
// Writes `data` to `path` so readers see the old or the new content, never a
// mix: write a temp file beside it, (fsync,) rename over.
Status write_file_atomic(const std::string& path, const std::string& data, mode_t mode = 0644,
                         Durability durability = Durability::durable);
// Plain (non-atomic) write, for kernel files such as /proc/PID/uid_map.
Status write_file(const std::string& path, const std::string& data);
Status mkdir_p(const std::string& path, mode_t mode = 0755);
// Removes a tree without following symlinks; ENOENT is not an error.
Status remove_tree(const std::string& path);
bool path_exists(const std::string& path);

// A fresh private directory, removed with its contents in the destructor.
class TempDir {
 public:
  static Result<TempDir> create(const std::string& prefix = "ctr-");
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace ctr
