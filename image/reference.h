// Image references as users type them: "busybox", "busybox:1.36",
// "localhost/app:v2", "registry:5000/ns/app@sha256:...", an image ID or a
// unique ID prefix. Names normalize as podman's do: a name without a
// registry gets "localhost/" when the user names a local image (import, tag,
// OCI ref.name annotations: podman's NormalizeName) and "docker.io/" (plus
// "library/" for a single component) when it comes from a docker-archive's
// RepoTags (docker's rule); "docker.io/x" is always "docker.io/library/x";
// no tag means ":latest".
#pragma once

#include <optional>
#include <string>

#include "runtime/base/result.h"

namespace ctr::image {

// Which registry a name without one gets.
enum class DefaultDomain { localhost, docker_hub };

struct Reference {
  std::string name;    // "localhost/busybox", "docker.io/library/busybox"
  std::string tag;     // "latest" unless given; "" when only a digest was given
  std::string digest;  // "sha256:..." when given with @
  std::string path;    // the repository path as typed, without a registry: "busybox", "library/busybox"
  bool qualified = false;  // the text named a registry
  std::string full() const;  // name:tag or name@digest
};

// Parses a name reference; errors name the text and what is wrong.
Result<Reference> parse_reference(const std::string& text, DefaultDomain domain = DefaultDomain::localhost);
// True when `text` could be an image ID or ID prefix (hex, 3..64 chars).
bool looks_like_id(const std::string& text);

}  // namespace ctr::image
