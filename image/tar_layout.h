// The exact byte layout of a layer's tar stream, kept beside its unpacked
// tree so `ctr save` can write the very tar the layer was loaded from (same
// diffID, so the same config and image ID), like containers/storage's
// tar-split. Recorded in the unpack's single pass over the decompressed
// stream: every header, pax/GNU record, padding and trailing byte is stored
// verbatim; each regular file's content is stored as a reference (its path in
// diff/ and its size), because the content is already in diff/. Payloads that
// cannot be found again by path (sparse files, hard links with data, odd
// typeflags) are stored inline. When a later entry replaces or removes a
// referenced file (a path that repeats, a whiteout of it in the same layer,
// a write through a symlink of the layer) the layout cannot be replayed and
// is dropped: such layers are saved by regeneration, as before.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runtime/base/result.h"

namespace ctr::image {

// The file beside diff/ in a layer directory.
constexpr const char* kTarLayoutFile = "tar-layout.gz";

struct TarLayoutStats {
  uint64_t stream_bytes = 0;      // of the tar stream
  uint64_t referenced_files = 0;  // payloads referenced by path
  uint64_t referenced_bytes = 0;
  uint64_t inline_bytes = 0;  // everything stored verbatim (headers, padding, odd payloads)
};

class TarLayoutRecorder {
 public:
  // Starts a layout in `path` (created; must not exist).
  static Result<std::unique_ptr<TarLayoutRecorder>> create(const std::string& path);
  ~TarLayoutRecorder();
  TarLayoutRecorder(const TarLayoutRecorder&) = delete;
  TarLayoutRecorder& operator=(const TarLayoutRecorder&) = delete;

  // The next bytes of the tar stream, as they pass. Anything the parser does
  // not understand is stored verbatim, so only writing the layout can fail.
  Status feed(const void* data, size_t size);
  // After the last byte: checks that every referenced file is in the
  // extracted tree (`diff_root`, an fd of diff/) as a regular file of its
  // recorded size, and completes the file. Returns "" when the layout was
  // kept, else why not (the file is then removed; the layer is still good).
  Result<std::string> finish(int diff_root);
  const TarLayoutStats& stats() const;

  struct State;

 private:
  explicit TarLayoutRecorder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Writes the tar stream recorded in `layout_path` to `sink`, headers as
// recorded and file contents read from `diff_dir`; returns the stream's
// sha256 digest ("sha256:<hex>"), which the caller compares with the diffID.
// A referenced file that is missing or has another size is an error naming it.
using TarSink = std::function<Status(const void* data, size_t size)>;
Result<std::string> replay_tar_layout(const std::string& layout_path, const std::string& diff_dir, const TarSink& sink);

}  // namespace ctr::image
