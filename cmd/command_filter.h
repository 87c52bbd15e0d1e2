// Building only the part of the command tree a command line needs.
//
// Building all ~200 commands (options, validators, help text) costs about
// 1.5 ms per exec, and a container start execs ctr twice (`ctr run`, then the
// shim's exit command `ctr container cleanup`). So run_cli first reads the
// command words from argv (after the global flags) and registers only the
// commands on that path; registration code guards each add_X with
// wants_command(). The whole tree is still built for everything that needs it:
// no command, --help at the top level, help/completion/__complete/__man, a
// flag the top level does not know, and any word the narrowed tree does not
// have (an alias, a typo: unknown-command errors list and suggest commands).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/app.h"

namespace ctr::cmd {

// False when the command `name` under `parent` is off the path that `cli` was
// narrowed to (build_narrowed_cli), so its add_X can be skipped. An add_X
// without this guard is simply always built: correct, only slower.
bool wants_command(const Cli& cli, const CLI::App& parent, std::string_view name);

// The command words of argv that the tree may be narrowed to: the first word
// after the global flags of `globals` (and their values), and the next one
// unless it is a flag. {} when the whole tree is needed.
std::vector<std::string> command_words(const CLI::App& globals, int argc, char** argv);

// The tree narrowed to `words` ({"run"}, {"container", "cleanup"}) plus the
// global flags; nullptr when that tree does not have the command path the
// words name (then only the whole tree, build_cli(), answers exactly).
std::unique_ptr<Cli> build_narrowed_cli(const std::vector<std::string>& words);

}  // namespace ctr::cmd
