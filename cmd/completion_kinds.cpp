#include "cmd/completion_kinds.h"

namespace ctr::cmd {

const char* completer_name(Completer kind) {
  switch (kind) {
    case Completer::none:
      return "none";
    case Completer::files:
      return "files";
    case Completer::directories:
      return "directories";
    case Completer::images:
      return "images";
    case Completer::containers:
      return "containers";
    case Completer::running_containers:
      return "running_containers";
    case Completer::signals:
      return "signals";
    case Completer::formats:
      return "formats";
    case Completer::log_drivers:
      return "log_drivers";
    case Completer::fixed:
      return "fixed";
    case Completer::commands:
      return "commands";
    case Completer::volumes:
      return "volumes";
  }
  return "unknown";
}

}  // namespace ctr::cmd
