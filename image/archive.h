// Bringing images in and out of the store: docker-archive (docker save),
// oci-archive, OCI layout directories, plain rootfs tarballs; and saving.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "image/store.h"
#include "runtime/base/result.h"

namespace ctr::image {

struct Progress {  // reported while loading/saving, for `ctr load` on a terminal
  std::string layer;  // short digest
  uint64_t bytes = 0;
  uint64_t total = 0;  // 0 when unknown
  bool done = false;
};
using ProgressFn = std::function<void(const Progress&)>;

struct LoadOptions {
  ProgressFn progress;  // may be empty
  uint64_t max_entry_size = 64ull << 30;    // one file in a layer
  uint64_t max_archive_size = 256ull << 30; // the whole input
};

// Loads every image in the archive at `path` ("-" = stdin), detecting the
// format. Returns the images loaded (names as recorded in the archive; an
// unnamed image gets none and is found by ID). Nothing half-imported stays.
Result<std::vector<ImageRecord>> load_archive(Store& store, const std::string& path, const LoadOptions& options);

struct ImportOptions {
  std::vector<std::string> changes;  // "CMD ...", "ENTRYPOINT ...", "ENV K=V", "WORKDIR /x", "USER u", "LABEL k=v", "EXPOSE 80"
  std::string name;                  // "" = unnamed
  ProgressFn progress;
};
// A plain (optionally compressed) rootfs tarball as a one-layer image.
Result<ImageRecord> import_rootfs(Store& store, const std::string& path, const ImportOptions& options);

enum class ArchiveFormat { oci_archive, docker_archive };
Status save_images(const Store& store, const std::vector<std::string>& references, const std::string& path,
                   ArchiveFormat format, const ProgressFn& progress);

}  // namespace ctr::image
