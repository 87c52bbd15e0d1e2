// The containers a multi-container command (stop, restart, kill) acts on:
// the ones named, or every one with --all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cmd/container_record.h"

namespace ctr::cmd {

struct Target {
  std::string text;  // as the user named it (printed back, as podman), or the ID with --all
  ContainerRecord record;
};

// `names` or, with `all`, every container `keep` accepts; naming both or
// neither is an error that mentions `command`. An unknown name is reported
// on stderr, skipped, and sets `status` to 125.
Result<std::vector<Target>> select_containers(const image::Store& store, const std::string& command,
                                              const std::vector<std::string>& names, bool all,
                                              const std::function<bool(const ContainerRecord&)>& keep, int& status);

}  // namespace ctr::cmd
