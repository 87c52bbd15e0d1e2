// Unpacking one layer tarball into a directory, safely and in one streaming
// pass: decompress (none/gzip/zstd, detected), digest the compressed stream
// and the tar stream (diffID), extract, apply whiteouts in overlay form.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::image {

struct UnpackOptions {
  std::string expected_digest;  // of the stream as given; "" = do not check
  std::string expected_diff_id; // of the uncompressed tar; "" = do not check
  std::string what;             // "archive `x.tar`, layer sha256:ab12..." for messages
  uint64_t max_entry_size = 64ull << 30;
  uint64_t max_size = 256ull << 30;      // of the uncompressed tar stream
  // chown failing with EPERM/EINVAL is ignored (files stay the caller's):
  // set outside the store's user namespace or with a single-ID map, where
  // other owners cannot exist; inside the full map a failure is an error.
  bool ignore_chown_errors = false;
  // The opaque-directory xattr: "user.overlay.opaque" for rootless overlay
  // (mounted with userxattr), "trusted.overlay.opaque" for real root.
  std::string opaque_xattr = "user.overlay.opaque";
  // Where to record the tar stream's layout (image/tar_layout.h), usually
  // LAYER/tar-layout.gz beside `dest`; "" = do not record. Recorded in the
  // same pass; a layout that cannot be replayed is not kept (a note says why).
  std::string tar_layout_path;
};

struct UnpackedLayer {
  std::string digest;   // of the input stream
  std::string diff_id;  // of the tar stream
  uint64_t size = 0;    // bytes of file content written
  uint64_t stream_size = 0;  // bytes of the input stream (the blob's size)
  std::string compression;   // "", "gzip", "zstd" or "xz", as detected
  std::vector<std::string> notes;  // for the debug log: skipped device nodes, xattrs not kept
  bool tar_layout_kept = false;    // options.tar_layout_path was written
};

// Extracts the tar read from `fd` into `dest` (an empty directory). Owners,
// modes, setuid bits, hard links, symlinks, mtimes and xattrs are kept;
// device nodes are skipped (a note in the debug log); `.wh.NAME` becomes an
// overlay whiteout (char device 0:0) and `.wh..wh..opq` sets the opaque
// xattr (user.overlay.opaque, for rootless overlay's userxattr mode).
// Entries with `..`, absolute paths, links or writes leading outside `dest`,
// entries over the size limit, corrupt compression and digest mismatches are
// errors naming options.what and the entry; the caller discards `dest`.
// Ownership needs the process to run inside the store's user namespace
// (see userns/run_in_userns.h); outside one, chown failures are ignored and
// files belong to the caller (podman's ignore_chown_errors).
Result<UnpackedLayer> unpack_layer(int fd, const std::string& dest, const UnpackOptions& options);

// The same from a reader (a member of an archive being read): it fills
// `buffer` and returns the byte count, 0 at the end, or -errno.
using ReadFn = std::function<ssize_t(void* buffer, size_t size)>;
Result<UnpackedLayer> unpack_layer_from(const ReadFn& read, const std::string& dest, const UnpackOptions& options);

}  // namespace ctr::image
