// The child's side of save_images: an unpacked layer (an overlay lowerdir)
// written back as an uncompressed tar. Runs inside the store's user
// namespace, so every file is readable and stat shows the image's own owners.
// A layer with a tar layout (image/tar_layout.h) is replayed: the exact tar
// it was loaded from, checked against its diffID. Older layers are
// regenerated, deterministically: entries in sorted order, no atime/ctime,
// no user/group names.
// Overlay whiteouts (0:0 character devices) become `.wh.NAME`, an opaque
// directory gets a `DIR/.wh..wh..opq` entry; other device nodes and sockets
// are skipped (a rootless store cannot hold them anyway).
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "image/tar_layout.h"
#include "runtime/base/files.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr::image::detail {

// Declared again in archive_save.cpp (internal to save_images).
Status write_layer_tar(const std::string& diff_dir, const std::string& tar_path);
Status replay_layer_tar(const std::string& layer_dir, const std::string& diff_id, const std::string& tar_path,
                        const std::string& what);

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

bool is_overlay_xattr(const std::string& name) {
  return name.rfind("user.overlay.", 0) == 0 || name.rfind("trusted.overlay.", 0) == 0;
}

Result<std::vector<std::string>> sorted_names(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error("open directory `" + dir + "`");
  std::vector<std::string> names;
  errno = 0;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return sys_error("read directory `" + dir + "`", err);
  std::sort(names.begin(), names.end());
  return names;
}

// Sorted xattrs of `path`, without overlay's own; `opaque` tells whether
// overlay marked the directory opaque.
Status read_xattrs(const std::string& path, std::vector<std::pair<std::string, std::string>>& out, bool& opaque) {
  opaque = false;
  ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP || errno == ENODATA) return {};
    return sys_error("list xattrs of `" + path + "`");
  }
  if (size == 0) return {};
  std::string list(static_cast<size_t>(size), '\0');
  size = ::llistxattr(path.c_str(), list.data(), list.size());
  if (size < 0) return sys_error("list xattrs of `" + path + "`");
  list.resize(static_cast<size_t>(size));
  std::vector<std::string> names;
  for (size_t pos = 0; pos < list.size();) {
    std::string name = list.c_str() + pos;
    pos += name.size() + 1;
    if (!name.empty()) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    ssize_t vsize = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vsize < 0) {
      if (errno == ENODATA || errno == ENOTSUP) continue;
      return sys_error("read xattr `" + name + "` of `" + path + "`");
    }
    std::string value(static_cast<size_t>(vsize), '\0');
    if (vsize > 0) {
      vsize = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (vsize < 0) return sys_error("read xattr `" + name + "` of `" + path + "`");
      value.resize(static_cast<size_t>(vsize));
    }
    if (is_overlay_xattr(name)) {
      if (name.size() > 7 && name.compare(name.size() - 7, 7, ".opaque") == 0 && value == "y") opaque = true;
      continue;
    }
    out.emplace_back(name, std::move(value));
  }
  return {};
}

class LayerTarWriter {
 public:
  LayerTarWriter(archive* a, std::string root) : a_(a), root_(std::move(root)) {}

