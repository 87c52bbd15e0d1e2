// Internals of unpack_layer shared by unpack.cpp (the stream) and
// unpack_entry.cpp (writing one tar entry beneath the destination).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image/unpack.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

struct archive;
struct archive_entry;

namespace ctr::image::detail {

// A relative path split into components, after refusing absolute paths and `..`.
struct EntryPath {
  std::vector<std::string> parents;
  std::string name;  // "" for the layer root ("." or "./")
  std::string text() const;
};
Result<EntryPath> split_entry_path(const std::string& raw);

struct DeferredDir {  // directory metadata applied once every child exists
  std::string path;   // relative; "" = the root
  mode_t mode = 0755;
  timespec mtime{};
};

class Extractor {
 public:
  Extractor(UniqueFd root, const UnpackOptions& options) : root_(std::move(root)), options_(options) {}
  // Writes one entry whose header was just read from `reader`.
  Status write_entry(archive* reader, archive_entry* entry);
  // Directory modes and mtimes, after the last entry.
  Status finish();
  uint64_t bytes_written() const { return bytes_written_; }
  std::vector<std::string>& notes() { return notes_; }

 private:
  Result<int> open_parent(const EntryPath& path);
  Status clear_name(int parent, const std::string& name, bool keep_dir, bool& kept_dir);
  Status write_regular(archive* reader, archive_entry* entry, int parent, const std::string& name);
  Status write_directory(archive_entry* entry, int parent, const EntryPath& path);
  Status write_symlink(archive_entry* entry, int parent, const std::string& name);
  Status write_hardlink(archive_entry* entry, int parent, const std::string& name);
  Status write_fifo(archive_entry* entry, int parent, const std::string& name);
  Status write_whiteout(const EntryPath& path, int parent);
  Status set_owner(int fd, int parent, const std::string& name, archive_entry* entry);
  Status set_xattrs(int fd, archive_entry* entry);
  Status set_times(int parent, const std::string& name, archive_entry* entry);

  UniqueFd root_;
  const UnpackOptions& options_;
  std::vector<DeferredDir> dirs_;
  std::vector<std::string> notes_;
  uint64_t bytes_written_ = 0;
  std::string cached_parent_;  // path of cached_parent_fd_, valid while nothing was removed
  UniqueFd cached_parent_fd_;
  bool cache_valid_ = false;
};

// Removes `name` in `dir` (a tree for a directory) without following symlinks.
Status remove_at(int dir, const std::string& name);
// openat2 beneath `root` (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); "" opens root itself.
Result<UniqueFd> open_beneath(int root, const std::string& path, int flags);

}  // namespace ctr::image::detail
