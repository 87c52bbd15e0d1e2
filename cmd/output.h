// Output the podman way: `--format json`, `--format table` (aligned columns
// with a header), and a subset of Go templates: `{{.Field}}`,
// `{{.Field.Sub}}`, `{{json .}}`, `{{json .Field}}`, and a `table ` prefix
// that adds a header line. `\t` and `\n` typed literally in a template mean
// tab and newline, as in podman. Rows are JSON objects whose keys are the
// template field names (ID, Repository, ...).
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

using Json = nlohmann::ordered_json;

struct Column {
  std::string field;   // key in the row object
  std::string header;  // "IMAGE ID"
};

// A compiled template. Errors name the template text and what is wrong.
class Template {
 public:
  static Result<Template> parse(const std::string& text);
  // Renders one value (a row object, or any JSON for inspect).
  Result<std::string> render(const Json& value) const;
  bool is_table() const { return table_; }
  // The header line for a table template: each {{.Field}} replaced by its
  // header (from `headers`, else the field name upper-cased, like podman).
  std::string header(const std::map<std::string, std::string>& headers) const;

  struct Piece {
    enum class Kind { text, field, json } kind = Kind::text;
    std::string text;               // literal text, or the action as written (for errors)
    std::vector<std::string> path;  // field path; empty = "."
  };

 private:
  std::string source_;
  bool table_ = false;
  std::vector<Piece> pieces_;
};

// An inspect command's --format: "" and "json" print the JSON array (no
// template); anything else is a template, checked before any work is done.
Result<std::optional<Template>> parse_inspect_format(const std::string& format);

// Renders rows for a list command (images, ps...). `format` is "" / "table"
// (default columns), "json", "table TEMPLATE" or "TEMPLATE".
Result<std::string> render_rows(const std::string& format, const std::vector<Json>& rows,
                                const std::vector<Column>& columns);

// Aligns tab-separated cells like Go's tabwriter as podman configures it
// (minwidth 12, padding 2, spaces): every cell but the last of a line is
// padded to its column's width.
std::string align_columns(const std::string& text, size_t min_width = 12, size_t padding = 2);

// Go-template printing of a JSON value: strings raw, arrays "[a b]",
// objects "map[k:v]", null "<no value>".
std::string go_print(const Json& value);

// SI sizes as podman prints them (go-units HumanSizeWithPrecision, 3 digits): "4.87 MB", "999 B", "12.3 kB".
std::string human_size(uint64_t bytes);
// "2 hours ago"-style, as podman (go-units HumanDuration + " ago").
std::string human_duration(int64_t seconds);
std::string human_age(int64_t created_unix, int64_t now_unix = std::time(nullptr));
// RFC 3339 in UTC, as podman's inspect prints times: "2024-01-02T03:04:05Z".
std::string rfc3339(int64_t unix_seconds);
// Go's RFC3339Nano in UTC (trailing zeros of the fraction dropped), as
// podman prints container times: "2024-01-02T03:04:05.1234Z". 0 is Go's
// zero time "0001-01-01T00:00:00Z" (never happened).
std::string go_rfc3339_nano(int64_t unix_nanoseconds);
// "2024-01-02T03:04:05.5+01:00", "2024-01-02T03:04:05Z", "2024-01-02" ->
// nanoseconds since the epoch; an error for anything else.
Result<int64_t> parse_rfc3339_ns(const std::string& text);
// Go's time.ParseDuration: "1h30m", "10m", "1.5s", "300ms" -> nanoseconds.
Result<int64_t> parse_go_duration(const std::string& text);
// podman's --since/--until values (util.ParseInputTime): an RFC 3339 time
// or date, unix seconds ("1700000000.5"), or a Go duration counted back
// from `now_ns` (forward for --until, as podman).
Result<int64_t> parse_input_time(const std::string& text, bool since, int64_t now_ns);

}  // namespace ctr::cmd
