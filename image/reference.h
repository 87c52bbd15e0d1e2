// Image references as users type them: "busybox", "busybox:1.36",
// "localhost/app:v2", "registry:5000/ns/app@sha256:...", an image ID or a
// unique ID prefix. Names normalize as podman's do: no registry means
// "localhost/" for local images (import/load of unnamed) and the name is
// kept otherwise; no tag means ":latest".
#pragma once

#include <optional>
#include <string>

#include "runtime/base/result.h"

namespace ctr::image {

struct Reference {
  std::string name;    // "localhost/busybox", "docker.io/library/busybox"
  std::string tag;     // "latest" unless given; "" when only a digest was given
  std::string digest;  // "sha256:..." when given with @
  std::string full() const;  // name:tag or name@digest
};

// Parses a name reference; errors name the text and what is wrong.
Result<Reference> parse_reference(const std::string& text);
// True when `text` could be an image ID or ID prefix (hex, 3..64 chars).
bool looks_like_id(const std::string& text);

}  // namespace ctr::image
