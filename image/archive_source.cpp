// Reading image archives: an OCI layout directory or a tar file. Tar members
// are in no useful order (layers may come before the manifest naming them),
// so the tar is listed once, keeping small members in memory, and each layer
// is streamed in a second scan when it is unpacked.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "image/archive_internal.h"
#include "runtime/base/files.h"

namespace ctr::image::detail {
namespace {

struct ReaderDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ReaderPtr = std::unique_ptr<archive, ReaderDeleter>;

std::string normalize_member(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

Result<ReaderPtr> open_tar(const ArchiveSource& source) {
  ReaderPtr a(archive_read_new());
  // An archive may itself be compressed (docker save | gzip).
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), source.path.c_str(), 64 * 1024) != ARCHIVE_OK)
    return make_error(source.label + ": " + archive_error_string(a.get()), EINVAL);
  return a;
}

Result<std::string> read_entry_data(archive* a, const std::string& what) {
  std::string out;
  char buffer[65536];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buffer, sizeof buffer);
    if (n < 0) return make_error(what + ": " + archive_error_string(a), EIO);
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

Status list_tar(ArchiveSource& source, uint64_t max_size) {
  struct stat st{};
  if (::stat(source.path.c_str(), &st) != 0) return sys_error(source.label);
  if (st.st_size == 0) return make_error(source.label + ": the file is empty, not an image archive", EINVAL);
  if (static_cast<uint64_t>(st.st_size) > max_size)
    return make_error(source.label + ": over the size limit of " + std::to_string(max_size) + " bytes", EFBIG);
  TRY_ASSIGN(a, open_tar(source));
  bool any = false;
  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (!any) return make_error(source.label + ": not a tar archive, so not an image archive", EINVAL);
      return make_error(source.label + ": truncated or corrupt: " + archive_error_string(a.get()), EIO);
    }
    any = true;
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    std::string name = normalize_member(archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "");
    auto size = static_cast<uint64_t>(archive_entry_size(entry));
    source.members[name] = size;
    if (size <= kSmallMember) {
      TRY_ASSIGN(data, read_entry_data(a.get(), source.label + ": member `" + name + "`"));
      source.small[name] = std::move(data);
    }
  }
  if (!any) return make_error(source.label + ": not a tar archive, so not an image archive", EINVAL);
  return {};
}

}  // namespace

Result<ArchiveSource> open_archive_source(const std::string& path, const std::string& label, uint64_t max_size) {
  ArchiveSource source;
  source.path = path;
  source.label = label;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return sys_error(label);
  if (S_ISDIR(st.st_mode)) {
    source.directory = true;
    if (!path_exists(path + "/oci-layout"))
      return make_error(label + ": a directory without an oci-layout file is not an OCI layout", EINVAL);
    return source;
  }
  TRY(list_tar(source, max_size));
  return source;
}

bool has_member(const ArchiveSource& source, const std::string& name) {
  if (source.directory) return path_exists(source.path + "/" + name);
  return source.members.count(name) > 0;
}

Result<std::string> read_member(const ArchiveSource& source, const std::string& name) {
  std::string what = source.label + ": `" + name + "`";
  if (name.find("..") != std::string::npos || (!name.empty() && name[0] == '/'))
    return make_error(what + ": a member name with `..` or an absolute path is refused", EINVAL);
  if (source.directory) {
    struct stat st{};
    if (::stat((source.path + "/" + name).c_str(), &st) != 0)
      return make_error(what + " is missing", ENOENT);
    if (static_cast<uint64_t>(st.st_size) > kSmallMember) return make_error(what + " is too large for a document", EFBIG);
    auto data = read_file(source.path + "/" + name);
    if (!data) return std::move(data).error().context(what);
    return data;
  }
  auto found = source.small.find(name);
  if (found != source.small.end()) return found->second;
  if (source.members.count(name)) return make_error(what + " is too large for a document", EFBIG);
  return make_error(what + " is missing", ENOENT);
}

Status with_member_reader(const ArchiveSource& source, const std::string& name,
                          const std::function<Status(const ReadFn&)>& fn) {
  std::string what = source.label + ": `" + name + "`";
  if (name.find("..") != std::string::npos || (!name.empty() && name[0] == '/'))
    return make_error(what + ": a member name with `..` or an absolute path is refused", EINVAL);
  if (source.directory) {
    auto fd = open_fd(source.path + "/" + name, O_RDONLY | O_NOFOLLOW);
    if (!fd) return make_error(what + " is missing: " + fd.error().message, ENOENT);
    int raw = fd->get();
    return fn([raw](void* buffer, size_t size) -> ssize_t {
      ssize_t n = ::read(raw, buffer, size);
      return n < 0 ? -errno : n;
    });
  }
  TRY_ASSIGN(a, open_tar(source));
  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) return make_error(what + " is missing", ENOENT);
    if (rc < ARCHIVE_WARN) return make_error(what + ": " + archive_error_string(a.get()), EIO);
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    if (normalize_member(archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "") != name) continue;
    archive* reader = a.get();
    return fn([reader](void* buffer, size_t size) -> ssize_t {
      la_ssize_t n = archive_read_data(reader, buffer, size);
      return n < 0 ? -EIO : n;
    });
  }
}

}  // namespace ctr::image::detail
