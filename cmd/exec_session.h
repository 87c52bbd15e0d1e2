// The pure parts of `ctr exec`: the exec session's OCI process (the
// container's own process from config.json with -e/--env-file/-u/-w/-t
// applied). No I/O here, so unit tests cover it. (--env-file is read with
// container_spec.h parse_env_file, as for run.)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

struct ExecProcessFlags {
  std::vector<std::string> command;
  std::vector<std::string> env_file_entries;  // parse_env_file results, in order; -e wins over them
  std::vector<std::string> env;        // -e KEY=VALUE, or KEY (ctr's own value, skipped when unset)
  std::optional<std::string> user;     // -u user[:group]
  std::optional<std::string> workdir;  // -w
  bool tty = false;
};

// The process.json for the session. `config_json`: the container's
// config.json; `passwd`/`group`: the container's /etc files (for -u).
Result<std::string> exec_process_json(const std::string& config_json, const ExecProcessFlags& flags,
                                      const std::string& passwd, const std::string& group);

}  // namespace ctr::cmd
