#include "cmd/output.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace ctr::cmd {
namespace {

// `\t` and `\n` typed literally (a shell passes them through) mean tab and newline.
std::string unescape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
      out += text[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string trim_copy(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// ".Field.Sub" -> {"Field", "Sub"}; "." -> {}.
Result<std::vector<std::string>> parse_path(const std::string& source, const std::string& word) {
  if (word.empty() || word[0] != '.')
    return make_error("template `" + source + "`: `" + word + "` is not a field (fields start with `.`, e.g. {{.ID}})");
  std::vector<std::string> path;
  if (word == ".") return path;
  size_t pos = 1;
  while (pos <= word.size()) {
    size_t next = word.find('.', pos);
    std::string part = word.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (part.empty() ||
        !std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; }))
      return make_error("template `" + source + "`: bad field `" + word + "`");
    path.push_back(part);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return path;
}

// A top-level field that does not exist is an error (a typo in --format, as
// podman reports for its struct fields); a missing key further down (say
// .Config.Cmd of an image without a Cmd) prints "<no value>" like a Go map.
Result<const Json*> lookup(const std::string& source, const Json& value, const std::vector<std::string>& path) {
  static const Json no_value = nullptr;
  const Json* current = &value;
  for (size_t depth = 0; depth < path.size(); ++depth) {
    const std::string& part = path[depth];
    if (current->is_object() && current->contains(part)) {
      current = &(*current)[part];
    } else if (depth > 0 && (current->is_object() || current->is_null())) {
      return &no_value;
    } else {
      return make_error("template `" + source + "`: can't evaluate field " + part);
    }
  }
  return current;
}

std::vector<std::string> split_keep_empty(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

std::string upper_header(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    // "CreatedAt" -> "CREATED AT", "ID" stays "ID".
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) && std::islower(static_cast<unsigned char>(field[i - 1])))
      out += ' ';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

Result<Template> Template::parse(const std::string& text) {
  Template tpl;
  tpl.source_ = text;
  std::string body = text;
  if (body.rfind("table", 0) == 0 && (body.size() == 5 || body[5] == ' ' || body[5] == '\t')) {
    tpl.table_ = true;
    body = trim_copy(body.substr(5));
  }
  body = unescape(body);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t open = body.find("{{", pos);
    if (open == std::string::npos) {
      tpl.pieces_.push_back({Piece::Kind::text, body.substr(pos), {}});
      break;
    }
    if (open > pos) tpl.pieces_.push_back({Piece::Kind::text, body.substr(pos, open - pos), {}});
    size_t close = body.find("}}", open + 2);
    if (close == std::string::npos) return make_error("template `" + text + "`: unclosed action (missing `}}`)");
    std::string action = trim_copy(body.substr(open + 2, close - open - 2));
    if (action.empty()) return make_error("template `" + text + "`: empty action {{}}");
    std::vector<std::string> words;
    for (size_t i = 0; i < action.size();) {
      size_t end = action.find_first_of(" \t", i);
      if (end == std::string::npos) end = action.size();
      if (end > i) words.push_back(action.substr(i, end - i));
      i = end + 1;
    }
    Piece piece;
    piece.text = "{{" + action + "}}";
    if (words.size() == 1) {
      piece.kind = Piece::Kind::field;
      TRY_ASSIGN(path, parse_path(text, words[0]));
      piece.path = std::move(path);
    } else if (words.size() == 2 && words[0] == "json") {
      piece.kind = Piece::Kind::json;
      TRY_ASSIGN(path, parse_path(text, words[1]));
      piece.path = std::move(path);
    } else {
      return make_error("template `" + text + "`: unsupported action `" + piece.text +
                        "` (supported: {{.Field}}, {{.Field.Sub}}, {{json .}}, {{json .Field}})");
    }
    tpl.pieces_.push_back(std::move(piece));
    pos = close + 2;
  }
  return tpl;
}

Result<std::string> Template::render(const Json& value) const {
  std::string out;
  for (const auto& piece : pieces_) {
    if (piece.kind == Piece::Kind::text) {
      out += piece.text;
      continue;
    }
    TRY_ASSIGN(found, lookup(source_, value, piece.path));
    out += piece.kind == Piece::Kind::json ? found->dump() : go_print(*found);
  }
  return out;
}

std::string Template::header(const std::map<std::string, std::string>& headers) const {
  std::string out;
  for (const auto& piece : pieces_) {
    if (piece.kind == Piece::Kind::text) {
      out += piece.text;
    } else if (piece.path.empty()) {
      out += ".";
    } else {
      const std::string& field = piece.path.back();
      auto it = headers.find(field);
      out += it != headers.end() ? it->second : upper_header(field);
    }
  }
  return out;
}

Result<std::optional<Template>> parse_inspect_format(const std::string& format) {
  if (format.empty() || format == "json") return std::optional<Template>();
  TRY_ASSIGN(parsed, Template::parse(format));
  return std::optional<Template>(std::move(parsed));
}

Result<std::string> render_rows(const std::string& format, const std::vector<Json>& rows,
                                const std::vector<Column>& columns) {
  std::string spec = trim_copy(format);
  if (spec == "json") {
    Json array = Json::array();
    for (const auto& row : rows) array.push_back(row);
    return array.dump(4) + "\n";
  }
  if (spec.empty() || spec == "table") {
    spec = "table ";
    for (size_t i = 0; i < columns.size(); ++i) spec += (i ? "\t{{." : "{{.") + columns[i].field + "}}";
  }
  TRY_ASSIGN(tpl, Template::parse(spec));
  std::map<std::string, std::string> headers;
  for (const auto& column : columns) headers[column.field] = column.header;
  std::string text;
  if (tpl.is_table()) text += tpl.header(headers) + "\n";
  for (const auto& row : rows) {
    TRY_ASSIGN(line, tpl.render(row));
    text += line + "\n";
  }
  return align_columns(text);
}

std::string align_columns(const std::string& text, size_t min_width, size_t padding) {
  if (text.empty()) return text;
  bool trailing_newline = text.back() == '\n';
  std::vector<std::vector<std::string>> lines;
  for (const auto& line : split_keep_empty(trailing_newline ? text.substr(0, text.size() - 1) : text, '\n'))
    lines.push_back(split_keep_empty(line, '\t'));
  // A column's width counts only cells followed by a tab (as tabwriter:
  // the last cell of a line is not part of a column).
  std::vector<size_t> widths;
  for (const auto& cells : lines) {
    for (size_t i = 0; i + 1 < cells.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], std::max(min_width, cells[i].size() + padding));
    }
  }
  std::string out;
  for (size_t l = 0; l < lines.size(); ++l) {
    const auto& cells = lines[l];
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out.append(widths[i] - cells[i].size(), ' ');
    }
    if (l + 1 < lines.size() || trailing_newline) out += '\n';
  }
  return out;
}