  Status walk(const std::string& rel) {  // rel: "" for the root, else "a/b"
    std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    TRY_ASSIGN(names, sorted_names(dir));
    for (const auto& name : names) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      TRY(add(child));
    }
    return {};
  }

 private:
  Status fail(const std::string& what) const {
    const char* msg = archive_error_string(a_);
    return make_error(what + ": " + (msg ? msg : "libarchive error"), archive_errno(a_) > 0 ? archive_errno(a_) : EIO);
  }

  Status header(archive_entry* e, const std::string& rel) {
    int r = archive_write_header(a_, e);
    if (r < ARCHIVE_WARN) return fail("write tar header for `" + rel + "`");
    return {};
  }

  EntryPtr base_entry(const struct stat& st, const std::string& name) {
    EntryPtr e(archive_entry_new());
    archive_entry_copy_stat(e.get(), &st);
    archive_entry_unset_atime(e.get());
    archive_entry_unset_ctime(e.get());
    archive_entry_unset_birthtime(e.get());
    archive_entry_set_nlink(e.get(), 1);
    archive_entry_copy_pathname(e.get(), name.c_str());
    return e;
  }

  // An empty regular file named `name` with the owner and mtime of `st`.
  Status empty_file(const struct stat& st, const std::string& name) {
    EntryPtr e = base_entry(st, name);
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_rdev(e.get(), 0);
    archive_entry_set_size(e.get(), 0);
    return header(e.get(), name);
  }

  Status add(const std::string& rel) {
    std::string full = root_ + "/" + rel;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) return sys_error("stat `" + full + "`");
    auto slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);

    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0)
      return empty_file(st, parent + ".wh." + base);  // an overlay whiteout
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) return {};

    std::vector<std::pair<std::string, std::string>> xattrs;
    bool opaque = false;
    TRY(read_xattrs(full, xattrs, opaque));
    EntryPtr e = base_entry(st, rel);
    for (const auto& [k, v] : xattrs) archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());

    if (S_ISDIR(st.st_mode)) {
      archive_entry_set_size(e.get(), 0);
      TRY(header(e.get(), rel));
      if (opaque) TRY(empty_file(st, rel + "/.wh..wh..opq"));
      return walk(rel);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 0) + 256, '\0');
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("read link `" + full + "`");
      target.resize(static_cast<size_t>(n));
      archive_entry_copy_symlink(e.get(), target.c_str());
      archive_entry_set_size(e.get(), 0);
      return header(e.get(), rel);
    }
    if (S_ISFIFO(st.st_mode)) {
      archive_entry_set_size(e.get(), 0);
      return header(e.get(), rel);
    }
    // A regular file: a hard link to an earlier one, or its content.
    if (st.st_nlink > 1) {
      auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
      auto found = links_.find(key);
      if (found != links_.end()) {
        archive_entry_copy_hardlink(e.get(), found->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return header(e.get(), rel);
      }
      links_.emplace(key, rel);
    }
    UniqueFd fd(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return sys_error("open `" + full + "`");
    TRY(header(e.get(), rel));
    uint64_t left = static_cast<uint64_t>(st.st_size);
    std::vector<char> buffer(1 << 20);
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buffer.data(), std::min<uint64_t>(buffer.size(), left));
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("read `" + full + "`");
      }
      if (n == 0) {  // shrank while we read: pad with zeros to the size in the header
        std::fill(buffer.begin(), buffer.end(), '\0');
        n = static_cast<ssize_t>(std::min<uint64_t>(buffer.size(), left));
      }
      if (archive_write_data(a_, buffer.data(), static_cast<size_t>(n)) < 0) return fail("write `" + rel + "`");
      left -= static_cast<uint64_t>(n);
    }
    return {};
  }

  archive* a_;
  std::string root_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> links_;
};

}  // namespace

Status write_layer_tar(const std::string& diff_dir, const std::string& tar_path) {
  ArchivePtr a(archive_write_new());
  if (!a) return make_error("out of memory", ENOMEM);
  std::string what = "write layer tar `" + tar_path + "`";
  auto lib_error = [&]() {
    const char* msg = archive_error_string(a.get());
    return make_error(what + ": " + (msg ? msg : "libarchive error"), EIO);
  };
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) return lib_error();
  if (archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) return lib_error();
  if (archive_write_open_filename(a.get(), tar_path.c_str()) != ARCHIVE_OK) return lib_error();
  LayerTarWriter writer(a.get(), diff_dir);
  Status walked = writer.walk("");
  if (!walked) return std::move(walked).error().context(what);
  if (archive_write_close(a.get()) != ARCHIVE_OK) return lib_error();
  return {};
}

namespace {

// Gathers the replay's pieces (512-byte headers, small files) into large writes.
class BufferedFile {
 public:
  explicit BufferedFile(int fd) : fd_(fd) { buffer_.reserve(kSize); }
  Status write(const void* data, size_t size) {
    if (buffer_.size() + size > kSize) TRY(flush());
    if (size >= kSize) return write_all(fd_, data, size);
    buffer_.append(static_cast<const char*>(data), size);
    return {};
  }
  Status flush() {
    if (buffer_.empty()) return {};
    Status written = write_all(fd_, buffer_.data(), buffer_.size());
    buffer_.clear();
    return written;
  }

 private:
  static constexpr size_t kSize = 256 * 1024;
  int fd_;
  std::string buffer_;
};

}  // namespace

Status replay_layer_tar(const std::string& layer_dir, const std::string& diff_id, const std::string& tar_path,
                        const std::string& what) {
  TRY_ASSIGN(out, open_fd(tar_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  BufferedFile file(out.get());
  auto digest = replay_tar_layout(layer_dir + "/" + kTarLayoutFile, layer_dir + "/diff",
                                  [&](const void* data, size_t size) { return file.write(data, size); });
  std::string fix = "remove the image and load it again (`ctr rmi` + `ctr load`), or delete `" + layer_dir + "/" +
                    kTarLayoutFile + "` to save a regenerated tar under a new image ID";
  if (!digest) {
    Error error = std::move(digest).error();
    // A file changed or removed after the load (`ctr unshare`): say how to get out.
    if (error.code == EILSEQ || error.code == ENOENT)
      return make_error(what + ": the layer was changed after it was loaded (" + error.message +
                            "), so its original tar cannot be written: " + fix,
                        EILSEQ);
    return std::move(error).context(what + ": write the layer's tar");
  }
  if (*digest != diff_id)
    return make_error(what + ": the layer was changed after it was loaded: its tar would have digest " + *digest +
                          " instead of its diffID: " + fix,
                      EILSEQ);
  TRY_CTX(file.flush(), what + ": write `" + tar_path + "`");
  return {};
}

}  // namespace ctr::image::detail
