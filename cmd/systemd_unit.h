// systemd unit files for ctr containers: the quoting of command lines in
// Exec*= (systemd.service(5) "Command lines"), a small INI model of unit
// files, the units `ctr generate systemd` writes, and the conversion of
// quadlet-style `.container` files (cmd/systemd_generator_main.cpp).
// Pure functions: no I/O besides own_command_line().
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

// The command line of this process (/proc/self/cmdline).
std::vector<std::string> own_command_line();

// One word of an Exec*= line: bare when it needs nothing, else in double
// quotes with \ and " escaped; `%` (specifiers) and `$` (variable expansion)
// are doubled, so the program gets the word verbatim.
std::string systemd_quote(const std::string& word);
std::string systemd_command_line(const std::vector<std::string>& argv);
// Splits a value the way systemd splits Exec= and Environment= (double and
// single quotes, backslash escapes, whitespace). Unbalanced quotes are an error.
Result<std::vector<std::string>> systemd_split(const std::string& text);

// A unit file: sections in order, each with its key=value lines in order
// (a key may repeat). Comments and blank lines are dropped; a trailing backslash
// continues a line.
struct UnitSection {
  std::string name;
  std::vector<std::pair<std::string, std::string>> entries;
};
struct UnitFile {
  std::vector<UnitSection> sections;
  UnitSection* find(const std::string& name);
  const UnitSection* find(const std::string& name) const;
  UnitSection& get(const std::string& name);  // appends an empty one if missing
};
Result<UnitFile> parse_unit_file(const std::string& text);
std::string render_unit_file(const UnitFile& unit);

// `ctr generate systemd`.
struct GenerateSettings {
  std::string ctr_binary;                 // absolute path of ctr for Exec*=
  std::vector<std::string> global_args;   // e.g. --root STORE, before the command
  bool recreate = false;                  // --new
  std::string unit_name;                  // "container-web.service"
  std::string container;                  // name used by start/stop/rm
  unsigned stop_timeout = 10;             // --time, else the container's
  std::string restart_policy = "on-failure";
  std::vector<std::string> create_command;  // the container's (--new)
  std::string version;
};
// --new: the container's create command as `ctr [GLOBALS] run --rm
// --sdnotify=conmon -d --replace [--name NAME] ...`, without the flags that
// conflict with that (-d, --rm, --replace, --sdnotify, --cidfile).
// `takes_value(flag, global)` says whether a flag of `ctr` (global) or of
// run/create takes a separate value, so the walk knows where IMAGE starts.
Result<std::vector<std::string>> recreate_command(
    const std::vector<std::string>& create_command, const std::string& ctr_binary, const std::string& name,
    const std::function<bool(const std::string& flag, bool global)>& takes_value);
Result<std::string> render_generated_unit(const GenerateSettings& settings,
                                          const std::vector<std::string>& exec_start);

// The restart policies systemd knows (Restart=).
Status check_restart_policy(const std::string& policy);

// A `.container` file -> a service unit (the generator). `name` is the file
// name without `.container`; `source` its path (SourcePath=). Warnings (an
// unsupported key) go to `warnings`; an error means the file is skipped.
struct ContainerUnit {
  std::string service_name;  // NAME.service
  std::string text;
  std::vector<std::string> wanted_by, required_by;  // [Install]: symlinks to make
};
Result<ContainerUnit> convert_container_file(const std::string& name, const std::string& source,
                                             const std::string& text, const std::string& ctr_binary,
                                             std::vector<std::string>& warnings);

}  // namespace ctr::cmd
