// One streaming pass over a layer: fd -> sha256 of the raw stream ->
// decompression -> sha256 of the tar stream (the diffID) -> tar reader ->
// Extractor. libarchive does not expose the bytes between its decompression
// filter and its tar reader, so two readers are chained: the first has the
// filters and the "raw" format (its one entry's data is the decompressed
// stream), the second reads tar only, from the first's data.
#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "image/digest.h"
#include "image/tar_layout.h"
#include "image/unpack_internal.h"

namespace ctr::image {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

constexpr size_t kBlock = 256 * 1024;

struct RawSource {  // the stream as given
  const ReadFn* read = nullptr;
  Sha256 sha;
  uint64_t bytes = 0;
  std::vector<char> buffer = std::vector<char>(kBlock);
};

la_ssize_t raw_read(archive* a, void* data, const void** out) {
  auto* src = static_cast<RawSource*>(data);
  for (;;) {
    ssize_t n = (*src->read)(src->buffer.data(), src->buffer.size());
    if (n == -EINTR) continue;
    if (n < 0) {
      archive_set_error(a, static_cast<int>(-n), "read: %s", std::strerror(static_cast<int>(-n)));
      return -1;
    }
    src->sha.update(src->buffer.data(), static_cast<size_t>(n));
    src->bytes += static_cast<uint64_t>(n);
    *out = src->buffer.data();
    return n;
  }
}

struct TarSource {  // the decompressed stream, pulled from the first reader
  archive* outer = nullptr;
  Sha256 sha;
  uint64_t bytes = 0;
  uint64_t max_size = 0;
  TarLayoutRecorder* recorder = nullptr;  // tee of the tar stream, if recording
  std::string error;  // the first reader's error, which the second cannot see
  std::vector<char> buffer = std::vector<char>(kBlock);
};

la_ssize_t tar_pull(TarSource* src) {
  la_ssize_t n = archive_read_data(src->outer, src->buffer.data(), src->buffer.size());
  if (n < 0) {
    const char* msg = archive_error_string(src->outer);
    src->error = std::string("decompress: ") + (msg ? msg : "corrupt stream");
    return -1;
  }
  src->bytes += static_cast<uint64_t>(n);
  if (src->bytes > src->max_size) {
    src->error = "tar stream is over the limit of " + std::to_string(src->max_size) + " bytes";
    return -1;
  }
  src->sha.update(src->buffer.data(), static_cast<size_t>(n));
  if (src->recorder) {
    Status recorded = src->recorder->feed(src->buffer.data(), static_cast<size_t>(n));
    if (!recorded) {
      src->error = recorded.error().message;
      return -1;
    }
  }
  return n;
}

la_ssize_t tar_read(archive* a, void* data, const void** out) {
  auto* src = static_cast<TarSource*>(data);
  la_ssize_t n = tar_pull(src);
  if (n < 0) {
    archive_set_error(a, EIO, "%s", src->error.c_str());
    return -1;
  }
  *out = src->buffer.data();
  return n;
}

Result<ArchivePtr> open_decompressor(RawSource& raw) {
  ArchivePtr a(archive_read_new());
  if (!a) return make_error("archive_read_new failed", ENOMEM);
  // Only built-in filters: support_filter_all would also run external
  // programs (lrzip, lzop, ...) on untrusted input.
  if (archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(a.get()) != ARCHIVE_OK)
    return make_error("this libarchive lacks built-in gzip or zstd support", ENOTSUP);
  (void)archive_read_support_filter_xz(a.get());  // legacy docker layers; fine if only external
  archive_read_support_format_raw(a.get());
  if (archive_read_open(a.get(), &raw, nullptr, raw_read, nullptr) != ARCHIVE_OK) {
    if (raw.bytes == 0) return make_error("empty stream, not a layer", EINVAL);
    return make_error(std::string("open: ") + archive_error_string(a.get()), EINVAL);
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    if (raw.bytes == 0) return make_error("empty stream, not a layer", EINVAL);
    return make_error(std::string("read: ") + archive_error_string(a.get()), EINVAL);
  }
  return a;
}

Error entry_error(const UnpackOptions& options, const std::string& entry, Error error) {
  std::string what = options.what.empty() ? "layer" : options.what;
  if (!entry.empty()) what += ": entry `" + entry + "`";
  return std::move(error).context(what);
}

Status check_digest(const char* kind, const std::string& expected, const std::string& actual) {
  if (expected.empty() || expected == actual) return {};
  return make_error(std::string(kind) + " mismatch: expected " + expected + ", got " + actual, EILSEQ);
}

// The tar loop; `current` names the entry for error messages.
Status extract_all(archive* tar, TarSource& source, detail::Extractor& extractor, std::string& current) {
  bool any = false;
  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(tar, &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (!source.error.empty()) return make_error(source.error, EIO);
      std::string msg = archive_error_string(tar) ? archive_error_string(tar) : "corrupt tar";
      if (!any) return make_error("not a tar stream: " + msg, EINVAL);
      return make_error("truncated or corrupt tar after this entry: " + msg, EIO);
    }
    any = true;
    const char* name = archive_entry_pathname(entry);
    current = name ? name : "";
    Status written = extractor.write_entry(tar, entry);
    if (!written) {
      if (!source.error.empty()) return make_error(source.error, EIO);
      return written;
    }
  }
  current.clear();
  if (!any && source.bytes == 0) return make_error("empty stream, not a layer", EINVAL);
  // Padding after the end-of-archive blocks is part of the diffID too.
  while (tar_pull(&source) > 0) {
  }
  if (!source.error.empty()) return make_error(source.error, EIO);
  return {};
}

}  // namespace

