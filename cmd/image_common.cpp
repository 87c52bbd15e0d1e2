#include "cmd/image_common.h"

#include <fnmatch.h>

#include <algorithm>

#include "image/reference.h"

namespace ctr::cmd {

std::string image_id_text(const std::string& id, bool truncate) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return truncate ? hex.substr(0, 12) : hex;
}

std::pair<std::string, std::string> split_name(const std::string& name) {
  size_t at = name.find('@');
  if (at != std::string::npos) return {name.substr(0, at), "<none>"};
  size_t colon = name.rfind(':');
  size_t slash = name.rfind('/');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {name, "<none>"};
  return {name.substr(0, colon), name.substr(colon + 1)};
}

bool reference_matches(const std::string& pattern, const std::string& name) {
  auto glob = [&](const std::string& text) { return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0; };
  auto [repository, tag] = split_name(name);
  std::vector<std::string> candidates{name, repository};
  size_t slash = name.find('/');
  if (slash != std::string::npos) {
    candidates.push_back(name.substr(slash + 1));
    candidates.push_back(repository.substr(slash + 1));
  }
  for (const auto& candidate : candidates) {
    if (glob(candidate)) return true;
  }
  return false;
}

}  // namespace ctr::cmd
