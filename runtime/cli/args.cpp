#include "runtime/cli/args.h"

namespace ctr::cli {

namespace {

// Go's strconv.ParseBool, which urfave/cli uses for `--flag=VALUE`.
std::optional<bool> parse_bool(std::string_view text) {
  for (auto t : {"1", "t", "T", "true", "TRUE", "True"})
    if (text == t) return true;
  for (auto f : {"0", "f", "F", "false", "FALSE", "False"})
    if (text == f) return false;
  return std::nullopt;
}

const FlagSpec* find_flag(std::span<const FlagSpec> flags, std::string_view name) {
  for (const auto& f : flags) {
    if (f.name == name) return &f;
    if (name.size() == 1 && f.short_name == name[0]) return &f;
  }
  return nullptr;
}

std::string for_command(const ParseOptions& options) {
  return options.command.empty() ? "" : " for \"" + std::string(options.command) + "\"";
}

// `-dt`: every letter a one-letter boolean flag.
bool add_grouped_booleans(std::string_view letters, std::span<const FlagSpec> flags, ParsedArgs& out) {
  for (char c : letters) {
    const FlagSpec* f = find_flag(flags, std::string_view(&c, 1));
    if (!f || f->kind != FlagKind::boolean) return false;
  }
  for (char c : letters) out.add(find_flag(flags, std::string_view(&c, 1))->name, "true");
  return true;
}

struct Cursor {
  std::span<const std::string> args;
  size_t index = 0;
};

// Parses the flag at cursor.args[cursor.index] (it starts with '-').
Status parse_flag(Cursor& cursor, std::span<const FlagSpec> flags, const ParseOptions& options, ParsedArgs& out) {
  const std::string& token = cursor.args[cursor.index];
  bool single_dash = token[1] != '-';
  std::string_view body = std::string_view(token).substr(single_dash ? 1 : 2);
  size_t eq = body.find('=');
  std::string_view name = body.substr(0, eq);
  std::string_view shown = std::string_view(token).substr(0, token.size() - (body.size() - name.size()));
  const FlagSpec* spec = name.empty() ? nullptr : find_flag(flags, name);
  if (!spec) {
    if (name == "help" || name == "h") {
      out.help = true;
      return {};
    }
    if (single_dash && eq == std::string_view::npos && name.size() > 1 && add_grouped_booleans(name, flags, out))
      return {};
    return make_error("unknown flag " + std::string(shown) + for_command(options), EINVAL);
  }
  if (spec->kind == FlagKind::boolean) {
    if (eq == std::string_view::npos) {
      out.add(spec->name, "true");
      return {};
    }
    auto value = parse_bool(body.substr(eq + 1));
    if (!value)
      return make_error("invalid boolean value \"" + std::string(body.substr(eq + 1)) + "\" for flag " +
                            std::string(shown) + for_command(options),
                        EINVAL);
    out.add(spec->name, *value ? "true" : "false");
    return {};
  }
  if (eq != std::string_view::npos) {
    out.add(spec->name, std::string(body.substr(eq + 1)));
    return {};
  }
  if (cursor.index + 1 >= cursor.args.size())
    return make_error("flag needs an argument: " + std::string(shown) + for_command(options), EINVAL);
  out.add(spec->name, cursor.args[++cursor.index]);
  return {};
}

}  // namespace

bool ParsedArgs::flag(std::string_view name) const {
  bool result = false;
  for (const auto& [n, v] : entries_)
    if (n == name) result = v != "false";
  return result;
}

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
  std::optional<std::string> result;
  for (const auto& [n, v] : entries_)
    if (n == name) result = v;
  return result;
}

std::string ParsedArgs::value_or(std::string_view name, std::string fallback) const {
  auto v = value(name);
  return v ? *v : std::move(fallback);
}

std::vector<std::string> ParsedArgs::values(std::string_view name) const {
  std::vector<std::string> result;
  for (const auto& [n, v] : entries_)
    if (n == name) result.push_back(v);
  return result;
}

bool ParsedArgs::has(std::string_view name) const {
  for (const auto& entry : entries_)
    if (entry.first == name) return true;
  return false;
}

Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const FlagSpec> flags,
                              const ParseOptions& options) {
  ParsedArgs out;
  Cursor cursor{args, 0};
  for (; cursor.index < args.size(); ++cursor.index) {
    const std::string& token = args[cursor.index];
    if (token == "--") {
      out.positionals.insert(out.positionals.end(), args.begin() + cursor.index + 1, args.end());
      break;
    }
    // "-" alone is a value (stdin), not a flag.
    if (token.size() > 1 && token[0] == '-') {
      TRY(parse_flag(cursor, flags, options, out));
      continue;
    }
    if (options.stop_at_first_positional) {
      out.positionals.insert(out.positionals.end(), args.begin() + cursor.index, args.end());
      break;
    }
    // urfave/cli reorders flags before positionals, so `delete ID --force`
    // works like `delete --force ID`.
    out.positionals.push_back(token);
  }
  return out;
}

Status expect_positionals(const ParsedArgs& args, std::string_view command, size_t min, size_t max) {
  size_t n = args.positionals.size();
  if (n >= min && n <= max) return {};
  std::string cmd = "\"" + std::string(command) + "\"";
  auto plural = [](size_t k) { return std::to_string(k) + (k == 1 ? " argument" : " arguments"); };
  if (min == max) return make_error(cmd + " requires exactly " + plural(min), EINVAL);
  if (n < min) return make_error(cmd + " requires at least " + plural(min), EINVAL);
  return make_error(cmd + " accepts at most " + plural(max), EINVAL);
}

std::string describe_flags(std::span<const FlagSpec> flags) {
  std::string out;
  for (const auto& f : flags) {
    std::string left = "   --" + std::string(f.name);
    if (f.short_name) left += std::string(", -") + f.short_name;
    if (f.kind != FlagKind::boolean) left += " " + std::string(f.value_name.empty() ? "value" : f.value_name);
    if (left.size() < 34) left.resize(34, ' ');
    else left += "  ";
    out += left + std::string(f.help) + (f.kind == FlagKind::list ? " (repeatable)" : "") + "\n";
  }
  return out;
}

}  // namespace ctr::cli
