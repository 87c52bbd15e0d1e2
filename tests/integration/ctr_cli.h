// Running `ctr` and other tools from integration tests: a command's exit
// status and output, a fresh store per test, shell quoting. Shared by the
// tests that drive the CLI.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ctr::itest {

struct CommandOutput {
  int code = -1;  // shell-style: 128+N for a signal, -1 if it could not run
  std::string out, err;
  std::string describe() const;
};

// Runs argv with stdin from `input` (or /dev/null), capturing both streams;
// `env` ("NAME=value") overrides the test's own environment.
CommandOutput run_command(const std::vector<std::string>& argv, std::optional<std::string> input = std::nullopt,
                          int timeout_s = 120, const std::vector<std::string>& env = {});
CommandOutput run_shell(const std::string& script, int timeout_s = 120);
// 'text' for /bin/sh.
std::string shell_quote(const std::string& text);
// All of a memfd's content, read from offset 0 (a child's captured output).
std::string read_memfd(int fd);
// $CTR_BIN, else the build's cmd/ctr.
std::string ctr_binary();
bool have_tool(const std::string& tool);

}  // namespace ctr::itest
