// Completer kinds: every value option and positional of every ctr command
// names what completes it, so the completion scripts (a later issue) are
// generated from the same definitions as the parser, and a unit test fails
// when one is missing (DESIGN.md, section 5 "CLI"; podman's
// common/completion.go does the same with a completion function per flag).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ctr::cmd {

enum class Completer {
  none,  // free text: nothing sensible to offer (a name, a number)
  files,
  directories,
  images,
  containers,
  running_containers,
  signals,
  formats,  // --format: json, table, or a template
  log_drivers,
  fixed,     // a fixed list of choices, stored beside the kind
  commands,  // an executable in $PATH (ctr unshare CMD)
  volumes,   // named volumes in the store
};

const char* completer_name(Completer kind);

struct CompleterSpec {
  Completer kind = Completer::none;
  std::vector<std::string> choices;  // for Completer::fixed and formats
};

// A side table keyed by option pointer. It lives beside the CLI::App it
// describes (see Cli in app.h) so pointers never outlive their options.
class CompleterRegistry {
 public:
  void set(const CLI::Option* option, CompleterSpec spec) { specs_[option] = std::move(spec); }
  const CompleterSpec* find(const CLI::Option* option) const {
    auto it = specs_.find(option);
    return it == specs_.end() ? nullptr : &it->second;
  }
  size_t size() const { return specs_.size(); }

 private:
  std::map<const CLI::Option*, CompleterSpec> specs_;
};

// Adds a value option or a positional (a name without leading '-') and
// records its completer in one step, so the two cannot drift apart.
template <typename T>
CLI::Option* add_value(CompleterRegistry& registry, CLI::App& app, const std::string& name, T& value,
                       const std::string& description, Completer kind, std::vector<std::string> choices = {}) {
  CLI::Option* option = app.add_option(name, value, description);
  registry.set(option, CompleterSpec{kind, std::move(choices)});
  return option;
}

// True when the option takes a value (i.e. it is not a flag), and so needs a completer.
inline bool takes_value(const CLI::Option* option) {
  return option->get_items_expected_max() != 0 || option->get_positional();
}

// Calls `visit(app, option)` for every value option and positional in the tree
// that has no completer; returns how many there were.
template <typename Visit>
size_t for_each_missing_completer(const CLI::App& app, const CompleterRegistry& registry, Visit&& visit) {
  size_t missing = 0;
  for (const CLI::Option* option : app.get_options()) {
    if (!takes_value(option) || registry.find(option)) continue;
    ++missing;
    visit(app, *option);
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    missing += for_each_missing_completer(*sub, registry, visit);
  }
  return missing;
}

}  // namespace ctr::cmd
