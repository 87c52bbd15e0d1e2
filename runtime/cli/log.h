// ctr-runtime's log: errors and warnings go to stderr and, with --log, are
// appended to the log file too; podman and conmon read that file (in
// --log-format json) to show the runtime's error to the user. --debug adds
// debug lines (to the log file, or stderr without one).
#pragma once

#include <string>
#include <string_view>

#include "runtime/cli/command.h"

namespace ctr::cli {

void configure_log(const GlobalOptions& global);
void log_error(std::string_view message);
void log_warning(std::string_view message);
void log_debug(std::string_view message);
bool debug_enabled();

// One log line, without the trailing newline:
//   json: {"level":"error","msg":"...","time":"2024-05-01T10:20:30.123Z"}
//   text: time="2024-05-01T10:20:30.123Z" level=error msg="..."
std::string format_log_line(LogFormat format, std::string_view level, std::string_view message,
                            std::string_view time);

}  // namespace ctr::cli
