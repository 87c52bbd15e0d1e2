// The tar streams of cp and export (libarchive), see container_fs.h.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "cmd/container_fs.h"
#include "image/unpack_internal.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using WriteArchive = std::unique_ptr<archive, WriteDeleter>;
using ReadArchive = std::unique_ptr<archive, ReadDeleter>;
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

Error archive_error(archive* a, const std::string& what) {
  const char* text = archive_error_string(a);
  int code = archive_errno(a);
  return make_error(what + ": " + (text ? text : "archive error"), code > 0 ? code : EIO);
}

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string dir_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

class TreeWriter {
 public:
  TreeWriter(archive* a, const OwnerOverride& owner) : a_(a), owner_(owner) {}

  Status add(const std::string& path, const std::string& name) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return sys_error("lstat `" + path + "`");
    if (S_ISSOCK(st.st_mode)) return {};  // not representable in tar
    if (!name.empty()) TRY(write_entry(path, name, st));
    if (!S_ISDIR(st.st_mode)) return {};
    TRY_ASSIGN(children, list(path));
    for (const auto& child : children) {
      std::string child_path = path == "/" ? "/" + child : path + "/" + child;
      TRY(add(child_path, name.empty() ? child : name + "/" + child));
    }
    return {};
  }

 private:
  static Result<std::vector<std::string>> list(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (!dir) return sys_error("open directory `" + path + "`");
    std::vector<std::string> out;
    while (dirent* d = ::readdir(dir)) {
      std::string n = d->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
  }

  Status write_entry(const std::string& path, const std::string& name, const struct stat& st) {
    Entry entry(archive_entry_new());
    archive_entry_copy_stat(entry.get(), &st);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_nlink(entry.get(), 1);  // hard links are stored as copies
    if (owner_) {
      archive_entry_set_uid(entry.get(), owner_->first);
      archive_entry_set_gid(entry.get(), owner_->second);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("readlink `" + path + "`");
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(entry.get(), target.c_str());
    }
    UniqueFd file;
    if (S_ISREG(st.st_mode)) {
      TRY_ASSIGN(opened, open_fd(path, O_RDONLY | O_NOFOLLOW));
      file = std::move(opened);
    } else {
      archive_entry_set_size(entry.get(), 0);
    }
    if (archive_write_header(a_, entry.get()) < ARCHIVE_WARN) return archive_error(a_, "write tar entry `" + name + "`");
    if (!file) return {};
    char buffer[64 * 1024];
    for (;;) {
      ssize_t n = ::read(file.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read `" + path + "`");
      if (n == 0) break;
      if (archive_write_data(a_, buffer, static_cast<size_t>(n)) < 0)
        return archive_error(a_, "write tar data of `" + name + "`");
    }
    return {};
  }

  archive* a_;
  OwnerOverride owner_;
};

// "./a/b" -> "a/b"; "/a" -> "a".
std::string clean_name(const char* raw) {
  std::string name = raw ? raw : "";
  while (starts_with(name, "./")) name.erase(0, 2);
  while (!name.empty() && name[0] == '/') name.erase(0, 1);
  return name;
}

std::string retarget(const std::string& name, const ExtractTarget& target) {
  std::string rest = clean_name(name.c_str());
  if (!target.rename_top) return rest;
  auto slash = rest.find('/');
  if (rest.empty() || rest == ".") return *target.rename_top;
  return *target.rename_top + (slash == std::string::npos ? "" : rest.substr(slash));
}

}  // namespace

Status write_tree_tar(int fd, const std::string& path, const std::string& top, const OwnerOverride& owner) {
  WriteArchive a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) return archive_error(a.get(), "start the tar stream");
  TreeWriter writer(a.get(), owner);
  TRY(writer.add(path, top));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_error(a.get(), "finish the tar stream");
  return {};
}

Result<ExtractTarget> resolve_copy_target(const std::string& dest, const std::string& source_base, bool source_is_dir,
                                          bool contents_only) {
  struct stat st {};
  bool exists = ::stat(dest.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) return sys_error("stat `" + dest + "`");
  if (exists && S_ISDIR(st.st_mode)) {
    if (contents_only) return ExtractTarget{dir_name(dest), base_name(dest)};
    return ExtractTarget{dest, source_base};
  }
  if (exists && source_is_dir)
    return make_error("cannot overwrite non-directory `" + dest + "` with a directory", ENOTDIR);
  if (!exists && !source_is_dir && !dest.empty() && dest.back() == '/')
    return make_error("`" + dest + "` is not a directory: no such file or directory", ENOENT);
  std::string parent = dir_name(dest);
  struct stat parent_st {};
  if (::stat(parent.c_str(), &parent_st) != 0)
    return make_error("\"" + dest + "\" could not be found: no such file or directory (its parent `" + parent +
                          "` is missing)",
                      ENOENT);
  if (!S_ISDIR(parent_st.st_mode)) return make_error("`" + parent + "` is not a directory", ENOTDIR);
  return ExtractTarget{parent, base_name(dest)};
}

Status extract_tar(int fd, const ExtractTarget& target_in, const ExtractOptions& options) {
  ReadArchive in(archive_read_new());
  // The formats and filters the store links (libarchive is static: "all" would pull in more libraries).
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_zstd(in.get());
  archive_read_support_filter_xz(in.get());
  if (archive_read_open_fd(in.get(), fd, 64 * 1024) != ARCHIVE_OK) return archive_error(in.get(), "read the tar stream");
  image::UnpackOptions unpack;
  unpack.what = "tar stream";
  // Outside the user namespace (the host side) files stay yours, as podman's cp.
  unpack.ignore_chown_errors = !options.owners;
  std::optional<ExtractTarget> target;
  if (!options.resolve_dest) target = target_in;
  std::optional<image::detail::Extractor> extractor;
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archive_error(in.get(), "read the tar stream");
    std::string raw = clean_name(archive_entry_pathname(entry));
    if (!target) {  // the first entry is the source itself
      std::string top = raw.substr(0, raw.find('/'));
      bool is_dir = archive_entry_filetype(entry) == AE_IFDIR;
      TRY_ASSIGN(resolved, resolve_copy_target(*options.resolve_dest, top, is_dir, options.contents_only));
      target = resolved;
    }
    if (!extractor) {
      // Every write stays beneath the base directory (openat2 RESOLVE_BENEATH).
      TRY_ASSIGN(root, open_fd(target->base_dir, O_RDONLY | O_DIRECTORY));
      extractor.emplace(std::move(root), unpack);
    }
    std::string name = retarget(raw, *target);
    if (name.empty() || name == ".") {
      if (archive_entry_filetype(entry) == AE_IFDIR) continue;  // the base dir itself
      return make_error("tar entry `" + raw + "` has no name to extract to", EINVAL);
    }
    archive_entry_set_pathname(entry, name.c_str());
    if (const char* link = archive_entry_hardlink(entry))
      archive_entry_set_hardlink(entry, retarget(link, *target).c_str());
    TRY_CTX(extractor->write_entry(in.get(), entry), "extract `" + name + "`");
  }
  if (extractor) TRY(extractor->finish());
  return {};
}

}  // namespace ctr::cmd
