#include "cmd/systemd_unit.h"

#include <algorithm>
#include <map>
#include <set>

#include "cmd/publish.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string trimmed(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::string quote_word(const std::string& word, bool keep_specifiers) {
  bool needs = word.empty() || word == ";" ||
               word.find_first_of(" \t\n\"'\\") != std::string::npos;
  std::string out;
  for (char c : word) {
    if (c == '%' && !keep_specifiers) out += "%%";
    else if (c == '$') out += "$$";
    else if (needs && (c == '"' || c == '\\')) (out += '\\') += c;
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return needs ? "\"" + out + "\"" : out;
}

// Exec*= lines of generated units: ctr's own words, quoted.
std::string exec_line(const std::vector<std::string>& argv, bool ignore_failure = false) {
  return (ignore_failure ? "-" : "") + systemd_command_line(argv);
}

}  // namespace

std::vector<std::string> own_command_line() {
  auto text = read_file("/proc/self/cmdline");
  std::vector<std::string> argv;
  if (!text) return argv;
  std::string word;
  for (char c : *text) {
    if (c == '\0') {
      argv.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) argv.push_back(word);
  return argv;
}

std::string systemd_quote(const std::string& word) { return quote_word(word, false); }

std::string systemd_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    line += systemd_quote(word);
  }
  return line;
}

