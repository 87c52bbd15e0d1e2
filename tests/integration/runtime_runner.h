// Runs the OCI runtime binary under test with `--root ROOT`, capturing its
// stdout, stderr and exit status, with a timeout so a hung runtime fails the
// test instead of blocking the suite.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/unique_fd.h"

namespace ctr::itest {

struct RunResult {
  int exit_code = -1;  // shell convention: the code, or 128 + signal; -1: not run
  bool timed_out = false;
  std::string out;  // captured stdout (empty when redirected elsewhere)
  std::string err;  // captured stderr (or the reason the runtime could not be spawned)
  double seconds = 0;

  bool ok() const { return exit_code == 0 && !timed_out; }
  std::string all() const { return out + err; }
  // For assertion messages.
  std::string describe() const;
};

struct RunOptions {
  std::optional<std::string> stdin_data;  // else stdin is /dev/null
  std::vector<int> extra_fds;             // become fds 3, 4, ... of the runtime
  // When set, the runtime's (and so the container's) stdout/stderr go here
  // instead of being captured.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Every runtime command here takes well under a second; a hung one must
  // not stall the suite.
  std::chrono::milliseconds timeout{5000};

  // Chainable setters: rt(args, RunOptions().input("x").output(capture.fd())).
  RunOptions& input(std::string data) {
    stdin_data = std::move(data);
    return *this;
  }
  RunOptions& fds(std::vector<int> fds) {
    extra_fds = std::move(fds);
    return *this;
  }
  RunOptions& output(int fd) {  // stdout and stderr
    stdout_fd = stderr_fd = fd;
    return *this;
  }
  RunOptions& within(std::chrono::milliseconds limit) {
    timeout = limit;
    return *this;
  }
};

// An in-memory file (memfd) that collects a process's output; it can be read
// while writers still hold it, e.g. a detached container's stdout.
class Capture {
 public:
  Capture();
  int fd() const { return fd_.get(); }
  std::string read() const;

 private:
  UniqueFd fd_;
};

// A runtime invocation running in the background (e.g. `run` in the
// foreground while the test kills the container from the side).
class RuntimeProcess {
 public:
  RuntimeProcess() = default;
  RuntimeProcess(RuntimeProcess&&) = default;
  RuntimeProcess& operator=(RuntimeProcess&&) = default;
  ~RuntimeProcess();
  bool started() const { return child_.pid() > 0 || !result_.err.empty(); }
  // Waits (up to the invocation's timeout) and returns the outcome.
  RunResult finish();

 private:
  friend class Runtime;
  ChildProcess child_;
  std::optional<Capture> out_, err_;
  std::chrono::milliseconds timeout_{10000};
  std::chrono::steady_clock::time_point started_at_;
  RunResult result_;
  bool finished_ = false;
};

class Runtime {
 public:
  // `env` is added to the runtime's inherited environment.
  Runtime(std::string binary, std::string root, std::vector<std::string> env);
  const std::string& root() const { return root_; }
  const std::string& binary() const { return binary_; }

  // `BINARY --root ROOT args...`, to completion.
  RunResult operator()(const std::vector<std::string>& args, const RunOptions& options = {}) const;
  RuntimeProcess start(const std::vector<std::string>& args, const RunOptions& options = {}) const;

 private:
  std::string binary_;
  std::string root_;
  std::vector<std::string> env_;
};

}  // namespace ctr::itest
