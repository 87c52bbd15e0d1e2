// Parsing of the shim's records, for clients (kept apart from records.cpp so
// the shim binary links no JSON parser).
#include <nlohmann/json.hpp>

#include "shim/records.h"

namespace ctr::shim {

namespace {

Result<nlohmann::json> parse_object(std::string_view text, const char* what) {
  try {
    auto value = nlohmann::json::parse(text);
    if (!value.is_object()) return make_error(std::string(what) + " is not a JSON object", EINVAL);
    return value;
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("malformed ") + what + ": " + e.what(), EINVAL);
  }
}

}  // namespace

Result<ExitRecord> parse_exit_record(std::string_view text) {
  TRY_ASSIGN(value, parse_object(text, "exit record"));
  ExitRecord record;
  try {
    record.exit_code = value.at("exit_code").get<int>();
    if (value.contains("signal") && !value["signal"].is_null()) record.signal = value["signal"].get<int>();
    record.finished_at = value.value("finished_at", std::string());
    record.oom_killed = value.value("oom_killed", false);
    record.timed_out = value.value("timed_out", false);
    record.dropped_log_bytes = value.value("dropped_log_bytes", uint64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("malformed exit record: ") + e.what(), EINVAL);
  }
  return record;
}

Result<SyncReport> parse_sync_report(std::string_view line) {
  TRY_ASSIGN(value, parse_object(line, "shim sync report"));
  SyncReport report;
  try {
    if (value.contains("pid")) {
      report.pid = value["pid"].get<pid_t>();
      if (report.pid <= 0) return make_error("shim sync report has an invalid pid", EINVAL);
      return report;
    }
    report.error = value.at("error").get<std::string>();
    report.exit_code = value.value("exit_code", 125);
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("malformed shim sync report: ") + e.what(), EINVAL);
  }
  return report;
}

}  // namespace ctr::shim
