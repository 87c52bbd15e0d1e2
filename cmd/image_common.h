// Small helpers shared by the image commands (images, inspect, rmi, prune, df).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "image/store.h"

namespace ctr::cmd {

// "sha256:abc..." -> "abc..." (64 hex); with `truncate`, the first 12.
std::string image_id_text(const std::string& id, bool truncate);
// "localhost/busybox:latest" -> {"localhost/busybox", "latest"};
// "name@sha256:..." -> {"name", "<none>"}.
std::pair<std::string, std::string> split_name(const std::string& name);
// Shell-glob match as podman's reference filter: the pattern is tried
// against the full name, the name without its registry, and (when the
// pattern has no tag) the repository alone.
bool reference_matches(const std::string& pattern, const std::string& name);

}  // namespace ctr::cmd
