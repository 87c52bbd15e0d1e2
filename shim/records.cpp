#include "shim/records.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::shim {

std::string format_exit_record(const ExitRecord& record) {
  std::string out = "{\"exit_code\":" + std::to_string(record.exit_code) + ",\"signal\":";
  out += record.signal ? std::to_string(record.signal) : "null";
  out += ",\"finished_at\":\"";
  append_json_escaped(out, record.finished_at);
  out += "\",\"oom_killed\":";
  out += record.oom_killed ? "true" : "false";
  out += ",\"timed_out\":";
  out += record.timed_out ? "true" : "false";
  out += ",\"dropped_log_bytes\":" + std::to_string(record.dropped_log_bytes) + "}\n";
  return out;
}

std::string format_identity(const ProcessIdentity& identity) {
  return std::to_string(identity.pid) + " " + std::to_string(identity.start_time) + "\n";
}

Result<ProcessIdentity> parse_identity(std::string_view text) {
  auto fields = split(trim(text), ' ');
  std::optional<uint64_t> pid, start;
  if (fields.size() == 2) {
    pid = parse_u64(fields[0]);
    start = parse_u64(fields[1]);
  }
  if (!pid || !start || *pid == 0 || *pid > INT32_MAX)
    return make_error("malformed pid record \"" + std::string(trim(text)) + "\" (expected \"PID STARTTIME\")", EINVAL);
  return ProcessIdentity{static_cast<pid_t>(*pid), *start};
}

namespace {

// Fields of /proc/PID/stat after the command name (which may hold spaces and
// parentheses, so parse from the last ')'). Index 0 is the state (field 3).
Result<std::vector<std::string>> stat_fields(pid_t pid) {
  TRY_ASSIGN(text, read_file("/proc/" + std::to_string(pid) + "/stat"));
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size())
    return make_error("malformed /proc/" + std::to_string(pid) + "/stat", EINVAL);
  return split(trim(std::string_view(text).substr(close + 2)), ' ');
}

}  // namespace

Result<ProcessIdentity> process_identity(pid_t pid) {
  TRY_ASSIGN(fields, stat_fields(pid));
  // starttime is field 22 of stat, i.e. index 19 after the state (field 3).
  std::optional<uint64_t> start = fields.size() > 19 ? parse_u64(fields[19]) : std::nullopt;
  if (!start) return make_error("no start time in /proc/" + std::to_string(pid) + "/stat", EINVAL);
  return ProcessIdentity{pid, *start};
}

bool identity_alive(const ProcessIdentity& identity) {
  auto fields = stat_fields(identity.pid);
  if (!fields || fields->size() <= 19) return false;
  if ((*fields)[0] == "Z" || (*fields)[0] == "X") return false;
  auto start = parse_u64((*fields)[19]);
  return start && *start == identity.start_time;
}

std::string format_sync_report(const SyncReport& report) {
  if (report.pid > 0) return "{\"pid\":" + std::to_string(report.pid) + "}\n";
  std::string out = "{\"error\":\"";
  append_json_escaped(out, report.error);
  out += "\",\"exit_code\":" + std::to_string(report.exit_code) + "}\n";
  return out;
}

int exit_code_for_runtime_error(std::string_view message) {
  std::string lower(message);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto has = [&](const char* needle) { return lower.find(needle) != std::string::npos; };
  if (has("executable file not found") || has("no such file or directory") || has("not found in $path")) return 127;
  if (has("permission denied") || has("exec format error") || has("is a directory") || has("not executable"))
    return 126;
  return 125;
}

std::string rfc3339_nano(const timespec& when) {
  struct tm parts;
  ::gmtime_r(&when.tv_sec, &parts);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld+00:00", parts.tm_year + 1900, parts.tm_mon + 1,
                parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, when.tv_nsec);
  return text;
}

std::string now_rfc3339_nano() {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return rfc3339_nano(now);
}

void append_json_escaped(std::string& out, std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;  // UTF-8 passes through; invalid bytes too (as docker does)
        }
    }
  }
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

std::optional<std::string> json_string_field(std::string_view line, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\"";
  size_t at = line.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  at += needle.size();
  while (at < line.size() && (line[at] == ' ' || line[at] == ':')) ++at;
  if (at >= line.size() || line[at] != '"') return std::nullopt;
  std::string value;
  for (++at; at < line.size(); ++at) {
    char c = line[at];
    if (c == '"') return value;
    if (c != '\\') {
      value += c;
      continue;
    }
    if (++at >= line.size()) break;
    switch (line[at]) {
      case 'n':
        value += '\n';
        break;
      case 't':
        value += '\t';
        break;
      case 'r':
        value += '\r';
        break;
      case 'b':
        value += '\b';
        break;
      case 'f':
        value += '\f';
        break;
      case 'u': {
        unsigned code = 0;
        for (int i = 1; i <= 4; ++i) {
          int v = at + i < line.size() ? hex_value(line[at + i]) : -1;
          if (v < 0) return std::nullopt;
          code = code * 16 + static_cast<unsigned>(v);
        }
        at += 4;
        append_utf8(value, code);
        break;
      }
      default:
        value += line[at];
    }
  }
  return std::nullopt;  // unterminated string
}

}  // namespace ctr::shim
