// `ctr ps --filter KEY=VALUE`, podman's semantics: values of one key are
// alternatives (OR), different keys must all hold (AND). Keys: status,
// name (a regular expression, unanchored, as Go's regexp.MatchString),
// label (KEY or KEY=VALUE), ancestor (image ID, or the image's name, with
// ":latest" optional), id (ID prefix), exited (exit code of an exited
// container). Anything else is an error naming the filter.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cmd/container_record.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

class PsFilter {
 public:
  static Result<PsFilter> parse(const std::vector<std::string>& specs);
  bool empty() const { return values_.empty(); }
  // podman shows containers in every state when filtering by status.
  bool has(const std::string& key) const { return values_.count(key) > 0; }

  // What one container looks like to the filter.
  struct Subject {
    const ContainerRecord* record = nullptr;
    std::string state;       // created, running, exited
    int exit_code = -1;      // with exited
    std::string image_name;  // the image's resolved name ("localhost/busybox:latest"), or as given
  };
  bool matches(const Subject& subject) const;

 private:
  bool key_matches(const std::string& key, const std::string& value, const Subject& subject) const;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::regex> names_;  // compiled name= values
};

}  // namespace ctr::cmd
