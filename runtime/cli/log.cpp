#include "runtime/cli/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/state.h"

namespace ctr::cli {

namespace {

struct LogConfig {
  std::string path;
  LogFormat format = LogFormat::text;
  bool debug = false;
  int fd = -1;  // opened on first use: most runs log nothing
};

LogConfig& config() {
  static LogConfig instance;
  return instance;
}

// logrus's text formatter quotes values the way Go's %q does.
std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

// Appends one line with a single write(2): O_APPEND keeps concurrent
// writers' lines whole.
void append_to_file(const std::string& line) {
  auto& cfg = config();
  if (cfg.path.empty()) return;
  if (cfg.fd < 0) cfg.fd = ::open(cfg.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (cfg.fd < 0) return;  // nowhere else to report it: stderr has the message already
  (void)write_all(cfg.fd, line + "\n");
}

void emit(std::string_view level, std::string_view message, bool to_stderr) {
  auto& cfg = config();
  if (to_stderr) {
    std::string line = "ctr-runtime: ";
    if (level == "warning") line += "warning: ";
    line += message;
    line += '\n';
    (void)write_all(STDERR_FILENO, line);
  }
  if (!cfg.path.empty()) append_to_file(format_log_line(cfg.format, level, message, now_rfc3339_nano()));
}

}  // namespace

void configure_log(const GlobalOptions& global) {
  auto& cfg = config();
  cfg.path = global.log_path;
  cfg.format = global.log_format;
  cfg.debug = global.debug;
}

bool debug_enabled() { return config().debug; }

void log_error(std::string_view message) { emit("error", message, true); }
void log_warning(std::string_view message) { emit("warning", message, true); }

void log_debug(std::string_view message) {
  auto& cfg = config();
  if (!cfg.debug) return;
  // Without --log, runc --debug prints debug lines on stderr.
  if (cfg.path.empty()) {
    (void)write_all(STDERR_FILENO, format_log_line(cfg.format, "debug", message, now_rfc3339_nano()) + "\n");
    return;
  }
  append_to_file(format_log_line(cfg.format, "debug", message, now_rfc3339_nano()));
}

std::string format_log_line(LogFormat format, std::string_view level, std::string_view message,
                            std::string_view time) {
  if (format == LogFormat::json) {
    nlohmann::ordered_json j;
    j["level"] = level;
    j["msg"] = message;
    j["time"] = time;
    // A message may quote bytes from the container that are not UTF-8.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return "time=" + quote(time) + " level=" + std::string(level) + " msg=" + quote(message);
}

}  // namespace ctr::cli
