// Writing tar entries beneath the layer directory. We do not use
// archive_write_disk: its symlink and hard-link checks are path based and it
// cannot produce overlay whiteouts. Every parent directory is opened with
// openat2(RESOLVE_BENEATH), so a symlink leading out of the layer (absolute,
// or with enough `..`) fails in the kernel instead of being followed
// (CVE-2018-15664 / CVE-2019-14271 class); the last component is never
// followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, O_EXCL).
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "image/unpack_internal.h"
#include "runtime/base/files.h"

namespace ctr::image::detail {
namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

timespec entry_mtime(archive_entry* entry) {
  timespec t{};
  t.tv_sec = archive_entry_mtime(entry);
  t.tv_nsec = archive_entry_mtime_nsec(entry);
  return t;
}

}  // namespace

std::string EntryPath::text() const {
  std::string p = join(parents);
  if (!name.empty()) p += (p.empty() ? "" : "/") + name;
  return p.empty() ? "." : p;
}

Result<EntryPath> split_entry_path(const std::string& raw) {
  if (raw.empty()) return make_error("empty path", EINVAL);
  if (raw[0] == '/') return make_error("absolute path refused", EINVAL);
  EntryPath out;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    std::string part = raw.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return make_error("path with `..` refused", EINVAL);
    parts.push_back(std::move(part));
  }
  if (!parts.empty()) {
    out.name = parts.back();
    parts.pop_back();
  }
  out.parents = std::move(parts);
  return out;
}

Result<UniqueFd> open_beneath(int root, const std::string& path, int flags) {
  if (path.empty()) {
    int fd = ::openat(root, ".", flags | O_CLOEXEC);
    if (fd < 0) return sys_error("open layer root");
    return UniqueFd(fd);
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
  if (fd < 0) {
    if (errno == EXDEV || errno == ELOOP) return sys_error("`" + path + "` leads outside the layer", errno);
    return sys_error("open `" + path + "`");
  }
  return UniqueFd(static_cast<int>(fd));
}

Status remove_at(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return sys_error("remove `" + name + "`");
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open `" + name + "`");
  UniqueFd sub(fd);
  DIR* d = ::fdopendir(::dup(sub.get()));
  if (!d) return sys_error("read directory `" + name + "`");
  std::vector<std::string> children;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) children.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const auto& child : children) TRY(remove_at(sub.get(), child));
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return sys_error("remove `" + name + "`");
  return {};
}

// The entry's parent directory, creating missing ones (tar streams may omit
// them). Consecutive entries usually share it, so the last one is cached.
Result<int> Extractor::open_parent(const EntryPath& path) {
  std::string parent = join(path.parents);
  if (cache_valid_ && parent == cached_parent_) return cached_parent_fd_.get();
  auto fd = open_beneath(root_.get(), parent, O_RDONLY | O_DIRECTORY);
  if (!fd && fd.error().code == ENOENT) {
    UniqueFd current;
    for (size_t i = 0; i < path.parents.size(); ++i) {
      std::vector<std::string> prefix(path.parents.begin(), path.parents.begin() + static_cast<long>(i) + 1);
      auto next = open_beneath(root_.get(), join(prefix), O_RDONLY | O_DIRECTORY);
      if (!next && next.error().code == ENOENT) {
        int at = i == 0 ? root_.get() : current.get();
        if (::mkdirat(at, path.parents[i].c_str(), 0755) != 0 && errno != EEXIST)
          return sys_error("create directory `" + join(prefix) + "`");
        next = open_beneath(root_.get(), join(prefix), O_RDONLY | O_DIRECTORY);
      }
      if (!next) return std::move(next).error();
      current = std::move(*next);
    }
    fd = std::move(current);
  }
  if (!fd) return std::move(fd).error();
  cached_parent_ = parent;
  cached_parent_fd_ = std::move(*fd);
  cache_valid_ = true;
  return cached_parent_fd_.get();
}

// Tar semantics: a later entry replaces an earlier one of the same name,
// except that a directory over a directory only updates its metadata.
Status Extractor::clear_name(int parent, const std::string& name, bool keep_dir, bool& kept_dir) {
  kept_dir = false;
  struct stat st{};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat `" + name + "`");
  }
  if (keep_dir && S_ISDIR(st.st_mode)) {
    kept_dir = true;
    return {};
  }
  if (S_ISDIR(st.st_mode)) cache_valid_ = false;  // the cached parent may be inside it
  return remove_at(parent, name);
}

