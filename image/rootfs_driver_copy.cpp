// The vfs driver's copy: layers applied bottom-up onto one directory, with
// overlay's rules for whiteouts and opaque directories. Every step works on
// directory fds with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: a symlink in a layer
// is copied as a symlink and never followed out of the tree.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <map>
#include <utility>

#include "image/rootfs_driver.h"
#include "image/unpack_internal.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::image {
namespace {

struct DeferredDir {
  std::string path;  // relative to dest ("" = dest itself)
  mode_t mode;
  timespec mtime;
};

class LayerCopier {
 public:
  explicit LayerCopier(int dest_root) : dest_root_(dest_root) {}
  Status copy_dir(int src, int dst, const std::string& rel);
  Status finish();

 private:
  Status copy_entry(int src, int dst, const std::string& rel, const std::string& name);
  Status copy_regular(int src, int dst, const std::string& rel, const std::string& name, const struct stat& st);
  Status enter_dir(int src, int dst, const std::string& rel, const std::string& name, const struct stat& st);
  int dest_root_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // hard links within this layer
  std::vector<DeferredDir> dirs_;
};

// Names in the directory open as `fd` (the fd itself stays usable).
Result<std::vector<std::string>> names_in(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return sys_error("dup");
  DIR* dir = ::fdopendir(copy);
  if (!dir) {
    ::close(copy);
    return sys_error("read directory");
  }
  ::rewinddir(dir);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
      names.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  return names;
}

std::string child_path(const std::string& rel, const std::string& name) {
  return rel.empty() ? name : rel + "/" + name;
}

bool is_overlay_xattr(const std::string& name) {
  return starts_with(name, "user.overlay.") || starts_with(name, "trusted.overlay.");
}

bool is_opaque(int dir_fd) {
  char value[4] = {};
  for (const char* name : {"user.overlay.opaque", "trusted.overlay.opaque"}) {
    ssize_t n = ::fgetxattr(dir_fd, name, value, sizeof value);
    if (n == 1 && value[0] == 'y') return true;
  }
  return false;
}

Status copy_xattrs(int src, int dst) {
  std::string names(65536, '\0');
  ssize_t size = ::flistxattr(src, names.data(), names.size());
  if (size < 0) return errno == ENOTSUP ? Status{} : sys_error("list xattrs");
  std::string value(65536, '\0');
  for (size_t at = 0; at < static_cast<size_t>(size);) {
    std::string name(names.data() + at);
    at += name.size() + 1;
    if (name.empty() || is_overlay_xattr(name)) continue;
    ssize_t n = ::fgetxattr(src, name.c_str(), value.data(), value.size());
    if (n < 0) return sys_error("read xattr `" + name + "`");
    if (::fsetxattr(dst, name.c_str(), value.data(), static_cast<size_t>(n), 0) == 0) continue;
    bool privileged = starts_with(name, "security.") || starts_with(name, "trusted.");
    if (errno == ENOTSUP || (privileged && (errno == EPERM || errno == EACCES))) continue;
    return sys_error("set xattr `" + name + "`");
  }
  return {};
}

Status copy_content(int src, int dst) {
  for (;;) {
    ssize_t n = ::copy_file_range(src, nullptr, dst, nullptr, 1 << 30, 0);
    if (n == 0) return {};
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return sys_error("copy");
    break;  // not supported between these files: copy by hand from where we are
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(src, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read");
    if (n == 0) return {};
    TRY(write_all(dst, buffer, static_cast<size_t>(n)));
  }
}

// Removes `name` unless it is a directory and `keep_dir` (a directory over a
// directory merges, as overlay shows it).
Status clear_name(int dst, const std::string& name, bool keep_dir, bool& kept) {
  kept = false;
  struct stat st {};
  if (::fstatat(dst, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? Status{} : sys_error("stat");
  if (keep_dir && S_ISDIR(st.st_mode)) {
    kept = true;
    return {};
  }
  return detail::remove_at(dst, name);
}

Status set_owner_at(int dir, const std::string& name, const struct stat& st) {
  if (::fchownat(dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("chown to " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
  return {};
}

Status set_times_at(int dir, const std::string& name, const struct stat& st) {
  timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("set mtime");
  return {};
}

Status LayerCopier::copy_regular(int src, int dst, const std::string& rel, const std::string& name,
                                 const struct stat& st) {
  bool kept = false;
  TRY(clear_name(dst, name, false, kept));
  auto key = std::make_pair(st.st_dev, st.st_ino);
  if (st.st_nlink > 1) {
    if (auto it = links_.find(key); it != links_.end()) {
      if (::linkat(dest_root_, it->second.c_str(), dst, name.c_str(), 0) != 0) return sys_error("hard link");
      return {};
    }
    links_[key] = child_path(rel, name);
  }
  int in_raw = ::openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in_raw < 0) return sys_error("open");
  UniqueFd in(in_raw);
  int out_raw = ::openat(dst, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out_raw < 0) return sys_error("create");
  UniqueFd out(out_raw);
  TRY(copy_content(in.get(), out.get()));
  // chown clears setuid bits and capabilities: owner, then mode, then xattrs.
  if (::fchown(out.get(), st.st_uid, st.st_gid) != 0)
    return sys_error("chown to " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
  if (::fchmod(out.get(), st.st_mode & 07777) != 0) return sys_error("chmod");
  TRY(copy_xattrs(in.get(), out.get()));
  timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(out.get(), times) != 0) return sys_error("set mtime");
  return {};
}

Status LayerCopier::enter_dir(int src, int dst, const std::string& rel, const std::string& name,
                              const struct stat& st) {
  bool kept = false;
  TRY(clear_name(dst, name, true, kept));
  if (!kept && ::mkdirat(dst, name.c_str(), 0700) != 0) return sys_error("create directory");
  int in_raw = ::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (in_raw < 0) return sys_error("open directory");
  UniqueFd in(in_raw);
  int out_raw = ::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out_raw < 0) return sys_error("open directory");
  UniqueFd out(out_raw);
  // Opaque: what lower layers put here is hidden, so it goes.
  if (kept && is_opaque(in.get())) {
    (void)::fchmod(out.get(), 0700);
    TRY_ASSIGN(children, names_in(out.get()));
    for (const auto& child : children) TRY_CTX(detail::remove_at(out.get(), child), "clear opaque directory");
  }
  if (::fchown(out.get(), st.st_uid, st.st_gid) != 0)
    return sys_error("chown to " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
  (void)::fchmod(out.get(), 0700);  // our children must go in; the mode is set at the end
  TRY(copy_xattrs(in.get(), out.get()));
  std::string path = child_path(rel, name);
  dirs_.push_back({path, st.st_mode & 07777, st.st_mtim});
  return copy_dir(in.get(), out.get(), path);
}

Status LayerCopier::copy_entry(int src, int dst, const std::string& rel, const std::string& name) {
  struct stat st {};
  if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("stat");
  bool kept = false;
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return clear_name(dst, name, false, kept);  // whiteout
  if (S_ISDIR(st.st_mode)) return enter_dir(src, dst, rel, name, st);
  if (S_ISREG(st.st_mode)) return copy_regular(src, dst, rel, name, st);
  if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
    if (n < 0) return sys_error("read symlink");
    target.resize(static_cast<size_t>(n));
    TRY(clear_name(dst, name, false, kept));
    if (::symlinkat(target.c_str(), dst, name.c_str()) != 0) return sys_error("create symlink");
    TRY(set_owner_at(dst, name, st));
    return set_times_at(dst, name, st);
  }
  if (S_ISFIFO(st.st_mode)) {
    TRY(clear_name(dst, name, false, kept));
    if (::mkfifoat(dst, name.c_str(), 0600) != 0) return sys_error("create fifo");
    TRY(set_owner_at(dst, name, st));
    if (::fchmodat(dst, name.c_str(), st.st_mode & 07777, 0) != 0) return sys_error("chmod");
    return set_times_at(dst, name, st);
  }
  return {};  // sockets and device nodes: a rootless store has none to give
}

Status LayerCopier::copy_dir(int src, int dst, const std::string& rel) {
  TRY_ASSIGN(names, names_in(src));
  for (const auto& name : names) TRY_CTX(copy_entry(src, dst, rel, name), "`" + child_path(rel, name) + "`");
  return {};
}

Status LayerCopier::finish() {
  // Modes and mtimes last: a read-only directory still had to take its
  // children, and creating them changed its mtime.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    auto fd = detail::open_beneath(dest_root_, it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) return std::move(fd).error().context("directory `" + it->path + "`");
    if (::fchmod(fd->get(), it->mode) != 0) return sys_error("chmod directory `" + it->path + "`");
    timespec times[2] = {it->mtime, it->mtime};
    if (::futimens(fd->get(), times) != 0) return sys_error("set mtime of directory `" + it->path + "`");
  }
  return {};
}

Status copy_layer(const std::string& layer, int dest_root) {
  TRY_ASSIGN(src, open_fd(layer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) return sys_error("stat `" + layer + "`");
  // The layer's root directory describes the container's /.
  if (::fchown(dest_root, st.st_uid, st.st_gid) != 0) return sys_error("chown the root directory");
  (void)::fchmod(dest_root, 0700);
  TRY(copy_xattrs(src.get(), dest_root));
  LayerCopier copier(dest_root);
  TRY(copier.copy_dir(src.get(), dest_root, ""));
  TRY(copier.finish());
  if (::fchmod(dest_root, st.st_mode & 07777) != 0) return sys_error("chmod the root directory");
  timespec times[2] = {st.st_mtim, st.st_mtim};
  if (::futimens(dest_root, times) != 0) return sys_error("set mtime of the root directory");
  return {};
}

}  // namespace

Status copy_layers(const std::vector<std::string>& layer_dirs_bottom_first, const std::string& dest) {
  TRY_ASSIGN(root, open_fd(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  for (const auto& layer : layer_dirs_bottom_first)
    TRY_CTX(copy_layer(layer, root.get()), "copy layer `" + layer + "` into `" + dest + "`");
  return {};
}

}  // namespace ctr::image
