// config.json -> spec::Spec. Every value is type-checked where it is read so
// an error names the JSON path of the offending field; unknown fields are
// ignored, as the OCI runtime spec requires.
#include <sys/resource.h>
#include <unistd.h>

#include <climits>
#include <nlohmann/json.hpp>
#include <utility>

#include "runtime/base/files.h"
#include "runtime/capabilities.h"
#include "runtime/spec.h"

namespace ctr::spec {

namespace {

using json = nlohmann::json;

Error field_error(const std::string& path, const std::string& what) {
  return make_error(path + ": " + what, EINVAL);
}
std::string member(const std::string& parent, const char* key) {
  return parent.empty() ? key : parent + "." + key;
}
std::string element(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}
bool is_absolute(const std::string& path) {
  return !path.empty() && path[0] == '/';
}

// --- scalar converters: one JSON value -> one C++ value -------------------

Status convert(const json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) return field_error(path, "expected a string");
  out = v.get_ref<const std::string&>();
  return {};
}

Status convert(const json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) return field_error(path, "expected a boolean");
  out = v.get<bool>();
  return {};
}

template <typename Int>
Status convert_integer(const json& v, const std::string& path, Int& out) {
  // nlohmann keeps non-negative literals unsigned and negative ones signed;
  // floats ("1.5", "1.0") are rejected like Go's encoding/json does.
  if (v.is_number_unsigned()) {
    uint64_t n = v.get<uint64_t>();
    if (!std::in_range<Int>(n)) return field_error(path, "value " + std::to_string(n) + " is out of range");
    out = static_cast<Int>(n);
    return {};
  }
  if (v.is_number_integer()) {
    int64_t n = v.get<int64_t>();
    if (!std::in_range<Int>(n)) return field_error(path, "value " + std::to_string(n) + " is out of range");
    out = static_cast<Int>(n);
    return {};
  }
  return field_error(path, "expected an integer");
}

Status convert(const json& v, const std::string& path, uint32_t& out) {
  return convert_integer(v, path, out);
}
Status convert(const json& v, const std::string& path, uint64_t& out) {
  return convert_integer(v, path, out);
}
Status convert(const json& v, const std::string& path, int64_t& out) {
  return convert_integer(v, path, out);
}
Status convert(const json& v, const std::string& path, int& out) {
  return convert_integer(v, path, out);
}

Status convert(const json& v, const std::string& path, std::vector<std::string>& out) {
  if (!v.is_array()) return field_error(path, "expected an array of strings");
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    std::string item;
    TRY(convert(v[i], element(path, i), item));
    out.push_back(std::move(item));
  }
  return {};
}

Status convert(const json& v, const std::string& path, std::map<std::string, std::string>& out) {
  if (!v.is_object()) return field_error(path, "expected an object of strings");
  out.clear();
  for (const auto& [key, value] : v.items()) {
    std::string text;
    TRY(convert(value, path + "." + key, text));
    out.emplace(key, std::move(text));
  }
  return {};
}

// --- field access ----------------------------------------------------------

