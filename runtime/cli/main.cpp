// ctr-runtime: the OCI runtime command line (runc/crun compatible). The
// commands live in runtime/cli/<name>.cpp; this is their table.
#include "runtime/cli/command.h"

namespace {

const ctr::cli::Command* const kCommands[] = {
    &ctr::cli::create_command, &ctr::cli::start_command, &ctr::cli::run_command,  &ctr::cli::state_command,
    &ctr::cli::list_command,   &ctr::cli::kill_command,  &ctr::cli::delete_command, &ctr::cli::exec_command,
    &ctr::cli::ps_command,     &ctr::cli::spec_command,  &ctr::cli::features_command,
};

}  // namespace

int main(int argc, char** argv) { return ctr::cli::run_main(argc, argv, kCommands); }
