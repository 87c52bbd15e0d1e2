// ctr-runtime's commands: one file each (runtime/cli/<name>.cpp), each
// defining a Command with its flags and a run function. main.cpp holds the
// dispatch table; run_main parses the global flags and reports errors.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/cli/args.h"

namespace ctr::cli {

enum class LogFormat { text, json };

struct GlobalOptions {
  std::string root;  // --root, or default_state_root()
  std::string log_path;
  LogFormat log_format = LogFormat::text;
  bool debug = false;
  bool systemd_cgroup = false;  // accepted for podman/containerd; cgroups come later
  std::string rootless = "auto";
};

// Returns the exit status (0, or the container's for run/exec), or an error
// that run_main prints and logs, exiting 1.
using CommandFn = Result<int> (*)(const GlobalOptions& global, const ParsedArgs& args);

struct Command {
  std::string_view name;
  std::string_view usage;  // after "ctr-runtime ", e.g. "create [flags] ID"
  std::string_view summary;
  std::span<const FlagSpec> flags;
  CommandFn run = nullptr;
  bool stop_at_first_positional = false;  // exec: the container's argv follows the id
};

extern const Command spec_command;
extern const Command create_command;
extern const Command start_command;
extern const Command run_command;
extern const Command state_command;
extern const Command list_command;
extern const Command kill_command;
extern const Command delete_command;
extern const Command exec_command;
extern const Command ps_command;
extern const Command features_command;
extern const Command pause_command;
extern const Command resume_command;
extern const Command events_command;
extern const Command update_command;

// The global flags, parsed up to the command name.
extern const std::span<const FlagSpec> global_flags;

// The whole program: argv in, exit status out.
int run_main(int argc, char** argv, std::span<const Command* const> commands);
// Every command of ctr-runtime, in help order (its main, and ctr-shim,
// which runs the runtime's command line in a forked child instead of an
// exec: shim/runtime_in_process.h).
std::span<const Command* const> all_commands();

// `ctr-runtime --version`: three lines, runc's shape.
std::string version_text();

}  // namespace ctr::cli
