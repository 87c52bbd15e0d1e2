// ctr-runtime state ID: the container's state as JSON.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"

namespace ctr::cli {

namespace {

Result<int> run_state(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "state", 1, 1));
  TRY_ASSIGN(state, load_state(global, args.positionals[0]));
  std::string text = state_to_public_json(state).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  TRY(write_all(STDOUT_FILENO, text + "\n"));
  return 0;
}

}  // namespace

const Command state_command{
    "state", "state ID", "print a container's state as JSON", {}, run_state,
};

}  // namespace ctr::cli
