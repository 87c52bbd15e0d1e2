// ctr-runtime's command table; the commands live in runtime/cli/<name>.cpp.
#include "runtime/cli/command.h"

namespace ctr::cli {

std::span<const Command* const> all_commands() {
  static const Command* const commands[] = {
      &create_command, &start_command, &run_command,   &state_command,   &list_command,
      &kill_command,   &delete_command, &exec_command, &ps_command,      &spec_command,
      &features_command, &pause_command, &resume_command, &update_command, &events_command,
  };
  return commands;
}

}  // namespace ctr::cli
