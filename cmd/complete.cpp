// `ctr __complete WORDS... CURRENT`: walks the same CLI11 tree the parser
// uses (commands, their flags, the flags of enclosing commands, since ctr
// parses with fallthrough, and positionals in order) to find what the
// current word is, then answers from the completer registry. Command and
// flag names never touch the store; values do, read-only (complete_values.cpp).
#include <iostream>

#include "cmd/complete.h"
#include "image/store.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  std::vector<const CLI::App*> out;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_group().empty()) out.push_back(sub);
  return out;
}

std::string full_command_path(const CLI::App& command) {
  std::string path;
  for (const CLI::App* at = &command; at; at = at->get_parent())
    path = at->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

namespace {

// Where the walk over the words before the current one ended.
struct WalkState {
  const CLI::App* command = nullptr;
  size_t positionals_seen = 0;  // values given to positionals of `command`
  bool after_dashdash = false;
  const CLI::Option* pending = nullptr;  // the current word is this option's value
  std::string store_root;                // --root/--storage if given
};

bool is_flag_word(const std::string& word) {
  return word.size() > 1 && word[0] == '-';
}

// The option named `name` ("--x" or "-x") on `command` or an enclosing one.
const CLI::Option* find_option(const CLI::App* command, const std::string& name) {
  for (const CLI::App* at = command; at; at = at->get_parent()) {
    for (const CLI::Option* option : at->get_options()) {
      if (!option->nonpositional()) continue;
      bool match = name.rfind("--", 0) == 0 ? option->check_lname(name.substr(2))
                                            : name.size() == 2 && option->check_sname(name.substr(1));
      if (match) return option;
    }
  }
  return nullptr;
}

const CLI::App* find_subcommand(const CLI::App* command, const std::string& word) {
  for (const CLI::App* sub : command->get_subcommands([](const CLI::App*) { return true; }))
    if (sub->check_name(word)) return sub;
  return nullptr;
}

void note_root(WalkState& state, const CLI::Option* option, const std::string& value) {
  if (option->check_lname("root")) state.store_root = value;
}

// Handles the flag word words[i]. When it takes a value and is the last
// word before the current one, the current word is that value (pending).
// Returns how many following words it consumed (0 or 1).
size_t walk_flag(WalkState& state, const std::vector<std::string>& words, size_t i) {
  const std::string& word = words[i];
  bool has_next = i + 1 < words.size();
  if (word.rfind("--", 0) == 0) {
    size_t eq = word.find('=');
    const CLI::Option* option = find_option(state.command, word.substr(0, eq));
    if (!option || !takes_value(option)) return 0;
    if (eq != std::string::npos) {
      note_root(state, option, word.substr(eq + 1));
      return 0;
    }
    if (!has_next) state.pending = option;
    if (has_next) note_root(state, option, words[i + 1]);
    return has_next ? 1 : 0;
  }
  // Short flags may be bundled (-af); one that takes a value ends the bundle
  // and takes the rest of the word, or the next word.
  for (size_t k = 1; k < word.size(); ++k) {
    const CLI::Option* option = find_option(state.command, std::string("-") + word[k]);
    if (!option || !takes_value(option)) continue;
    if (k + 1 < word.size()) return 0;
    if (!has_next) state.pending = option;
    return has_next ? 1 : 0;
  }
  return 0;
}

WalkState walk(const Cli& cli, const std::vector<std::string>& words) {
  WalkState state;
  state.command = &cli.app;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    state.pending = nullptr;
    if (!state.after_dashdash && word == "--") {
      state.after_dashdash = true;
    } else if (!state.after_dashdash && is_flag_word(word)) {
      i += walk_flag(state, words, i);
    } else if (const CLI::App* sub = state.positionals_seen == 0 && !state.after_dashdash
                                         ? find_subcommand(state.command, word)
                                         : nullptr) {
      state.command = sub;
    } else {
      ++state.positionals_seen;
      // A prefix command (`ctr unshare CMD ARGS...`) stops parsing at its first positional.
      if (state.command->get_prefix_command()) state.after_dashdash = true;
    }
  }
  return state;
}

// The positional that the next value goes to, or nullptr when all are full.
const CLI::Option* next_positional(const CLI::App* command, size_t seen) {
  for (const CLI::Option* option : command->get_options()) {
    if (!option->get_positional() || option->nonpositional()) continue;
    size_t takes = static_cast<size_t>(option->get_items_expected_max());
    if (seen < takes) return option;
    seen -= takes;
  }
  return nullptr;
}

Completion flag_names(const WalkState& state, const std::string& current) {
  Completion out;
  bool long_only = current.rfind("--", 0) == 0;
  for (const CLI::App* at = state.command; at; at = at->get_parent()) {
    for (const CLI::Option* option : at->get_options()) {
      if (!option->nonpositional() || option->get_group().empty()) continue;
      std::vector<std::string> names;
      for (const auto& name : option->get_lnames()) names.push_back("--" + name);
      if (!long_only)
        for (const auto& name : option->get_snames()) names.push_back("-" + name);
      for (const auto& name : names)
        if (name.rfind(current, 0) == 0) out.candidates.push_back({name, option->get_description()});
    }
  }
  return out;
}

Completion value_completion(const CompleterSpec* spec, const std::string& prefix, const std::string& current,
                            const std::string& store_root, const ValueLister& values) {
  Completion out;
  Completer kind = spec ? spec->kind : Completer::none;
  switch (kind) {
    case Completer::files:
      out.directive = 0;
      return out;
    case Completer::directories:
      out.directive = kDirectiveFilterDirs;
      return out;
    case Completer::commands:
      out.directive = kDirectiveCommands;
      return out;
    case Completer::none:
      return out;
    default:
      break;
  }
  for (auto& candidate : values(*spec, store_root)) {
    candidate.value = prefix + candidate.value;
    if (candidate.value.rfind(current, 0) == 0) out.candidates.push_back(std::move(candidate));
  }
  return out;
}

Completion subcommand_names(const CLI::App* command, const std::string& current) {
  Completion out;
  for (const CLI::App* sub : visible_subcommands(*command)) {
    std::vector<std::string> names{sub->get_name()};
    for (const auto& alias : sub->get_aliases()) names.push_back(alias);
    for (const auto& name : names)
      if (name.rfind(current, 0) == 0) out.candidates.push_back({name, sub->get_description()});
  }
  return out;
}

}  // namespace

