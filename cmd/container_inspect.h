// The objects `ctr inspect` prints, shaped like podman's: a container's
// (built from its record, the config.json it was created with and the
// shim's state files, never from invented values) and an image's (the
// builder lives in image_inspect.cpp, shared by `image inspect`).
#pragma once

#include <cstdint>
#include <string>

#include "cmd/container_record.h"
#include "cmd/output.h"
#include "image/store.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

// podman's `container inspect` object for one container.
Result<Json> container_inspect_json(const image::Store& store, const ContainerRecord& record);

// podman's `image inspect` object for one image (image_inspect.cpp).
Result<Json> image_inspect_json(const image::Store& store, const image::ImageRecord& image);

// The modification time of `path` in nanoseconds since the epoch; 0 when
// it does not exist.
int64_t mtime_ns(const std::string& path);

}  // namespace ctr::cmd