Status Extractor::set_owner(int fd, int parent, const std::string& name, archive_entry* entry) {
  auto uid = static_cast<uid_t>(archive_entry_uid(entry));
  auto gid = static_cast<gid_t>(archive_entry_gid(entry));
  int rc = fd >= 0 ? ::fchown(fd, uid, gid) : ::fchownat(parent, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
  if (rc == 0) return {};
  // EINVAL: the id is not mapped in this namespace; EPERM: no namespace.
  if ((errno == EPERM || errno == EINVAL) && options_.ignore_chown_errors) return {};
  return sys_error("chown to " + std::to_string(uid) + ":" + std::to_string(gid));
}

Status Extractor::set_xattrs(int fd, archive_entry* entry) {
  archive_entry_xattr_reset(entry);
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
    std::string k = key ? key : "";
    if (k.empty()) continue;
    if (::fsetxattr(fd, k.c_str(), value, size, 0) == 0) continue;
    // security.* and trusted.* need privileges a rootless store lacks;
    // filesystems without xattrs give ENOTSUP: neither is fatal.
    bool privileged_ns = starts_with(k, "security.") || starts_with(k, "trusted.");
    if (errno == ENOTSUP || (privileged_ns && (errno == EPERM || errno == EACCES))) {
      notes_.push_back("xattr `" + k + "` not kept: " + std::strerror(errno));
      continue;
    }
    return sys_error("set xattr `" + k + "`");
  }
  return {};
}

