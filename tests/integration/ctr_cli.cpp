#include "tests/integration/ctr_cli.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "runtime/base/child_process.h"
#include "runtime/base/unique_fd.h"

namespace ctr::itest {

std::string read_memfd(int fd) {
  std::string data;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
  return data;
}

std::string CommandOutput::describe() const {
  return "exit " + std::to_string(code) + "\nstdout: " + out + "\nstderr: " + err;
}

CommandOutput run_command(const std::vector<std::string>& argv, std::optional<std::string> input, int timeout_s,
                          const std::vector<std::string>& env) {
  CommandOutput result;
  // memfds, not pipes: no reader thread, and a chatty child cannot block.
  UniqueFd out(::memfd_create("out", MFD_CLOEXEC)), err(::memfd_create("err", MFD_CLOEXEC));
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  SpawnOptions options;
  options.stdout_fd = out.get();
  options.stderr_fd = err.get();
  if (input) {
    options.stdin_data = std::move(input);
  } else {
    options.stdin_fd = null_in.get();
  }
  if (!env.empty()) {
    // getenv() takes the first match: the overrides go in front.
    options.env = env;
    for (char** e = environ; *e; ++e) options.env.emplace_back(*e);
  }
  auto status = run_process(argv, options, std::chrono::seconds(timeout_s));
  if (!status) {
    result.err = status.error().message;
    return result;
  }
  result.code = status->shell_code();
  result.out = read_memfd(out.get());
  result.err = read_memfd(err.get());
  return result;
}

CommandOutput run_shell(const std::string& script, int timeout_s) {
  return run_command({"/bin/sh", "-c", script}, std::nullopt, timeout_s);
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ctr_binary() {
  const char* bin = std::getenv("CTR_BIN");
  if (bin && *bin) return bin;
#ifdef CTR_BUILD_DIR
  return std::string(CTR_BUILD_DIR) + "/cmd/ctr";
#else
  return "/work/main/build/cmd/ctr";
#endif
}

bool have_tool(const std::string& tool) {
  return run_shell("command -v " + shell_quote(tool) + " >/dev/null").code == 0;
}

}  // namespace ctr::itest
