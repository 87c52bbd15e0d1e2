#include "cmd/ps_filter.h"

#include <algorithm>

#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

const std::vector<std::string>& known_states() {
  static const std::vector<std::string> states = {"created", "running", "paused", "stopped", "exited", "unknown"};
  return states;
}

bool ancestor_matches(const std::string& value, const PsFilter::Subject& subject) {
  const ContainerRecord& record = *subject.record;
  std::string hex = starts_with(record.image_id, "sha256:") ? record.image_id.substr(7) : record.image_id;
  if (value == record.image_id || value == hex) return true;
  // As podman: the full name, or the name without a ":latest" tag.
  const std::string& name = subject.image_name;
  if (value == name) return true;
  auto colon = name.rfind(':');
  return colon != std::string::npos && name.find('/', colon) == std::string::npos && name.substr(colon + 1) == "latest" &&
         name.substr(0, colon) == value;
}

}  // namespace

Result<PsFilter> PsFilter::parse(const std::vector<std::string>& specs) {
  PsFilter filter;
  for (const auto& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error("invalid filter \"" + spec + "\": use KEY=VALUE (status, name, label, ancestor, id, exited)",
                        EINVAL);
    std::string key = spec.substr(0, eq), value = spec.substr(eq + 1);
    if (key == "status") {
      if (std::find(known_states().begin(), known_states().end(), value) == known_states().end())
        return make_error("invalid filter \"" + spec + "\": unknown container state `" + value +
                              "` (created, running, paused, stopped, exited, unknown)",
                          EINVAL);
    } else if (key == "name") {
      try {
        filter.names_.emplace_back(value, std::regex::ECMAScript);
      } catch (const std::regex_error& error) {
        return make_error("invalid filter \"" + spec + "\": `" + value + "` is not a regular expression: " +
                              error.what(),
                          EINVAL);
      }
    } else if (key == "exited") {
      auto code = parse_u64(value);
      if (!code || *code > 255)
        return make_error("invalid filter \"" + spec + "\": the exit code must be a number from 0 to 255", EINVAL);
    } else if (key != "label" && key != "ancestor" && key != "id") {
      return make_error("invalid filter \"" + spec + "\": `" + key +
                            "` is not a filter ctr supports (status, name, label, ancestor, id, exited)",
                        EINVAL);
    }
    if (value.empty() && key != "label")
      return make_error("invalid filter \"" + spec + "\": the value is empty", EINVAL);
    filter.values_[key].push_back(value);
  }
  return filter;
}

bool PsFilter::key_matches(const std::string& key, const std::string& value, const Subject& subject) const {
  const ContainerRecord& record = *subject.record;
  if (key == "status") return subject.state == value;
  if (key == "id") return starts_with(record.id, value);
  if (key == "ancestor") return ancestor_matches(value, subject);
  if (key == "exited") return subject.state == "exited" && std::to_string(subject.exit_code) == value;
  if (key == "label") {
    auto eq = value.find('=');
    auto it = record.labels.find(value.substr(0, eq));
    if (it == record.labels.end()) return false;
    return eq == std::string::npos || it->second == value.substr(eq + 1);
  }
  return false;
}

bool PsFilter::matches(const Subject& subject) const {
  for (const auto& [key, values] : values_) {
    bool any = false;
    if (key == "name") {
      any = std::any_of(names_.begin(), names_.end(),
                        [&](const std::regex& re) { return std::regex_search(subject.record->name, re); });
    } else {
      any = std::any_of(values.begin(), values.end(),
                        [&](const std::string& value) { return key_matches(key, value, subject); });
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace ctr::cmd
