// ctr: the CLI. Everything lives in the ctr_cmd library (cmd/app.h) so the
// unit tests can build the same command tree.
#include "cmd/app.h"

int main(int argc, char** argv) {
  return ctr::cmd::run_cli(argc, argv);
}
