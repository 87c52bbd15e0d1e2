// ctr-runtime: the OCI runtime command line (runc/crun compatible). The
// commands live in runtime/cli/<name>.cpp, their table in commands.cpp.
#include "runtime/cli/command.h"

int main(int argc, char** argv) { return ctr::cli::run_main(argc, argv, ctr::cli::all_commands()); }
