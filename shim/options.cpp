#include "shim/options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <map>

#include "runtime/base/strings.h"
#include "shim/port_mapping.h"

namespace ctr::shim {

const char* log_driver_name(LogDriver driver) {
  switch (driver) {
    case LogDriver::k8s_file:
      return "k8s-file";
    case LogDriver::json_file:
      return "json-file";
    case LogDriver::none:
      return "none";
    case LogDriver::passthrough:
      return "passthrough";
  }
  return "?";
}

std::string usage() {
  return "usage: ctr-shim --id ID --bundle DIR --state-dir DIR [--runtime PATH] [--runtime-arg ARG]...\n"
         "  [--log-driver k8s-file|json-file|none|passthrough] [--log-path FILE] [--log-max-size BYTES]\n"
         "  [--log-max-files N] [--terminal] [--stdin] [--sync-fd N] [--timeout SECS] [--start]\n"
         "  [--exit-command PATH [--exit-arg ARG]...] [--exec --exec-id EID --process P.json]\n"
         "  [--notify-socket PATH|@NAME [--notify-main-pid]]\n"
         "  [--network-helper pasta|slirp4netns --network-helper-bin PATH [--network-helper-arg ARG]...\n"
         "   [--publish HOSTIP:HOSTPORT:CONTAINERPORT/PROTO]... [--port-handler rootlesskit|slirp4netns]]\n";
}

namespace {

Error bad(const std::string& message) {
  return make_error(message, EINVAL);
}

Result<uint64_t> number(const std::string& flag, const std::string& text, uint64_t max) {
  auto n = parse_u64(text);
  if (!n || *n > max)
    return bad("invalid " + flag + " \"" + text + "\": expected a number up to " + std::to_string(max));
  return *n;
}

// "10m", "1g", "512k" or plain bytes (docker's --log-opt max-size syntax).
Result<uint64_t> size_value(const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty()) {
    switch (std::tolower(static_cast<unsigned char>(digits.back()))) {
      case 'k':
        unit = 1024;
        break;
      case 'm':
        unit = 1024 * 1024;
        break;
      case 'g':
        unit = 1024ull * 1024 * 1024;
        break;
      default:
        break;
    }
    if (unit != 1) digits.pop_back();
  }
  auto n = parse_u64(digits);
  if (!n || *n > (UINT64_MAX / unit))
    return bad("invalid --log-max-size \"" + text + "\": expected bytes, optionally with a k, m or g suffix");
  return *n * unit;
}

Result<LogDriver> driver_value(const std::string& text) {
  for (auto d : {LogDriver::k8s_file, LogDriver::json_file, LogDriver::none, LogDriver::passthrough})
    if (text == log_driver_name(d)) return d;
  return bad("unknown --log-driver \"" + text + "\": use k8s-file, json-file, none or passthrough");
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status validate_network(const ShimOptions& o) {
  if (o.network_helper.empty()) {
    if (!o.network_helper_bin.empty() || !o.network_helper_args.empty() || !o.publish.empty() ||
        !o.port_handler.empty())
      return bad(
          "--network-helper-bin, --network-helper-arg, --publish and --port-handler need --network-helper "
          "pasta|slirp4netns");
    return {};
  }
  if (o.network_helper != "pasta" && o.network_helper != "slirp4netns")
    return bad("unknown --network-helper \"" + o.network_helper + "\": use pasta or slirp4netns");
  if (o.network_helper_bin.empty() || ::access(o.network_helper_bin.c_str(), X_OK) != 0)
    return make_error("--network-helper " + o.network_helper + " needs --network-helper-bin PATH, an executable (got `" +
                          o.network_helper_bin + "`)",
                      ENOENT);
  if (!o.port_handler.empty() && o.network_helper != "slirp4netns")
    return bad("--port-handler is for --network-helper slirp4netns (pasta forwards its ports itself)");
  if (!o.port_handler.empty() && o.port_handler != "rootlesskit" && o.port_handler != "slirp4netns")
    return bad("unknown --port-handler \"" + o.port_handler + "\": use rootlesskit (ctr's port proxy) or slirp4netns");
  for (const auto& text : o.publish) TRY_CTX(parse_canonical_port_mapping(text), "--publish " + text);
  return {};
}

Status validate(ShimOptions& o, const std::string& self) {
  if (o.id.empty()) return bad("missing --id: the container's id is required");
  if (o.id.find('/') != std::string::npos) return bad("invalid --id \"" + o.id + "\": it must not contain '/'");
  if (o.state_dir.empty()) return bad("missing --state-dir: the container's state directory is required");
  if (!is_dir(o.state_dir)) return bad("--state-dir `" + o.state_dir + "` is not a directory: create it first");
  if (::access(o.state_dir.c_str(), W_OK | X_OK) != 0)
    return make_error("--state-dir `" + o.state_dir + "` is not writable by uid " + std::to_string(::getuid()) +
                          ": fix its ownership or permissions",
                      EACCES);
  if (o.exec) {
    if (o.exec_id.empty() || o.exec_id.find('/') != std::string::npos || o.exec_id == "." || o.exec_id == "..")
      return bad("--exec needs --exec-id EID (a name without '/')");
    if (o.process_json.empty() || ::access(o.process_json.c_str(), R_OK) != 0)
      return bad("--exec needs --process FILE, a readable process.json (got `" + o.process_json + "`)");
  } else {
    if (o.bundle.empty()) return bad("missing --bundle: the OCI bundle directory is required");
    if (::access((o.bundle + "/config.json").c_str(), R_OK) != 0)
      return bad("--bundle `" + o.bundle + "` has no readable config.json");
  }
  if (o.runtime.empty()) o.runtime = parent_dir(self) + "/ctr-runtime";
  if (::access(o.runtime.c_str(), X_OK) != 0)
    return make_error("OCI runtime `" + o.runtime + "` is not an executable file: pass --runtime PATH", ENOENT);
  bool file_log = o.log_driver == LogDriver::k8s_file || o.log_driver == LogDriver::json_file;
  if (file_log && o.log_path.empty())
    return bad(std::string("--log-driver ") + log_driver_name(o.log_driver) + " needs --log-path FILE");
  if (file_log && ::access(parent_dir(o.log_path).c_str(), W_OK | X_OK) != 0)
    return make_error("log directory `" + parent_dir(o.log_path) + "` is missing or not writable", EACCES);
  if (o.log_max_files == 0) return bad("--log-max-files must be at least 1");
  if (o.log_driver == LogDriver::passthrough && o.terminal)
    return bad("--log-driver passthrough cannot be combined with --terminal");
  if (o.exit_command.empty() && !o.exit_args.empty()) return bad("--exit-arg given without --exit-command");
  TRY(validate_network(o));
  if (!o.notify_socket.empty() && o.notify_socket[0] != '/' && o.notify_socket[0] != '@')
    return bad("invalid --notify-socket \"" + o.notify_socket + "\": expected an absolute path or @abstract name");
  if (o.notify_main_pid && o.notify_socket.empty()) return bad("--notify-main-pid given without --notify-socket");
  if (o.sync_fd >= 0 && ::fcntl(o.sync_fd, F_GETFD) < 0)
    return bad("--sync-fd " + std::to_string(o.sync_fd) + " is not an open file descriptor");
  return {};
}

}  // namespace

Result<ShimOptions> parse_options(const std::vector<std::string>& args, const std::string& self) {
  ShimOptions o;
  using Setter = std::function<Status(const std::string&)>;
  auto text = [](std::string& field) -> Setter {
    return [&field](const std::string& v) -> Status {
      field = v;
      return {};
    };
  };
  auto list = [](std::vector<std::string>& field) -> Setter {
    return [&field](const std::string& v) -> Status {
      field.push_back(v);
      return {};
    };
  };
  const std::map<std::string, Setter> values = {
      {"--id", text(o.id)},
      {"--bundle", text(o.bundle)},
      {"--state-dir", text(o.state_dir)},
      {"--runtime", text(o.runtime)},
      {"--runtime-arg", list(o.runtime_args)},
      {"--log-path", text(o.log_path)},
      {"--exit-command", text(o.exit_command)},
      {"--exit-arg", list(o.exit_args)},
      {"--exec-id", text(o.exec_id)},
      {"--network-helper", text(o.network_helper)},
      {"--network-helper-bin", text(o.network_helper_bin)},
      {"--network-helper-arg", list(o.network_helper_args)},
      {"--publish", list(o.publish)},
      {"--port-handler", text(o.port_handler)},
      {"--process", text(o.process_json)},
      {"--notify-socket", text(o.notify_socket)},
      {"--log-driver",
       [&](const std::string& v) -> Status {
         TRY_ASSIGN(d, driver_value(v));
         o.log_driver = d;
         return {};
       }},
      {"--log-max-size",
       [&](const std::string& v) -> Status {
         TRY_ASSIGN(n, size_value(v));
         o.log_max_size = n;
         return {};
       }},
      {"--log-max-files",
       [&](const std::string& v) -> Status {
         TRY_ASSIGN(n, number("--log-max-files", v, 1000));
         o.log_max_files = static_cast<unsigned>(n);
         return {};
       }},
      {"--sync-fd",
       [&](const std::string& v) -> Status {
         TRY_ASSIGN(n, number("--sync-fd", v, 65535));
         o.sync_fd = static_cast<int>(n);
         return {};
       }},
      {"--timeout",
       [&](const std::string& v) -> Status {
         TRY_ASSIGN(n, number("--timeout", v, 100000000));
         o.timeout = static_cast<unsigned>(n);
         return {};
       }},
  };
  const std::map<std::string, bool*> flags = {
      {"--terminal", &o.terminal}, {"--stdin", &o.stdin}, {"--start", &o.start}, {"--exec", &o.exec},
      {"--notify-main-pid", &o.notify_main_pid}};
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    bool inline_value = false;
    if (auto eq = name.find('='); starts_with(name, "--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (auto flag = flags.find(name); flag != flags.end() && !inline_value) {
      *flag->second = true;
    } else if (auto setter = values.find(name); setter != values.end()) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return bad(name + " needs a value");
        value = args[++i];
      }
      TRY(setter->second(value));
    } else {
      return bad("unknown argument \"" + args[i] + "\"\n" + usage());
    }
  }
  TRY(validate(o, self));
  return o;
}

}  // namespace ctr::shim
