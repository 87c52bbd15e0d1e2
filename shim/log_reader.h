// Reading the shim's log files back (for `ctr logs`): k8s-file and json-file
// records, rotated files included, and a follower for `logs -f`.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/options.h"

namespace ctr::shim {

struct LogEntry {
  std::string time;      // RFC3339Nano as written
  std::string stream;    // "stdout" or "stderr"
  std::string text;      // without the newline
  bool partial = false;  // the line continues in the next entry (no newline here)
};

// One record of a log file; an error names what is wrong with it.
Result<LogEntry> parse_log_line(LogDriver driver, std::string_view line);
// Every entry of FILE.N ... FILE.1, FILE (oldest first). Malformed lines are
// skipped and counted in `malformed` when given.
Result<std::vector<LogEntry>> read_log(LogDriver driver, const std::string& path, size_t* malformed = nullptr);
// Joins partial entries: one string per logical line, with "\n" where the
// line ended (so the container's bytes come back exactly).
std::string log_text(const std::vector<LogEntry>& entries, const std::string& stream = "");

// Follows FILE as the shim appends (and rotates) it.
class LogFollower {
 public:
  static Result<LogFollower> open(LogDriver driver, const std::string& path);
  // Complete records appended since the last call (the first call returns
  // the whole current file). After a rotation the rest of the old file is
  // returned, then the new file from its start.
  Result<std::vector<LogEntry>> read_new();
  // Blocks until the file (or its directory) changes or `timeout` passes.
  Status wait(std::chrono::milliseconds timeout);

 private:
  LogFollower() = default;
  Status reopen_if_rotated(std::vector<LogEntry>& out);
  void take_lines(std::vector<LogEntry>& out);
  LogDriver driver_ = LogDriver::k8s_file;
  std::string path_;
  UniqueFd fd_;
  UniqueFd inotify_;
  ino_t inode_ = 0;
  std::string pending_;
};

}  // namespace ctr::shim