std::string go_print(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "<no value>";
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) out += (i ? " " : "") + go_print(value[i]);
    return out + "]";
  }
  if (value.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      out += (first ? "" : " ") + it.key() + ":" + go_print(it.value());
      first = false;
    }
    return out + "]";
  }
  return value.dump();
}

std::string human_size(uint64_t bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000.0 && unit + 1 < std::size(units)) {
    size /= 1000.0;
    ++unit;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.3g %s", size, units[unit]);
  return buffer;
}

std::string human_duration(int64_t seconds) {
  auto plural = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s"); };
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return plural(seconds, "second");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return plural(minutes, "minute");
  int64_t hours = (seconds + 1800) / 3600;  // go-units rounds hours
  if (hours == 1) return "About an hour";
  if (hours < 48) return plural(hours, "hour");
  int64_t real_hours = seconds / 3600;
  if (real_hours < 24 * 7 * 2) return plural(real_hours / 24, "day");
  if (real_hours < 24 * 30 * 2) return plural(real_hours / 24 / 7, "week");
  if (real_hours < 24 * 365 * 2) return plural(real_hours / 24 / 30, "month");
  return plural(real_hours / 24 / 365, "year");
}

std::string human_age(int64_t created_unix, int64_t now_unix) {
  if (created_unix <= 0) return "N/A";
  return human_duration(now_unix - created_unix) + " ago";
}

std::string rfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm_utc {};
  gmtime_r(&t, &tm_utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buffer;
}

std::string go_rfc3339_nano(int64_t unix_nanoseconds) {
  if (unix_nanoseconds == 0) return "0001-01-01T00:00:00Z";
  int64_t seconds = unix_nanoseconds / 1000000000, nanos = unix_nanoseconds % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  std::string text = rfc3339(seconds);
  if (nanos == 0) return text;
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%09lld", static_cast<long long>(nanos));
  std::string digits = fraction;
  while (digits.back() == '0') digits.pop_back();
  return text.substr(0, text.size() - 1) + digits + "Z";
}

namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Digits after a '.' as nanoseconds (more than 9 are cut).
int64_t fraction_ns(const std::string& digits) {
  std::string nine = digits.substr(0, 9);
  nine.append(9 - nine.size(), '0');
  return std::stoll(nine);
}

}  // namespace

Result<int64_t> parse_rfc3339_ns(const std::string& text) {
  auto bad = [&]() -> Result<int64_t> {
    return make_error("`" + text + "` is not an RFC 3339 time (e.g. 2024-01-02T03:04:05Z)", EINVAL);
  };
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return bad();
  std::string year = text.substr(0, 4), month = text.substr(5, 2), day = text.substr(8, 2);
  if (!all_digits(year) || !all_digits(month) || !all_digits(day)) return bad();
  struct tm tm {};
  tm.tm_year = std::stoi(year) - 1900;
  tm.tm_mon = std::stoi(month) - 1;
  tm.tm_mday = std::stoi(day);
  size_t pos = 10;
  int64_t nanos = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    if (text.size() < pos + 9 || text[pos + 3] != ':' || text[pos + 6] != ':') return bad();
    std::string h = text.substr(pos + 1, 2), m = text.substr(pos + 4, 2), sec = text.substr(pos + 7, 2);
    if (!all_digits(h) || !all_digits(m) || !all_digits(sec)) return bad();
    tm.tm_hour = std::stoi(h);
    tm.tm_min = std::stoi(m);
    tm.tm_sec = std::stoi(sec);
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      size_t end = pos + 1;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      if (end == pos + 1) return bad();
      nanos = fraction_ns(text.substr(pos + 1, end - pos - 1));
      pos = end;
    }
  }
  int64_t offset = 0;
  if (pos < text.size()) {
    std::string zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
               all_digits(zone.substr(1, 2)) && all_digits(zone.substr(4, 2))) {
      offset = (std::stoll(zone.substr(1, 2)) * 3600 + std::stoll(zone.substr(4, 2)) * 60) * (zone[0] == '-' ? -1 : 1);
    } else {
      return bad();
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return bad();
  int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  return seconds * 1000000000 + nanos;
}

Result<int64_t> parse_go_duration(const std::string& text) {
  auto bad = [&]() -> Result<int64_t> {
    return make_error("`" + text + "` is not a duration (e.g. 10m, 1h30m, 2.5s)", EINVAL);
  };
  static const std::vector<std::pair<std::string, double>> units = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  std::string rest = text;
  double sign = 1;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    if (rest[0] == '-') sign = -1;
    rest = rest.substr(1);
  }
  if (rest == "0") return int64_t{0};
  if (rest.empty()) return bad();
  double total = 0;
  while (!rest.empty()) {
    size_t end = 0;
    while (end < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[end])) || rest[end] == '.')) ++end;
    if (end == 0) return bad();
    double number = 0;
    try {
      number = std::stod(rest.substr(0, end));
    } catch (const std::exception&) {
      return bad();
    }
    rest = rest.substr(end);
    const std::pair<std::string, double>* unit = nullptr;
    for (const auto& candidate : units)  // longest match first: "ms" before "m"
      if (rest.rfind(candidate.first, 0) == 0 && (!unit || candidate.first.size() > unit->first.size()))
        unit = &candidate;
    if (!unit) return bad();
    total += number * unit->second;
    rest = rest.substr(unit->first.size());
  }
  return static_cast<int64_t>(sign * total);
}

Result<int64_t> parse_input_time(const std::string& text, bool since, int64_t now_ns) {
  if (auto when = parse_rfc3339_ns(text); when) return *when;
  // Unix seconds, optionally with a fraction.
  auto dot = text.find('.');
  std::string whole = text.substr(0, dot);
  if (all_digits(whole) && (dot == std::string::npos || all_digits(text.substr(dot + 1)))) {
    int64_t ns = std::stoll(whole) * 1000000000;
    if (dot != std::string::npos) ns += fraction_ns(text.substr(dot + 1));
    return ns;
  }
  if (auto duration = parse_go_duration(text); duration) return since ? now_ns - *duration : now_ns + *duration;
  return make_error("`" + text + "` is not a time: use RFC 3339 (2024-01-02T03:04:05Z), unix seconds, or a duration "
                    "such as 10m",
                    EINVAL);
}

}  // namespace ctr::cmd
