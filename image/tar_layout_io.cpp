// The layout file (see tar_layout_internal.h) and its replay. gzip through
// libarchive's raw format: no new dependency, and the file is small (headers
// and zero padding compress to a few percent).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "image/digest.h"
#include "image/tar_layout.h"
#include "image/tar_layout_internal.h"
#include "image/unpack_internal.h"
#include "runtime/base/files.h"

namespace ctr::image {
namespace detail {
namespace {

constexpr size_t kVerbatimRecord = 64 * 1024;
constexpr size_t kCopyBuffer = 1 << 20;

void put_varint(std::string& out, uint64_t value) {
  do {
    auto byte = static_cast<unsigned char>(value & 0x7f);
    value >>= 7;
    if (value) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (value);
}

Error archive_failure(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return make_error(what + ": " + (msg ? msg : "libarchive error"), archive_errno(a) > 0 ? archive_errno(a) : EIO);
}

}  // namespace

void LayoutArchiveDeleter::operator()(archive* a) const {
  archive_free(a);
}

Result<LayoutWriter> LayoutWriter::open(const std::string& path) {
  // Exclusive create first: a stale file from a crash is never appended to.
  { TRY_ASSIGN(created, open_fd(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)); }
  LayoutWriter w;
  w.path_ = path;
  w.a_.reset(archive_write_new());
  archive* a = w.a_.get();
  if (!a) return make_error("tar layout `" + path + "`: out of memory", ENOMEM);
  // Level 1: the layout is written during the unpack; higher levels cost
  // time there and gain little on headers and zero runs.
  if (archive_write_set_format_raw(a) != ARCHIVE_OK || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
      archive_write_set_filter_option(a, "gzip", "compression-level", "1") != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK)
    return archive_failure(a, "tar layout `" + path + "`");
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), "tar-layout");
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  if (archive_write_header(a, entry.get()) < ARCHIVE_WARN) return archive_failure(a, "tar layout `" + path + "`");
  TRY(w.put(std::string(kLayoutMagic)));
  return w;
}

Status LayoutWriter::put(const std::string& bytes) {
  if (archive_write_data(a_.get(), bytes.data(), bytes.size()) < 0)
    return archive_failure(a_.get(), "write tar layout `" + path_ + "`");
  return {};
}

Status LayoutWriter::flush_verbatim() {
  if (pending_.empty()) return {};
  std::string head(1, kRecordVerbatim);
  put_varint(head, pending_.size());
  TRY(put(head));
  TRY(put(pending_));
  pending_.clear();
  return {};
}

Status LayoutWriter::verbatim(const char* data, size_t size) {
  while (size > 0) {
    size_t n = std::min(size, kVerbatimRecord - pending_.size());
    pending_.append(data, n);
    data += n;
    size -= n;
    if (pending_.size() >= kVerbatimRecord) TRY(flush_verbatim());
  }
  return {};
}

Status LayoutWriter::file(const std::string& path, uint64_t size, bool zero_padded) {
  TRY(flush_verbatim());
  std::string record(1, kRecordFile);
  put_varint(record, size);
  put_varint(record, path.size());
  record += path;
  record.push_back(zero_padded ? 1 : 0);
  return put(record);
}

Status LayoutWriter::finish(uint64_t total) {
  TRY(flush_verbatim());
  std::string record(1, kRecordEnd);
  put_varint(record, total);
  TRY(put(record));
  if (archive_write_close(a_.get()) != ARCHIVE_OK) return archive_failure(a_.get(), "write tar layout `" + path_ + "`");
  return {};
}

Result<LayoutReader> LayoutReader::open(const std::string& path) {
  LayoutReader r;
  r.path_ = path;
  r.a_.reset(archive_read_new());
  archive* a = r.a_.get();
  if (!a) return make_error("tar layout `" + path + "`: out of memory", ENOMEM);
  archive_read_support_filter_gzip(a);
  archive_read_support_format_raw(a);
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(a, path.c_str(), 64 * 1024) != ARCHIVE_OK ||
      archive_read_next_header(a, &entry) != ARCHIVE_OK)
    return archive_failure(a, "read tar layout `" + path + "`");
  std::string magic;
  TRY(r.bytes(magic, std::strlen(kLayoutMagic)));
  if (magic != kLayoutMagic) return make_error("tar layout `" + path + "`: not a layout of this version", EINVAL);
  return r;
}

