// Shell completion, generated from the CLI11 tree (DESIGN.md section 5).
//
// The shell scripts printed by `ctr completion bash|zsh|fish` are thin: they
// call the hidden `ctr __complete WORDS... CURRENT` (cobra's protocol, as
// podman uses) and the binary answers, so it stays the single source of
// truth. The answer is one candidate per line, optionally followed by a TAB
// and a description, then a last line `:DIRECTIVE` (a bit set, below).
// Directive 0 with no candidates means "let the shell complete file names".
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cmd/app.h"

namespace ctr::cmd {

// Bit values as cobra's ShellCompDirective, so the scripts read like its
// scripts; `kCompleteCommands` is ours (an executable from $PATH).
inline constexpr int kDirectiveError = 1;
inline constexpr int kDirectiveNoSpace = 2;
inline constexpr int kDirectiveNoFileComp = 4;
inline constexpr int kDirectiveFilterDirs = 16;
inline constexpr int kDirectiveCommands = 64;

struct Candidate {
  std::string value;
  std::string description;
  bool operator==(const Candidate&) const = default;
};

struct Completion {
  std::vector<Candidate> candidates;
  int directive = kDirectiveNoFileComp;
};

// The values a completer kind stands for (images, containers, signals...).
// `store_root` is the --root given on the command line, or the default.
using ValueLister = std::function<std::vector<Candidate>(const CompleterSpec& spec, const std::string& store_root)>;
// The real one (complete_values.cpp): reads the store without locking it
// and never creates it; any failure means "no candidates".
std::vector<Candidate> list_values(const CompleterSpec& spec, const std::string& store_root);

// `args` are the words after `ctr`; the last one is the word being completed
// ("" after a space). Only what `current` can become is returned.
Completion complete_words(const Cli& cli, const std::vector<std::string>& args, const ValueLister& values);
// The protocol text: candidates, then ":DIRECTIVE".
void print_completion(std::ostream& out, const Completion& completion);

// `ctr completion SHELL` (visible) and its scripts.
void add_completion(Cli& cli, CLI::App& parent);
// The script for "bash", "zsh" or "fish"; "" for any other name.
std::string completion_script(const std::string& shell);

// Hidden commands handled before CLI11 parses anything (their arguments are
// other commands' words, which the parser must not see): `__complete` and
// `__man DIR`. Returns true and sets `exit_code` when argv names one.
bool run_hidden_command(Cli& cli, int argc, char** argv, int& exit_code);

// Man pages: ctr(1) and ctr-<command path>(1) for every visible command.
Status write_man_pages(const CLI::App& app, const std::string& dir);
std::string man_page(const CLI::App& command);

// Adds an "Examples:" footer to every command's --help from one table
// (help_examples.cpp); the man pages reuse it.
void add_help_examples(CLI::App& app);
// The examples for a command path such as "image ls" ("" when none).
std::string help_examples(const std::string& command_path);
// "ctr image ls" for the `ls` under `image`.
std::string full_command_path(const CLI::App& command);
// Visible (not hidden) subcommands, in definition order.
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app);

}  // namespace ctr::cmd
