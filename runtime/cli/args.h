// A small flag parser with runc's (urfave/cli v1) syntax: `--flag value`,
// `--flag=value`, `-flag value`, `-flag=value`, one-letter aliases (`-b`),
// booleans (`--detach`, `--detach=false`), repeated flags, and grouped
// one-letter booleans (`-dt`). No CLI11: ctr-runtime's startup time counts.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cli {

enum class FlagKind {
  boolean,  // present = true; `--x=false` allowed
  value,    // takes one value; the last occurrence wins
  list,     // takes one value per occurrence, all kept
};

struct FlagSpec {
  std::string_view name;   // long name, without dashes
  char short_name = 0;     // one-letter alias, 0 for none
  FlagKind kind = FlagKind::boolean;
  std::string_view help;
  std::string_view value_name = "";  // shown in help, e.g. "DIR"
};

class ParsedArgs {
 public:
  // True when a boolean flag was given (and not given as =false).
  bool flag(std::string_view name) const;
  // The last value of a value flag, if given.
  std::optional<std::string> value(std::string_view name) const;
  std::string value_or(std::string_view name, std::string fallback) const;
  // Every value of a list flag, in order.
  std::vector<std::string> values(std::string_view name) const;
  bool has(std::string_view name) const;

  std::vector<std::string> positionals;
  bool help = false;  // --help / -h, when the command has no flag of that name

  void add(std::string_view name, std::string value) { entries_.emplace_back(std::string(name), std::move(value)); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct ParseOptions {
  // Stop at the first positional: everything from there on is positional
  // (exec ID CMD ARGS..., where CMD's own flags must not be parsed; and the
  // global flags, which end at the command name).
  bool stop_at_first_positional = false;
  // Named in errors: `unknown flag --foo for "create"`. Empty for globals.
  std::string_view command;
};

Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const FlagSpec> flags,
                              const ParseOptions& options = {});

// "create" requires exactly 1 argument, and friends.
Status expect_positionals(const ParsedArgs& args, std::string_view command, size_t min, size_t max);

// Renders the flags for --help.
std::string describe_flags(std::span<const FlagSpec> flags);

}  // namespace ctr::cli
