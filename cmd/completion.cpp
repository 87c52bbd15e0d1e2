// `ctr completion bash|zsh|fish` and the hidden commands behind it:
// `ctr __complete WORDS... CURRENT` (complete.cpp) and `ctr __man DIR`
// (man.cpp, run by the build to make the man pages).
#include <exception>
#include <iostream>
#include <memory>

#include "cmd/complete.h"

namespace ctr::cmd {

void add_completion(Cli& cli, CLI::App& parent) {
  auto shell = std::make_shared<std::string>();
  CLI::App* sub = parent.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  cli.value(*sub, "shell", *shell, "The shell: bash, zsh or fish", Completer::fixed, {"bash", "zsh", "fish"})
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cli.on_run(*sub, [shell] {
    std::cout << completion_script(*shell);
    return 0;
  });
}

namespace {

int run_complete(Cli& cli, const std::vector<std::string>& args) {
  // Whatever goes wrong, the shell gets a well-formed (empty) answer and no
  // message among its candidates.
  Completion completion;
  try {
    completion = complete_words(cli, args, list_values);
  } catch (const std::exception&) {
    completion = Completion{{}, kDirectiveError | kDirectiveNoFileComp};
  }
  print_completion(std::cout, completion);
  return 0;
}

int run_man(Cli& cli, const std::vector<std::string>& args) {
  if (args.size() != 1) return fail(std::string("usage: ctr __man DIR (writes ctr.1 and ctr-COMMAND.1 into DIR)"));
  if (auto written = write_man_pages(cli.app, args.front()); !written) return fail(written.error());
  return 0;
}

}  // namespace

bool run_hidden_command(Cli& cli, int argc, char** argv, int& exit_code) {
  if (argc < 2) return false;
  std::string name = argv[1];
  if (name != "__complete" && name != "__man") return false;
  std::vector<std::string> args(argv + 2, argv + argc);
  exit_code = name == "__complete" ? run_complete(cli, args) : run_man(cli, args);
  return true;
}

}  // namespace ctr::cmd