Status LayoutReader::fill() {
  buffer_.resize(64 * 1024);
  la_ssize_t n = archive_read_data(a_.get(), buffer_.data(), buffer_.size());
  if (n < 0) return archive_failure(a_.get(), "read tar layout `" + path_ + "`");
  if (n == 0) return make_error("tar layout `" + path_ + "` is truncated", EIO);
  buffer_.resize(static_cast<size_t>(n));
  pos_ = 0;
  return {};
}

Result<char> LayoutReader::byte() {
  if (pos_ >= buffer_.size()) TRY(fill());
  return buffer_[pos_++];
}

Result<uint64_t> LayoutReader::varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    TRY_ASSIGN(c, byte());
    auto b = static_cast<unsigned char>(c);
    value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return value;
  }
  return make_error("tar layout `" + path_ + "` is corrupt (bad number)", EINVAL);
}

Status LayoutReader::bytes(std::string& out, size_t size) {
  out.clear();
  while (out.size() < size) {
    if (pos_ >= buffer_.size()) TRY(fill());
    size_t n = std::min(size - out.size(), buffer_.size() - pos_);
    out.append(buffer_, pos_, n);
    pos_ += n;
  }
  return {};
}

}  // namespace detail

namespace {

// Streams `size` bytes of diff/<path> to `emit`, refusing a file that is not
// the one recorded (type or size changed since the load).
Status copy_payload(int root, const std::string& path, uint64_t size, std::vector<char>& buffer, const TarSink& emit) {
  auto fd = detail::open_beneath(root, path, O_RDONLY | O_NOFOLLOW);
  if (!fd) return std::move(fd).error().context("layer file `" + path + "`");
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_error("stat layer file `" + path + "`");
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size)
    return make_error("layer file `" + path + "` changed since it was loaded (" + std::to_string(st.st_size) +
                          " bytes now, " + std::to_string(size) + " in the layer's tar)",
                      EILSEQ);
  uint64_t left = size;
  while (left > 0) {
    ssize_t n = ::read(fd->get(), buffer.data(), std::min<uint64_t>(buffer.size(), left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read layer file `" + path + "`");
    if (n == 0) return make_error("layer file `" + path + "` shrank while being read", EIO);
    TRY(emit(buffer.data(), static_cast<size_t>(n)));
    left -= static_cast<uint64_t>(n);
  }
  return {};
}

}  // namespace

Result<std::string> replay_tar_layout(const std::string& layout_path, const std::string& diff_dir,
                                      const TarSink& sink) {
  TRY_ASSIGN(reader, detail::LayoutReader::open(layout_path));
  TRY_ASSIGN(root, open_fd(diff_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Sha256 sha;
  uint64_t total = 0;
  TarSink emit = [&](const void* data, size_t size) -> Status {
    sha.update(data, size);
    total += size;
    return sink(data, size);
  };
  std::vector<char> buffer(detail::kCopyBuffer);
  std::string text;
  for (;;) {
    TRY_ASSIGN(type, reader.byte());
    if (type == detail::kRecordVerbatim) {
      TRY_ASSIGN(size, reader.varint());
      TRY(reader.bytes(text, size));
      TRY(emit(text.data(), text.size()));
    } else if (type == detail::kRecordFile) {
      TRY_ASSIGN(size, reader.varint());
      TRY_ASSIGN(length, reader.varint());
      TRY(reader.bytes(text, length));
      TRY_ASSIGN(pad, reader.byte());
      TRY(copy_payload(root.get(), text, size, buffer, emit));
      static const char zeros[512] = {};
      if (pad && size % 512 != 0) TRY(emit(zeros, 512 - size % 512));
    } else if (type == detail::kRecordEnd) {
      TRY_ASSIGN(expected, reader.varint());
      if (expected != total)
        return make_error("tar layout `" + layout_path + "` is corrupt (" + std::to_string(total) + " bytes, " +
                              std::to_string(expected) + " recorded)",
                          EINVAL);
      return sha.finish();
    } else {
      return make_error("tar layout `" + layout_path + "` is corrupt (unknown record)", EINVAL);
    }
  }
}

}  // namespace ctr::image