Status Extractor::set_times(int parent, const std::string& name, archive_entry* entry) {
  timespec times[2] = {entry_mtime(entry), entry_mtime(entry)};
  if (::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("set mtime");
  return {};
}

Status Extractor::write_regular(archive* reader, archive_entry* entry, int parent, const std::string& name) {
  if (archive_entry_size_is_set(entry) && static_cast<uint64_t>(archive_entry_size(entry)) > options_.max_entry_size)
    return make_error("file of " + std::to_string(archive_entry_size(entry)) + " bytes is over the limit of " +
                          std::to_string(options_.max_entry_size),
                      EFBIG);
  bool kept = false;
  TRY(clear_name(parent, name, false, kept));
  int fd = ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("create");
  UniqueFd file(fd);
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  uint64_t end = 0;
  for (;;) {
    int rc = archive_read_data_block(reader, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return make_error(std::string("read: ") + archive_error_string(reader), EIO);
    if (static_cast<uint64_t>(offset) + size > options_.max_entry_size)
      return make_error("file is over the limit of " + std::to_string(options_.max_entry_size) + " bytes", EFBIG);
    // Sparse files come as blocks at offsets; the holes stay holes.
    const char* p = static_cast<const char*>(block);
    size_t left = size;
    off_t at = offset;
    while (left > 0) {
      ssize_t n = ::pwrite(file.get(), p, left, at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("write");
      p += n;
      at += n;
      left -= static_cast<size_t>(n);
    }
    bytes_written_ += size;
    end = static_cast<uint64_t>(offset) + size;
  }
  auto final_size = archive_entry_size_is_set(entry) ? static_cast<uint64_t>(archive_entry_size(entry)) : end;
  if (final_size > end && ::ftruncate(file.get(), static_cast<off_t>(final_size)) != 0) return sys_error("truncate");
  // chown clears setuid/setgid and file capabilities: owner, then mode, then xattrs.
  TRY(set_owner(file.get(), parent, name, entry));
  if (::fchmod(file.get(), archive_entry_perm(entry)) != 0) return sys_error("chmod");
  TRY(set_xattrs(file.get(), entry));
  timespec times[2] = {entry_mtime(entry), entry_mtime(entry)};
  if (::futimens(file.get(), times) != 0) return sys_error("set mtime");
  return {};
}

Status Extractor::write_directory(archive_entry* entry, int parent, const EntryPath& path) {
  UniqueFd dir;
  if (path.name.empty()) {
    TRY_ASSIGN(fd, open_beneath(root_.get(), "", O_RDONLY | O_DIRECTORY));
    dir = std::move(fd);
  } else {
    bool kept = false;
    TRY(clear_name(parent, path.name, true, kept));
    if (!kept && ::mkdirat(parent, path.name.c_str(), 0700) != 0) return sys_error("create directory");
    int fd = ::openat(parent, path.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sys_error("open directory");
    dir.reset(fd);
  }
  TRY(set_owner(dir.get(), parent, path.name, entry));
  TRY(set_xattrs(dir.get(), entry));
  // Mode and mtime wait for the end: a read-only directory must still take
  // its children, and creating them would change the mtime.
  std::string rel = path.name.empty() ? std::string() : path.text();
  dirs_.push_back(DeferredDir{rel, archive_entry_perm(entry), entry_mtime(entry)});
  return {};
}

Status Extractor::write_symlink(archive_entry* entry, int parent, const std::string& name) {
  const char* target = archive_entry_symlink(entry);
  if (!target) return make_error("symlink without a target", EINVAL);
  bool kept = false;
  TRY(clear_name(parent, name, false, kept));
  // The target is stored as given: it is only ever resolved inside the
  // container's root, or beneath this layer by open_beneath.
  if (::symlinkat(target, parent, name.c_str()) != 0) return sys_error("create symlink");
  TRY(set_owner(-1, parent, name, entry));
  return set_times(parent, name, entry);
}

Status Extractor::write_hardlink(archive_entry* entry, int parent, const std::string& name) {
  const char* raw_target = archive_entry_hardlink(entry);
  auto target = split_entry_path(raw_target ? raw_target : "");
  if (!target) return std::move(target).error().context("hard link target `" + std::string(raw_target) + "`");
  if (target->name.empty()) return make_error("hard link to the layer root refused", EINVAL);
  auto target_parent = open_beneath(root_.get(), join(target->parents), O_RDONLY | O_DIRECTORY);
  if (!target_parent) return std::move(target_parent).error().context("hard link target `" + target->text() + "`");
  struct stat st{};
  if (::fstatat(target_parent->get(), target->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("hard link target `" + target->text() + "` (it must be an earlier entry of this layer)");
  if (S_ISDIR(st.st_mode)) return make_error("hard link to directory `" + target->text() + "` refused", EPERM);
  bool kept = false;
  TRY(clear_name(parent, name, false, kept));
  // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
  if (::linkat(target_parent->get(), target->name.c_str(), parent, name.c_str(), 0) != 0)
    return sys_error("hard link to `" + target->text() + "`");
  return {};
}

Status Extractor::write_fifo(archive_entry* entry, int parent, const std::string& name) {
  bool kept = false;
  TRY(clear_name(parent, name, false, kept));
  if (::mkfifoat(parent, name.c_str(), 0600) != 0) return sys_error("create fifo");
  TRY(set_owner(-1, parent, name, entry));
  // fchmodat cannot refuse to follow symlinks, but we just made this fifo.
  if (::fchmodat(parent, name.c_str(), archive_entry_perm(entry), 0) != 0) return sys_error("chmod");
  return set_times(parent, name, entry);
}

// `.wh.NAME` -> NAME as a 0:0 character device (overlayfs's whiteout; the
// kernel lets an unprivileged user create exactly this node since 5.8);
// `.wh..wh..opq` -> the opaque xattr on its directory.
Status Extractor::write_whiteout(const EntryPath& path, int parent) {
  if (path.name == kOpaqueMarker) {
    const std::string& attr = options_.opaque_xattr;
    if (::fsetxattr(parent, attr.c_str(), "y", 1, 0) != 0) return sys_error("set `" + attr + "` (opaque directory)");
    return {};
  }
  std::string hidden = path.name.substr(std::strlen(kWhiteoutPrefix));
  if (starts_with(hidden, ".wh.")) {  // aufs bookkeeping (.wh..wh.plnk, ...): not content
    notes_.push_back("aufs metadata `" + path.text() + "` skipped");
    return {};
  }
  if (hidden.empty()) return make_error("whiteout without a name", EINVAL);
  bool kept = false;
  TRY(clear_name(parent, hidden, false, kept));
  if (::mknodat(parent, hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
    return sys_error("create whiteout for `" + hidden + "`");
  return {};
}

Status Extractor::write_entry(archive* reader, archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  TRY_ASSIGN(path, split_entry_path(raw ? raw : ""));
  auto opened = open_parent(path);
  // umoci writes `DIR/.wh.X` after `DIR` when a directory became a file or a
  // symlink: that entry already hides everything below DIR in this layer.
  if (!opened && (opened.error().code == ENOTDIR || opened.error().code == ELOOP) &&
      starts_with(path.name, kWhiteoutPrefix)) {
    notes_.push_back("whiteout `" + path.text() + "` below a non-directory skipped");
    return {};
  }
  if (!opened) return std::move(opened).error();
  int parent = *opened;
  if (starts_with(path.name, kWhiteoutPrefix)) return write_whiteout(path, parent);
  if (archive_entry_hardlink(entry)) return write_hardlink(entry, parent, path.name);
  mode_t type = archive_entry_filetype(entry);
  if (path.name.empty() && type != AE_IFDIR) return make_error("non-directory entry for the layer root", EINVAL);
  switch (type) {
    case AE_IFREG: return write_regular(reader, entry, parent, path.name);
    case AE_IFDIR: return write_directory(entry, parent, path);
    case AE_IFLNK: return write_symlink(entry, parent, path.name);
    case AE_IFIFO: return write_fifo(entry, parent, path.name);
    case AE_IFCHR:
    case AE_IFBLK:
      // A rootless store cannot hold device nodes; runtimes provide /dev.
      notes_.push_back("device node `" + path.text() + "` skipped");
      return {};
    default: notes_.push_back("entry `" + path.text() + "` of unsupported type skipped"); return {};
  }
}

Status Extractor::finish() {
  // Deepest first is not needed (chmod/utimes do not touch parents), but a
  // later duplicate entry for the same directory must win: apply in order.
  for (const auto& dir : dirs_) {
    auto fd = open_beneath(root_.get(), dir.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    // Gone or no longer a directory: a later entry replaced it.
    if (!fd && (fd.error().code == ENOENT || fd.error().code == ENOTDIR || fd.error().code == ELOOP)) continue;
    if (!fd) return std::move(fd).error().context("directory `" + (dir.path.empty() ? std::string(".") : dir.path) + "`");
    if (::fchmod(fd->get(), dir.mode) != 0) return sys_error("chmod directory `" + dir.path + "`");
    timespec times[2] = {dir.mtime, dir.mtime};
    if (::futimens(fd->get(), times) != 0) return sys_error("set mtime of directory `" + dir.path + "`");
  }
  return {};
}

}  // namespace ctr::image::detail