Completion complete_words(const Cli& cli, const std::vector<std::string>& args, const ValueLister& values) {
  std::vector<std::string> words = args;
  std::string current;
  if (!words.empty()) {
    current = words.back();
    words.pop_back();
  }
  WalkState state = walk(cli, words);
  std::string root = state.store_root.empty() ? image::Store::default_root() : state.store_root;
  if (state.pending) return value_completion(cli.completers.find(state.pending), "", current, root, values);
  if (!state.after_dashdash && current.rfind("--", 0) == 0 && current.find('=') != std::string::npos) {
    size_t eq = current.find('=');
    const CLI::Option* option = find_option(state.command, current.substr(0, eq));
    if (!option || !takes_value(option)) return Completion{};
    return value_completion(cli.completers.find(option), current.substr(0, eq + 1), current, root, values);
  }
  if (!state.after_dashdash && !current.empty() && current[0] == '-') return flag_names(state, current);
  if (state.positionals_seen == 0 && !state.after_dashdash) {
    Completion subs = subcommand_names(state.command, current);
    if (!subs.candidates.empty() || state.command->get_require_subcommand_min() > 0) return subs;
  }
  const CLI::Option* positional = next_positional(state.command, state.positionals_seen);
  // `ctr unshare CMD ARGS...`: what follows the command is its own: file names.
  if (!positional && state.command->get_prefix_command()) return Completion{{}, 0};
  if (!positional) return Completion{};
  return value_completion(cli.completers.find(positional), "", current, root, values);
}

void print_completion(std::ostream& out, const Completion& completion) {
  for (const auto& candidate : completion.candidates) {
    out << candidate.value;
    // One line per candidate: a description never carries a newline or TAB.
    std::string description = candidate.description.substr(0, candidate.description.find('\n'));
    for (char& c : description)
      if (c == '\t') c = ' ';
    if (!description.empty()) out << '\t' << description;
    out << '\n';
  }
  out << ':' << completion.directive << '\n';
}

}  // namespace ctr::cmd