Result<std::vector<std::string>> systemd_split(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_space(c)) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') {
      char quote = c;
      size_t j = i + 1;
      for (; j < text.size() && text[j] != quote; ++j) {
        if (text[j] == '\\' && quote == '"' && j + 1 < text.size()) {
          char next = text[++j];
          word += next == 'n' ? '\n' : next == 't' ? '\t' : next;
        } else {
          word += text[j];
        }
      }
      if (j >= text.size()) return make_error("unbalanced " + std::string(1, quote) + " in `" + text + "`", EINVAL);
      i = j;
    } else if (c == '\\' && i + 1 < text.size()) {
      char next = text[++i];
      word += next == 'n' ? '\n' : next == 't' ? '\t' : next;
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

UnitSection* UnitFile::find(const std::string& name) {
  for (auto& section : sections)
    if (section.name == name) return &section;
  return nullptr;
}
const UnitSection* UnitFile::find(const std::string& name) const {
  for (const auto& section : sections)
    if (section.name == name) return &section;
  return nullptr;
}
UnitSection& UnitFile::get(const std::string& name) {
  if (UnitSection* section = find(name)) return *section;
  sections.push_back({name, {}});
  return sections.back();
}

Result<UnitFile> parse_unit_file(const std::string& text) {
  UnitFile unit;
  UnitSection* current = nullptr;
  std::vector<std::string> raw = split(text, '\n');
  for (size_t i = 0; i < raw.size(); ++i) {
    size_t number = i + 1;
    std::string line = raw[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string content = trimmed(line);
    if (content.empty() || content[0] == '#' || content[0] == ';') continue;
    // A trailing backslash joins the next line (systemd.syntax(7)).
    while (!content.empty() && content.back() == '\\' && i + 1 < raw.size()) {
      content.pop_back();
      content = trimmed(content);
      std::string next = trimmed(raw[++i]);
      if (!next.empty() && (next[0] == '#' || next[0] == ';')) continue;
      content += " " + next;
    }
    if (content[0] == '[') {
      if (content.back() != ']' || content.size() < 3)
        return make_error("line " + std::to_string(number) + ": bad section header `" + content + "`", EINVAL);
      unit.sections.push_back({content.substr(1, content.size() - 2), {}});
      current = &unit.sections.back();
      continue;
    }
    auto eq = content.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error("line " + std::to_string(number) + ": expected KEY=VALUE, got `" + content + "`", EINVAL);
    if (!current)
      return make_error("line " + std::to_string(number) + ": `" + content + "` is outside any [Section]", EINVAL);
    current->entries.emplace_back(trimmed(content.substr(0, eq)), trimmed(content.substr(eq + 1)));
  }
  return unit;
}

std::string render_unit_file(const UnitFile& unit) {
  std::string out;
  for (const auto& section : unit.sections) {
    if (!out.empty()) out += '\n';
    out += "[" + section.name + "]\n";
    for (const auto& [key, value] : section.entries) out += key + "=" + value + "\n";
  }
  return out;
}

Status check_restart_policy(const std::string& policy) {
  static const std::set<std::string> known{"no",          "on-success", "on-failure", "on-abnormal",
                                           "on-watchdog", "on-abort",   "always"};
  if (known.count(policy)) return {};
  return make_error("invalid --restart-policy `" + policy +
                        "`: use no, on-success, on-failure, on-abnormal, on-watchdog, on-abort or always",
                    EINVAL);
}

Result<std::vector<std::string>> recreate_command(
    const std::vector<std::string>& create_command, const std::string& ctr_binary, const std::string& name,
    const std::function<bool(const std::string& flag, bool global)>& takes_value) {
  const auto& in = create_command;
  std::vector<std::string> out{ctr_binary};
  size_t i = 1;
  // ctr's global flags (--root STORE...) come before the command.
  for (; i < in.size() && !in[i].empty() && in[i][0] == '-'; ++i) {
    out.push_back(in[i]);
    if (in[i].find('=') == std::string::npos && takes_value(in[i], true) && i + 1 < in.size()) out.push_back(in[++i]);
  }
  if (i < in.size() && in[i] == "container") ++i;
  if (i >= in.size() || (in[i] != "create" && in[i] != "run"))
    return make_error("the recorded create command `" + join(in, " ") + "` is not a `ctr create` or `ctr run`",
                      EINVAL);
  ++i;
  out.insert(out.end(), {"run", "--rm", "--sdnotify=conmon", "-d", "--replace"});
  static const std::set<std::string> dropped_flags{"-d", "--detach", "--rm", "--replace"};
  static const std::set<std::string> dropped_values{"--sdnotify", "--cidfile"};
  bool named = false, has_cgroups = false;
  std::vector<std::string> options;
  for (; i < in.size(); ++i) {
    const std::string& word = in[i];
    if (word == "--" || word.size() < 2 || word[0] != '-') break;  // IMAGE (or -- IMAGE)
    bool has_eq = word.find('=') != std::string::npos;
    std::string flag = word.substr(0, word.find('='));
    bool long_flag = starts_with(word, "--");
    if (!long_flag && word.size() > 2 && !takes_value(word.substr(0, 2), false)) {
      // A cluster of short switches (-dit): keep all but -d.
      std::string kept = "-";
      for (char c : word.substr(1))
        if (c != 'd') kept += c;
      if (kept != "-") options.push_back(kept);
      continue;
    }
    if (!long_flag) has_eq = word.size() > 2;  // -eA=1: the value is attached
    bool separate_value = !has_eq && takes_value(flag, false);
    if (dropped_flags.count(flag) || dropped_values.count(flag)) {
      if (separate_value) ++i;
      continue;
    }
    if (flag == "--name") named = true;
    if (flag == "--cgroups") has_cgroups = true;
    options.push_back(word);
    if (separate_value && i + 1 < in.size()) options.push_back(in[++i]);
  }
  if (!named) options.insert(options.end(), {"--name", name});
  // The shim is the unit's main PID: it must stay in the unit's (delegated)
  // cgroup, or systemd refuses MAINPID= (podman: --cgroups=no-conmon/split).
  if (!has_cgroups) options.push_back("--cgroups=split");
  out.insert(out.end(), options.begin(), options.end());
  out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(std::min(i, in.size())), in.end());
  return out;
}

Result<std::string> render_generated_unit(const GenerateSettings& s, const std::vector<std::string>& exec_start) {
  TRY(check_restart_policy(s.restart_policy));
  std::vector<std::string> base{s.ctr_binary};
  base.insert(base.end(), s.global_args.begin(), s.global_args.end());
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  std::string timeout = std::to_string(s.stop_timeout);
  UnitFile unit;
  UnitSection& head = unit.get("Unit");
  head.entries = {{"Description", "ctr " + s.unit_name},
                  {"Documentation", "man:ctr-generate-systemd(1)"},
                  {"Wants", "network-online.target"},
                  {"After", "network-online.target"}};
  UnitSection& service = unit.get("Service");
  service.entries = {{"Environment", "CTR_SYSTEMD_UNIT=%n"},
                     {"Restart", s.restart_policy},
                     {"TimeoutStopSec", std::to_string(s.stop_timeout + 60)}};
  if (s.recreate) {
    service.entries.emplace_back("ExecStart", exec_line(exec_start));
    service.entries.emplace_back("ExecStop", exec_line(with({"stop", "-t", timeout, s.container}), true));
    // When the shim (the main PID) was killed, ExecStop did not run.
    service.entries.emplace_back("ExecStopPost", exec_line(with({"rm", "-f", s.container}), true));
  } else {
    // Attached, so ctr stays the main PID whatever cgroup the existing
    // container's shim goes to (systemd refuses a MAINPID= outside the unit).
    service.entries.emplace_back("ExecStart", exec_line(with({"start", "--attach", s.container})));
    service.entries.emplace_back("ExecStop", exec_line(with({"stop", "-t", timeout, s.container})));
    service.entries.emplace_back("ExecStopPost", exec_line(with({"stop", "-t", timeout, s.container}), true));
  }
  // The main PID (the shim, or the attached ctr) ends with the container's
  // status: a stop (SIGTERM, or SIGKILL after the timeout) is not a failure.
  service.entries.insert(service.entries.end(), {{"SuccessExitStatus", "143 137"},
                                                 {"Type", "notify"},
                                                 {"NotifyAccess", "all"},
                                                 {"KillMode", "mixed"},
                                                 {"Delegate", "yes"}});
  unit.get("Install").entries = {{"WantedBy", "default.target"}};
  return "# " + s.unit_name + "\n# autogenerated by ctr " + s.version + "\n\n" + render_unit_file(unit);
}

namespace {

struct ContainerArgs {
  std::string image, name;
  std::vector<std::string> options, exec;
};

// One [Container] key; false when the key is not known.
Result<bool> apply_container_key(const std::string& key, const std::string& value, ContainerArgs& args) {
  auto words = [&]() { return systemd_split(value); };
  if (key == "Image") {
    args.image = value;
  } else if (key == "ContainerName") {
    args.name = value;
  } else if (key == "Exec") {
    TRY_ASSIGN(list, words());
    args.exec.insert(args.exec.end(), list.begin(), list.end());
  } else if (key == "Environment") {
    TRY_ASSIGN(list, words());
    for (const auto& entry : list) {
      if (entry.find('=') == std::string::npos || entry[0] == '=')
        return make_error("Environment=: `" + entry + "` is not KEY=VALUE", EINVAL);
      args.options.insert(args.options.end(), {"-e", entry});
    }
  } else if (key == "Label" || key == "Annotation") {
    TRY_ASSIGN(list, words());
    for (const auto& entry : list) args.options.insert(args.options.end(), {key == "Label" ? "--label" : "--annotation", entry});
  } else if (key == "Volume" || key == "EnvironmentFile" || key == "User" || key == "WorkingDir" ||
             key == "HostName") {
    static const std::map<std::string, std::string> flag{{"Volume", "-v"},
                                                         {"EnvironmentFile", "--env-file"},
                                                         {"User", "--user"},
                                                         {"WorkingDir", "--workdir"},
                                                         {"HostName", "--hostname"}};
    args.options.insert(args.options.end(), {flag.at(key), value});
  } else if (key == "Memory") {
    // Passed on as --memory (the cgroup issue's flag): a ctr without it
    // refuses the unit at start, naming the flag, rather than run unlimited.
    args.options.push_back("--memory=" + value);
  } else if (key == "PodmanArgs" || key == "CtrArgs") {
    TRY_ASSIGN(list, words());
    args.options.insert(args.options.end(), list.begin(), list.end());
  } else if (key == "PublishPort") {
    // Checked now, so a bad spec fails the generator, not the unit's start.
    if (auto spec = parse_publish_spec(value); !spec) return std::move(spec).error().context("PublishPort=" + value);
    args.options.insert(args.options.end(), {"-p", value});
  } else if (key == "Network" || key == "ExposeHostPort" || key == "AddHost" || key == "DNS" ||
             key == "DNSSearch" || key == "DNSOption") {
    static const std::map<std::string, std::string> flag{{"Network", "--network"},  {"ExposeHostPort", "--expose"},
                                                         {"AddHost", "--add-host"}, {"DNS", "--dns"},
                                                         {"DNSSearch", "--dns-search"}, {"DNSOption", "--dns-option"}};
    args.options.push_back(flag.at(key) + "=" + value);
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> words_of(const std::string& value) {
  auto list = systemd_split(value);
  return list ? *list : std::vector<std::string>{};
}

}  // namespace

Result<ContainerUnit> convert_container_file(const std::string& name, const std::string& source,
                                             const std::string& text, const std::string& ctr_binary,
                                             std::vector<std::string>& warnings) {
  TRY_ASSIGN(file, parse_unit_file(text));
  const UnitSection* container = file.find("Container");
  if (!container) return make_error("no [Container] section", EINVAL);
  ContainerArgs args;
  for (const auto& [key, value] : container->entries) {
    auto known = apply_container_key(key, value, args);
    if (!known) return known.error().context("[Container] " + key);
    if (!*known) warnings.push_back("[Container] " + key + "= is not supported by ctr; ignored");
  }
  if (args.image.empty()) return make_error("[Container] has no Image=", EINVAL);
  if (args.name.empty()) args.name = "systemd-" + name;
  // As quadlet: the shim (the main PID) stays in the unit's cgroup (split).
  std::vector<std::string> run{ctr_binary, "run",          "--name", args.name,          "--replace",
                               "--rm",     "--cgroups=split", "--sdnotify=conmon", "-d"};
  run.insert(run.end(), args.options.begin(), args.options.end());
  run.push_back(args.image);
  run.insert(run.end(), args.exec.begin(), args.exec.end());
  // ContainerName= may use specifiers (%N), as in quadlet: kept as written.
  std::string name_word = quote_word(args.name, true);

  ContainerUnit out;
  out.service_name = name + ".service";
  UnitFile unit;
  UnitSection& head = unit.get("Unit");
  if (const UnitSection* given = file.find("Unit")) head.entries = given->entries;
  head.entries.emplace_back("SourcePath", source);
  UnitSection& service = unit.get("Service");
  std::string start = systemd_command_line(run);
  std::string quoted_name = systemd_quote(args.name);
  // Put the specifier-preserving name back (systemd_command_line doubled its %).
  if (auto at = start.find(" " + quoted_name + " "); at != std::string::npos)
    start.replace(at + 1, quoted_name.size(), name_word);
  service.entries = {{"Environment", "CTR_SYSTEMD_UNIT=%n"},
                     {"KillMode", "mixed"},
                     {"Delegate", "yes"},
                     {"Type", "notify"},
                     {"NotifyAccess", "all"},
                     {"SyslogIdentifier", "%N"},
                     {"SuccessExitStatus", "143 137"},
                     {"ExecStart", start},
                     {"ExecStop", "-" + systemd_quote(ctr_binary) + " stop -t 10 " + name_word},
                     {"ExecStopPost", "-" + systemd_quote(ctr_binary) + " rm -f " + name_word}};
  if (const UnitSection* given = file.find("Service"))
    service.entries.insert(service.entries.end(), given->entries.begin(), given->entries.end());
  for (const auto& section : file.sections) {
    if (section.name == "Unit" || section.name == "Service" || section.name == "Container") continue;
    unit.sections.push_back(section);
    if (section.name != "Install") continue;
    for (const auto& [key, value] : section.entries) {
      auto list = words_of(value);
      if (key == "WantedBy") out.wanted_by.insert(out.wanted_by.end(), list.begin(), list.end());
      if (key == "RequiredBy") out.required_by.insert(out.required_by.end(), list.begin(), list.end());
    }
  }
  out.text = "# Generated by ctr-user-generator from " + source + "\n\n" + render_unit_file(unit);
  return out;
}

}  // namespace ctr::cmd