// A missing member and an explicit null both mean "not set" (as in Go).
const json* find_member(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

template <typename T>
Status optional_field(const json& obj, const std::string& path, const char* key, T& out) {
  const json* v = find_member(obj, key);
  return v ? convert(*v, member(path, key), out) : Status{};
}

template <typename T>
Status optional_field(const json& obj, const std::string& path, const char* key, std::optional<T>& out) {
  const json* v = find_member(obj, key);
  if (!v) return {};
  T value{};
  TRY(convert(*v, member(path, key), value));
  out = std::move(value);
  return {};
}

template <typename T>
Status required_field(const json& obj, const std::string& path, const char* key, T& out) {
  const json* v = find_member(obj, key);
  if (!v) return field_error(member(path, key), "required");
  return convert(*v, member(path, key), out);
}

Status expect_object(const json& v, const std::string& path) {
  return v.is_object() ? Status{} : field_error(path, "expected an object");
}

// An array of objects, each parsed by `parse_one(item, item_path) -> Result<T>`.
template <typename T, typename Parse>
Status object_array(const json& obj, const std::string& path, const char* key, std::vector<T>& out, Parse parse_one) {
  const json* v = find_member(obj, key);
  if (!v) return {};
  std::string array_path = member(path, key);
  if (!v->is_array()) return field_error(array_path, "expected an array");
  for (size_t i = 0; i < v->size(); ++i) {
    std::string item_path = element(array_path, i);
    TRY(expect_object((*v)[i], item_path));
    TRY_ASSIGN(value, parse_one((*v)[i], item_path));
    out.push_back(std::move(value));
  }
  return {};
}

Status absolute_field(const json& obj, const std::string& path, const char* key, std::string& out) {
  TRY(required_field(obj, path, key, out));
  if (!is_absolute(out)) return field_error(member(path, key), "must be an absolute path, got `" + out + "`");
  return {};
}

// --- process ---------------------------------------------------------------

Status capability_set(const json& caps, const std::string& path, const char* key, std::vector<int>& out) {
  std::vector<std::string> names;
  TRY(optional_field(caps, path, key, names));
  for (size_t i = 0; i < names.size(); ++i) {
    auto cap = capability_from_name(names[i]);
    if (!cap) return field_error(element(member(path, key), i), "unknown capability \"" + names[i] + "\"");
    out.push_back(*cap);
  }
  return {};
}

Result<Capabilities> parse_capabilities(const json& v, const std::string& path) {
  TRY(expect_object(v, path));
  Capabilities caps;
  TRY(capability_set(v, path, "bounding", caps.bounding));
  TRY(capability_set(v, path, "effective", caps.effective));
  TRY(capability_set(v, path, "inheritable", caps.inheritable));
  TRY(capability_set(v, path, "permitted", caps.permitted));
  TRY(capability_set(v, path, "ambient", caps.ambient));
  return caps;
}

struct RlimitName {
  const char* name;
  int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

Result<Rlimit> parse_rlimit(const json& v, const std::string& path) {
  std::string type;
  TRY(required_field(v, path, "type", type));
  Rlimit limit;
  bool known = false;
  for (const auto& entry : kRlimits) {
    if (type == entry.name) {
      limit.resource = entry.resource;
      known = true;
    }
  }
  if (!known) return field_error(member(path, "type"), "unknown rlimit type \"" + type + "\"");
  TRY(required_field(v, path, "hard", limit.hard));
  TRY(required_field(v, path, "soft", limit.soft));
  if (limit.soft > limit.hard)
    return field_error(path, "soft limit " + std::to_string(limit.soft) + " of " + type + " is above the hard limit " +
                                 std::to_string(limit.hard));
  return limit;
}

Result<User> parse_user(const json& v, const std::string& path) {
  TRY(expect_object(v, path));
  User user;
  TRY(optional_field(v, path, "uid", user.uid));
  TRY(optional_field(v, path, "gid", user.gid));
  TRY(optional_field(v, path, "umask", user.umask));
  std::vector<uint32_t> gids;
  if (const json* list = find_member(v, "additionalGids")) {
    std::string list_path = member(path, "additionalGids");
    if (!list->is_array()) return field_error(list_path, "expected an array of integers");
    for (size_t i = 0; i < list->size(); ++i) {
      uint32_t gid = 0;
      TRY(convert((*list)[i], element(list_path, i), gid));
      user.additional_gids.push_back(gid);
    }
  }
  return user;
}

Status parse_process_security(const json& v, const std::string& path, Process& p) {
  if (const json* caps = find_member(v, "capabilities")) {
    TRY_ASSIGN(parsed, parse_capabilities(*caps, member(path, "capabilities")));
    p.capabilities = std::move(parsed);
  }
  TRY(object_array(v, path, "rlimits", p.rlimits, parse_rlimit));
  for (size_t i = 1; i < p.rlimits.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (p.rlimits[i].resource == p.rlimits[j].resource)
        return field_error(element(member(path, "rlimits"), i), "duplicate rlimit type");
  TRY(optional_field(v, path, "noNewPrivileges", p.no_new_privileges));
  TRY(optional_field(v, path, "oomScoreAdj", p.oom_score_adj));
  TRY(optional_field(v, path, "apparmorProfile", p.apparmor_profile));
  TRY(optional_field(v, path, "selinuxLabel", p.selinux_label));
  return {};
}

Result<Process> parse_process_object(const json& v, const std::string& path) {
  TRY(expect_object(v, path));
  Process p;
  TRY(optional_field(v, path, "terminal", p.terminal));
  if (const json* size = find_member(v, "consoleSize")) {
    std::string size_path = member(path, "consoleSize");
    TRY(expect_object(*size, size_path));
    ConsoleSize console;
    TRY(required_field(*size, size_path, "height", console.height));
    TRY(required_field(*size, size_path, "width", console.width));
    p.console_size = console;
  }
  if (const json* user = find_member(v, "user")) {
    TRY_ASSIGN(parsed, parse_user(*user, member(path, "user")));
    p.user = std::move(parsed);
  }
  TRY(optional_field(v, path, "args", p.args));
  // POSIX allows an empty argv, the OCI spec does not (there is nothing to exec).
  if (p.args.empty()) return field_error(member(path, "args"), "at least one argument is required");
  TRY(optional_field(v, path, "env", p.env));
  TRY(absolute_field(v, path, "cwd", p.cwd));
  TRY(parse_process_security(v, path, p));
  return p;
}

// --- root, mounts, hooks ---------------------------------------------------

// Lexical clean-up ("a/./b/../c/" -> "a/c"); no symlinks are followed.
std::string clean_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out = is_absolute(path) ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

std::string resolve_against(const std::string& path, const std::string& bundle) {
  if (is_absolute(path)) return clean_path(path);
  std::string base = bundle.empty() ? "." : bundle;
  if (!is_absolute(base)) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) base = std::string(cwd) + "/" + base;
  }
  return clean_path(base + "/" + path);
}

Result<Root> parse_root(const json& doc, const std::string& bundle) {
  const json* v = find_member(doc, "root");
  if (!v) return field_error("root", "required");
  TRY(expect_object(*v, "root"));
  Root root;
  TRY(required_field(*v, "root", "path", root.path));
  if (root.path.empty()) return field_error("root.path", "must not be empty");
  root.path = resolve_against(root.path, bundle);
  TRY(optional_field(*v, "root", "readonly", root.readonly));
  return root;
}

Result<IdMapping> parse_id_mapping(const json& v, const std::string& path) {
  IdMapping m;
  TRY(required_field(v, path, "containerID", m.container_id));
  TRY(required_field(v, path, "hostID", m.host_id));
  TRY(required_field(v, path, "size", m.size));
  return m;
}

Result<Mount> parse_mount(const json& v, const std::string& path) {
  Mount m;
  TRY(absolute_field(v, path, "destination", m.destination));
  TRY(optional_field(v, path, "type", m.type));
  TRY(optional_field(v, path, "source", m.source));
  TRY(optional_field(v, path, "options", m.options));
  TRY(object_array(v, path, "uidMappings", m.uid_mappings, parse_id_mapping));
  TRY(object_array(v, path, "gidMappings", m.gid_mappings, parse_id_mapping));
  return m;
}

Result<Hook> parse_hook(const json& v, const std::string& path) {
  Hook hook;
  TRY(absolute_field(v, path, "path", hook.path));
  TRY(optional_field(v, path, "args", hook.args));
  TRY(optional_field(v, path, "env", hook.env));
  TRY(optional_field(v, path, "timeout", hook.timeout));
  if (hook.timeout && *hook.timeout <= 0) return field_error(member(path, "timeout"), "must be greater than zero");
  return hook;
}

Status parse_hooks(const json& doc, Hooks& hooks) {
  const json* v = find_member(doc, "hooks");
  if (!v) return {};
  TRY(expect_object(*v, "hooks"));
  TRY(object_array(*v, "hooks", "prestart", hooks.prestart, parse_hook));
  TRY(object_array(*v, "hooks", "createRuntime", hooks.create_runtime, parse_hook));
  TRY(object_array(*v, "hooks", "createContainer", hooks.create_container, parse_hook));
  TRY(object_array(*v, "hooks", "startContainer", hooks.start_container, parse_hook));
  TRY(object_array(*v, "hooks", "poststart", hooks.poststart, parse_hook));
  TRY(object_array(*v, "hooks", "poststop", hooks.poststop, parse_hook));
  return {};
}

// --- linux -----------------------------------------------------------------

constexpr NamespaceType kNamespaceTypes[] = {NamespaceType::pid,    NamespaceType::network, NamespaceType::mount,
                                             NamespaceType::ipc,    NamespaceType::uts,     NamespaceType::user,
                                             NamespaceType::cgroup, NamespaceType::time};

Result<Namespace> parse_namespace(const json& v, const std::string& path) {
  std::string type;
  TRY(required_field(v, path, "type", type));
  Namespace ns{NamespaceType::pid, ""};
  bool known = false;
  for (NamespaceType t : kNamespaceTypes) {
    if (type == namespace_type_name(t)) {
      ns.type = t;
      known = true;
    }
  }
  if (!known) return field_error(member(path, "type"), "unknown namespace type `" + type + "`");
  TRY(optional_field(v, path, "path", ns.path));
  return ns;
}

Status parse_namespaces(const json& linux_json, Linux& linux) {
  TRY(object_array(linux_json, "linux", "namespaces", linux.namespaces, parse_namespace));
  for (size_t i = 1; i < linux.namespaces.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (linux.namespaces[i].type == linux.namespaces[j].type)
        return field_error(
            element("linux.namespaces", i) + ".type",
            std::string("duplicate namespace type `") + namespace_type_name(linux.namespaces[i].type) + "`");
  return {};
}

Result<Device> parse_device(const json& v, const std::string& path) {
  Device dev;
  std::string type;
  TRY(required_field(v, path, "type", type));
  if (type.size() != 1 || std::string_view("cbup").find(type[0]) == std::string_view::npos)
    return field_error(member(path, "type"), "unknown device type `" + type + "` (expected c, b, u or p)");
  dev.type = type[0];
  TRY(absolute_field(v, path, "path", dev.path));
  // A FIFO has no device number; every other kind needs one for mknod(2).
  if (dev.type == 'p') {
    TRY(optional_field(v, path, "major", dev.major));
    TRY(optional_field(v, path, "minor", dev.minor));
  } else {
    TRY(required_field(v, path, "major", dev.major));
    TRY(required_field(v, path, "minor", dev.minor));
  }
  TRY(optional_field(v, path, "fileMode", dev.file_mode));
  TRY(optional_field(v, path, "uid", dev.uid));
  TRY(optional_field(v, path, "gid", dev.gid));
  return dev;
}

Result<SeccompArg> parse_seccomp_arg(const json& v, const std::string& path) {
  SeccompArg arg;
  TRY(required_field(v, path, "index", arg.index));
  TRY(required_field(v, path, "value", arg.value));
  TRY(optional_field(v, path, "valueTwo", arg.value_two));
  TRY(required_field(v, path, "op", arg.op));
  return arg;
}

Result<SeccompSyscall> parse_seccomp_syscall(const json& v, const std::string& path) {
  SeccompSyscall sc;
  TRY(required_field(v, path, "names", sc.names));
  if (sc.names.empty()) return field_error(member(path, "names"), "must not be empty");
  TRY(required_field(v, path, "action", sc.action));
  TRY(optional_field(v, path, "errnoRet", sc.errno_ret));
  TRY(object_array(v, path, "args", sc.args, parse_seccomp_arg));
  return sc;
}

Result<Seccomp> parse_seccomp(const json& v, const std::string& path) {
  TRY(expect_object(v, path));
  Seccomp s;
  TRY(required_field(v, path, "defaultAction", s.default_action));
  TRY(optional_field(v, path, "defaultErrnoRet", s.default_errno_ret));
  TRY(optional_field(v, path, "architectures", s.architectures));
  TRY(optional_field(v, path, "flags", s.flags));
  TRY(optional_field(v, path, "listenerPath", s.listener_path));
  TRY(optional_field(v, path, "listenerMetadata", s.listener_metadata));
  TRY(object_array(v, path, "syscalls", s.syscalls, parse_seccomp_syscall));
  return s;
}

Status parse_personality(const json& linux_json, Linux& linux) {
  const json* v = find_member(linux_json, "personality");
  if (!v) return {};
  TRY(expect_object(*v, "linux.personality"));
  std::string domain;
  TRY(required_field(*v, "linux.personality", "domain", domain));
  // PER_LINUX and PER_LINUX32 from <sys/personality.h>.
  if (domain == "LINUX")
    linux.personality = 0x0000;
  else if (domain == "LINUX32")
    linux.personality = 0x0008;
  else
    return field_error("linux.personality.domain", "unknown domain `" + domain + "` (expected LINUX or LINUX32)");
  return {};
}

Status parse_linux_misc(const json& v, Linux& linux) {
  TRY(optional_field(v, "linux", "cgroupsPath", linux.cgroups_path));
  if (const json* resources = find_member(v, "resources")) {
    TRY(expect_object(*resources, "linux.resources"));
    // Parsing already rejected invalid UTF-8, so replace never triggers.
    linux.resources_json = resources->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  TRY(optional_field(v, "linux", "sysctl", linux.sysctl));
  if (const json* seccomp = find_member(v, "seccomp")) {
    TRY_ASSIGN(parsed, parse_seccomp(*seccomp, "linux.seccomp"));
    linux.seccomp = std::move(parsed);
  }
  TRY(optional_field(v, "linux", "rootfsPropagation", linux.rootfs_propagation));
  static const char* const kPropagations[] = {"",        "shared", "slave",    "private",    "unbindable",
                                              "rshared", "rslave", "rprivate", "runbindable"};
  bool valid = false;
  for (const char* p : kPropagations) valid = valid || linux.rootfs_propagation == p;
  if (!valid) return field_error("linux.rootfsPropagation", "unknown propagation `" + linux.rootfs_propagation + "`");
  TRY(optional_field(v, "linux", "maskedPaths", linux.masked_paths));
  TRY(optional_field(v, "linux", "readonlyPaths", linux.readonly_paths));
  TRY(optional_field(v, "linux", "mountLabel", linux.mount_label));
  return parse_personality(v, linux);
}

Result<Linux> parse_linux(const json& doc) {
  Linux linux;
  const json* v = find_member(doc, "linux");
  if (!v) return linux;
  TRY(expect_object(*v, "linux"));
  TRY(parse_namespaces(*v, linux));
  TRY(object_array(*v, "linux", "uidMappings", linux.uid_mappings, parse_id_mapping));
  TRY(object_array(*v, "linux", "gidMappings", linux.gid_mappings, parse_id_mapping));
  TRY(object_array(*v, "linux", "devices", linux.devices, parse_device));
  TRY(parse_linux_misc(*v, linux));
  return linux;
}

// --- documents -------------------------------------------------------------

Status parse_json(const std::string& text, const char* what, json& out) {
  try {
    out = json::parse(text);
  } catch (const json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: <reason>".
    std::string reason = e.what();
    size_t at = reason.find("parse error");
    size_t colon = at == std::string::npos ? at : reason.find(": ", at);
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    return make_error(std::string(what) + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + reason, EINVAL);
  }
  if (!out.is_object()) return make_error(std::string(what) + ": expected a JSON object", EINVAL);
  return {};
}

Result<Spec> parse_document(const json& doc, const std::string& bundle) {
  Spec spec;
  TRY(optional_field(doc, "", "ociVersion", spec.oci_version));
  if (const json* process = find_member(doc, "process")) {
    TRY_ASSIGN(parsed, parse_process_object(*process, "process"));
    spec.process = std::move(parsed);
  }
  TRY_ASSIGN(root, parse_root(doc, bundle));
  spec.root = std::move(root);
  TRY(optional_field(doc, "", "hostname", spec.hostname));
  TRY(optional_field(doc, "", "domainname", spec.domainname));
  TRY(object_array(doc, "", "mounts", spec.mounts, parse_mount));
  TRY(parse_hooks(doc, spec.hooks));
  TRY(optional_field(doc, "", "annotations", spec.annotations));
  TRY_ASSIGN(linux, parse_linux(doc));
  spec.linux = std::move(linux);
  return spec;
}

}  // namespace

const char* namespace_type_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::pid:
      return "pid";
    case NamespaceType::network:
      return "network";
    case NamespaceType::mount:
      return "mount";
    case NamespaceType::ipc:
      return "ipc";
    case NamespaceType::uts:
      return "uts";
    case NamespaceType::user:
      return "user";
    case NamespaceType::cgroup:
      return "cgroup";
    case NamespaceType::time:
      return "time";
  }
  return "unknown";
}

Result<Spec> parse_spec(const std::string& json_text, const std::string& bundle) {
  try {
    json doc;
    TRY(parse_json(json_text, "config.json", doc));
    return parse_document(doc, bundle);
  } catch (const std::exception& e) {
    // The converters check types first, so this is only a safety net
    // (e.g. allocation failure): exceptions must not escape the library.
    return make_error(std::string("config.json: ") + e.what(), EINVAL);
  }
}

Result<Spec> load_spec(const std::string& bundle) {
  std::string path = (bundle.empty() ? std::string(".") : bundle) + "/config.json";
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == ENOENT)
      return make_error("`" + path + "` not found: create one with `ctr-runtime spec` in the bundle directory", ENOENT);
    return std::move(text).error().context("read config");
  }
  return parse_spec(*text, bundle);
}

Result<Process> parse_process(const std::string& json_text) {
  try {
    json doc;
    TRY(parse_json(json_text, "process", doc));
    return parse_process_object(doc, "process");
  } catch (const std::exception& e) {
    return make_error(std::string("process: ") + e.what(), EINVAL);
  }
}

}  // namespace ctr::spec
