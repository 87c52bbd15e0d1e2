// Signal names for `kill`, and the set a foreground run/exec forwards.
#pragma once

#include <signal.h>

#include <optional>
#include <string_view>

#include "runtime/base/result.h"

namespace ctr::cli {

// "9", "KILL", "SIGKILL", "sigkill", "SIGRTMIN+3", "RTMAX-1" -> number.
// Numbers are accepted from 1 to SIGRTMAX; RTMIN/RTMAX are glibc's values
// (what systemd in a container means by SIGRTMIN+3).
std::optional<int> parse_signal(std::string_view text);
// The same, with an error naming the text.
Result<int> parse_signal_or_error(std::string_view text);

// Every signal a foreground `run`/`exec` passes on to the container: all
// catchable ones except SIGCHLD (ours, about our children) and, when a pty
// is relayed, SIGWINCH (the relay turns it into a window size change).
sigset_t forwarded_signals(bool relaying_pty);

}  // namespace ctr::cli