Result<UnpackedLayer> unpack_layer(int fd, const std::string& dest, const UnpackOptions& options) {
  ReadFn read = [fd](void* buffer, size_t size) -> ssize_t {
    ssize_t n = ::read(fd, buffer, size);
    return n < 0 ? -errno : n;
  };
  return unpack_layer_from(read, dest, options);
}

Result<UnpackedLayer> unpack_layer_from(const ReadFn& read, const std::string& dest, const UnpackOptions& options) {
  int root = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) return entry_error(options, "", sys_error("open destination `" + dest + "`"));
  detail::Extractor extractor(UniqueFd(root), options);

  RawSource raw;
  raw.read = &read;
  auto outer = open_decompressor(raw);
  if (!outer) return entry_error(options, "", std::move(outer).error());
  TarSource source;
  source.outer = outer->get();
  source.max_size = options.max_size;
  std::unique_ptr<TarLayoutRecorder> recorder;
  if (!options.tar_layout_path.empty()) {
    auto created = TarLayoutRecorder::create(options.tar_layout_path);
    if (!created) return entry_error(options, "", std::move(created).error());
    recorder = std::move(*created);
    source.recorder = recorder.get();
  }
  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());  // ustar, pax and GNU
  if (archive_read_open(tar.get(), &source, nullptr, tar_read, nullptr) != ARCHIVE_OK) {
    if (!source.error.empty()) return entry_error(options, "", make_error(source.error, EIO));
    return entry_error(options, "", make_error(std::string("not a tar stream: ") + archive_error_string(tar.get()), EINVAL));
  }
  std::string current;
  Status extracted = extract_all(tar.get(), source, extractor, current);
  if (!extracted) return entry_error(options, current, std::move(extracted).error());
  // Before directory modes are applied: every directory is still ours to search.
  std::string layout_dropped;
  if (recorder) {
    auto kept = recorder->finish(root);
    if (!kept) return entry_error(options, "", std::move(kept).error());
    layout_dropped = std::move(*kept);
  }
  Status finished = extractor.finish();
  if (!finished) return entry_error(options, "", std::move(finished).error());

  // Whatever follows the compressed stream still belongs to the blob digest.
  for (ssize_t n; (n = read(raw.buffer.data(), raw.buffer.size())) != 0;) {
    if (n == -EINTR) continue;
    if (n < 0) return entry_error(options, "", sys_error("read", static_cast<int>(-n)));
    raw.sha.update(raw.buffer.data(), static_cast<size_t>(n));
    raw.bytes += static_cast<uint64_t>(n);
  }
  UnpackedLayer layer;
  layer.digest = raw.sha.finish();
  layer.diff_id = source.sha.finish();
  layer.size = extractor.bytes_written();
  layer.stream_size = raw.bytes;
  switch (archive_filter_code(outer->get(), 0)) {
    case ARCHIVE_FILTER_GZIP: layer.compression = "gzip"; break;
    case ARCHIVE_FILTER_ZSTD: layer.compression = "zstd"; break;
    case ARCHIVE_FILTER_XZ: layer.compression = "xz"; break;
    default: break;
  }
  layer.notes = std::move(extractor.notes());
  layer.tar_layout_kept = recorder && layout_dropped.empty();
  if (!layout_dropped.empty())
    layer.notes.push_back("tar layout not kept, `ctr save` will regenerate this layer's tar: " + layout_dropped);
  Status ok = check_digest("digest", options.expected_digest, layer.digest);
  if (ok) ok = check_digest("diffID", options.expected_diff_id, layer.diff_id);
  if (!ok) return entry_error(options, "", std::move(ok).error());
  return layer;
}

}  // namespace ctr::image
