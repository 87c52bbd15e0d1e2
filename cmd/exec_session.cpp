#include "cmd/exec_session.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cmd/container_spec.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

using ojson = nlohmann::ordered_json;

std::string env_key(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

// Later entries replace earlier ones of the same key.
void set_env(std::vector<std::string>& env, const std::string& entry) {
  for (auto& e : env)
    if (env_key(e) == env_key(entry)) {
      e = entry;
      return;
    }
  env.push_back(entry);
}

// KEY=VALUE as given, or KEY with ctr's value (nothing when unset, as podman).
Status add_env(std::vector<std::string>& env, const std::string& entry, const std::string& origin) {
  if (entry.empty() || entry[0] == '=')
    return make_error("invalid environment variable `" + entry + "` in " + origin + ": use KEY=VALUE", EINVAL);
  if (entry.find('=') != std::string::npos) {
    set_env(env, entry);
  } else if (const char* value = std::getenv(entry.c_str())) {
    set_env(env, entry + "=" + value);
  }
  return {};
}

}  // namespace

Result<std::string> exec_process_json(const std::string& config_json, const ExecProcessFlags& flags,
                                      const std::string& passwd, const std::string& group) {
  if (flags.command.empty())
    return make_error("must provide a non-empty command to start an exec session: give it after the container",
                      EINVAL);
  ojson config;
  try {
    config = ojson::parse(config_json);
  } catch (const std::exception& error) {
    return make_error(std::string("the container's config.json is not JSON: ") + error.what(), EINVAL);
  }
  if (!config.contains("process") || !config["process"].is_object())
    return make_error("the container's config.json has no process", EINVAL);
  ojson process = config["process"];
  process["args"] = flags.command;
  process["terminal"] = flags.tty;
  std::vector<std::string> env;
  if (process.contains("env") && process["env"].is_array())
    for (const auto& e : process["env"])
      if (e.is_string()) env.push_back(e.get<std::string>());
  if (flags.tty && std::none_of(env.begin(), env.end(), [](const auto& e) { return env_key(e) == "TERM"; }))
    env.push_back("TERM=xterm");
  for (const auto& entry : flags.env_file_entries) TRY(add_env(env, entry, "--env-file"));
  for (const auto& entry : flags.env) TRY(add_env(env, entry, "-e"));
  process["env"] = env;
  if (flags.workdir) {
    if (flags.workdir->empty() || (*flags.workdir)[0] != '/')
      return make_error("working directory `" + *flags.workdir + "` must be an absolute path", EINVAL);
    process["cwd"] = *flags.workdir;
  }
  if (flags.user) {
    TRY_ASSIGN(user, resolve_user(*flags.user, passwd, group));
    ojson user_json = {{"uid", user.uid}, {"gid", user.gid}};
    if (!user.additional_gids.empty()) user_json["additionalGids"] = user.additional_gids;
    process["user"] = user_json;
    // As at create: root starts with its effective capabilities, anyone else without.
    if (process.contains("capabilities") && process["capabilities"].is_object()) {
      auto& caps = process["capabilities"];
      caps["effective"] = user.uid == 0 && caps.contains("permitted") ? caps["permitted"] : ojson::array();
    }
  }
  return process.dump(2) + "\n";
}

}  // namespace ctr::cmd
