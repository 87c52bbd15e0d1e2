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

std::string matched_name(const image::ImageRecord& image, const std::string& text) {
  if (std::find(image.names.begin(), image.names.end(), text) != image.names.end()) return text;
  auto reference = image::parse_reference(text);
  if (!reference) return "";
  std::string full = reference->full();
  // A short name ("busybox") also finds "docker.io/library/busybox:latest",
  // as the store's lookup does.
  std::string short_suffix;
  if (text.rfind("localhost/", 0) != 0 && reference->name.rfind("localhost/", 0) == 0 && !reference->tag.empty())
    short_suffix = "/" + reference->name.substr(10) + ":" + reference->tag;
  for (const auto& name : image.names) {
    if (name == full) return name;
  }
  for (const auto& name : image.names) {
    if (!short_suffix.empty() && name.size() > short_suffix.size() &&
        name.compare(name.size() - short_suffix.size(), short_suffix.size(), short_suffix) == 0)
      return name;
  }
  return "";
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
