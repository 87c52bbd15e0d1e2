// Builds tar streams in memory with libarchive's writer, for unpack and
// archive tests: every malicious case is an archive we make on the spot.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/unique_fd.h"

namespace ctr::test_tar {

enum class Compression { none, gzip, zstd };

struct TarEntry {
  std::string path;
  mode_t type = AE_IFREG;
  mode_t perm = 0644;
  std::string content;  // regular files
  std::string link;     // symlink target or hard link target
  bool hardlink = false;
  int64_t uid = -1, gid = -1;  // -1: ours
  int64_t mtime = 1700000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
  int64_t declared_size = -1;  // header size when it differs from content (size-limit tests)
};

inline TarEntry file_entry(std::string path, std::string content, mode_t perm = 0644) {
  TarEntry e;
  e.path = std::move(path);
  e.content = std::move(content);
  e.perm = perm;
  return e;
}
inline TarEntry dir_entry(std::string path, mode_t perm = 0755) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.perm = perm;
  return e;
}
inline TarEntry symlink_entry(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.perm = 0777;
  e.link = std::move(target);
  return e;
}
inline TarEntry hardlink_entry(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.link = std::move(target);
  e.hardlink = true;
  return e;
}

inline la_ssize_t tar_builder_write(archive*, void* data, const void* buf, size_t size) {
  static_cast<std::string*>(data)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

// The tar (compressed as asked) holding `entries` in order.
inline std::string build_tar(const std::vector<TarEntry>& entries, Compression compression = Compression::none) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compression == Compression::gzip) archive_write_add_filter_gzip(a);
  if (compression == Compression::zstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, tar_builder_write, nullptr);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_mtime(entry, e.mtime, 0);
    archive_entry_set_uid(entry, e.uid >= 0 ? e.uid : ::getuid());
    archive_entry_set_gid(entry, e.gid >= 0 ? e.gid : ::getgid());
    if (e.hardlink) {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_perm(entry, e.perm);
      archive_entry_set_hardlink(entry, e.link.c_str());
      archive_entry_set_size(entry, 0);
    } else {
      archive_entry_set_filetype(entry, e.type);
      archive_entry_set_perm(entry, e.perm);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
      if (e.type == AE_IFCHR) archive_entry_set_rdev(entry, 0);
      int64_t size = e.type == AE_IFREG ? static_cast<int64_t>(e.content.size()) : 0;
      archive_entry_set_size(entry, e.declared_size >= 0 ? e.declared_size : size);
    }
    for (const auto& [k, v] : e.xattrs) archive_entry_xattr_add_entry(entry, k.c_str(), v.data(), v.size());
    archive_write_header(a, entry);
    if (!e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// An fd (memfd) positioned at the start of `data`.
inline UniqueFd memory_fd(const std::string& data) {
  UniqueFd fd(::memfd_create("tar", MFD_CLOEXEC));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

}  // namespace ctr::test_tar
