#include "cmd/container_create.h"

#include <ctime>

#include "image/container_layers.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

Status apply_log_opts(const CreateFlags& flags, ContainerRecord& record) {
  for (const auto& opt : flags.log_opts) {
    auto eq = opt.find('=');
    std::string key = opt.substr(0, eq), value = eq == std::string::npos ? "" : opt.substr(eq + 1);
    if (eq == std::string::npos || value.empty())
      return make_error("invalid --log-opt `" + opt + "`: use KEY=VALUE (path, max-size, max-file)", EINVAL);
    if (key == "path") {
      if (value[0] != '/') return make_error("--log-opt path=`" + value + "` must be an absolute path", EINVAL);
      record.log_path = value;
    } else if (key == "max-size") {
      TRY_ASSIGN(size, parse_size(value));
      record.log_max_size = size;
    } else if (key == "max-file") {
      auto files = parse_u64(value);
      if (!files || *files == 0 || *files > 1000)
        return make_error("invalid --log-opt max-file=`" + value + "`: use a number from 1 to 1000", EINVAL);
      record.log_max_files = static_cast<unsigned>(*files);
    } else {
      return make_error("unknown --log-opt `" + key + "`: known options are path, max-size and max-file", EINVAL);
    }
  }
  return {};
}

// Under the store lock: storage, config.json, ctr.json (last: a container
// without it is not shown, so a crash in between leaves nothing visible).
Status make_container(image::Store& store, const image::ImageRecord& image, const CreateFlags& flags,
                      image::Driver driver, bool single_id, ContainerRecord& record) {
  TRY(image::create_container_layer(store, record.id, image, driver, flags.image));
  auto undo = [&](Error error) -> Status {
    (void)image::remove_container_layer(store, record.id);
    return error;
  };
  ProcessFlags process;
  process.env = flags.env;
  if (flags.workdir_set) process.workdir = flags.workdir;
  if (flags.user_set) process.user = flags.user;
  if (flags.entrypoint_set) process.entrypoint = flags.entrypoint;
  if (flags.hostname_set) process.hostname = flags.hostname;
  process.command = flags.command;
  process.tty = flags.tty;
  auto paths = image::container_paths(store, record.id);
  auto spec = build_spec(store, image, process, record.id, paths.merged, single_id);
  if (!spec) return undo(std::move(spec).error());
  record.command = spec->args;
  record.stop_signal = spec->stop_signal;
  if (auto written = write_file_atomic(paths.dir + "/config.json", spec->json, 0600); !written)
    return undo(std::move(written).error());
  if (auto written = write_record(store, record); !written) return undo(std::move(written).error());
  return {};
}

}  // namespace

Result<uint64_t> parse_size(const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty()) {
    char last = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    if (last == 'b') digits.pop_back();
    last = digits.empty() ? 0 : static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    if (last == 'k') unit = 1024;
    if (last == 'm') unit = 1024 * 1024;
    if (last == 'g') unit = 1024ULL * 1024 * 1024;
    if (unit != 1) digits.pop_back();
  }
  auto value = parse_u64(digits);
  if (!value || *value == 0) return make_error("invalid size `" + text + "`: use a number with k, m or g", EINVAL);
  return *value * unit;
}

void add_create_flags(Cli& cli, CLI::App& sub, CreateFlags& flags) {
  // Everything after IMAGE is the container's command (`ctr run img sh -c ...`).
  sub.prefix_command();
  sub.fallthrough(false);
  cli.value(sub, "--name", flags.name, "Assign a name to the container", Completer::none);
  cli.value(sub, "-e,--env", flags.env, "Set environment variables (KEY=VALUE, or KEY to pass ctr's value)",
            Completer::none);
  cli.value(sub, "-w,--workdir", flags.workdir, "Working directory inside the container", Completer::none);
  cli.value(sub, "-u,--user", flags.user, "User (name or UID, optionally :group) to run as", Completer::none);
  cli.value(sub, "--entrypoint", flags.entrypoint, "Overwrite the image's ENTRYPOINT (\"\" clears it)",
            Completer::commands);
  cli.value(sub, "--hostname", flags.hostname, "Container host name (default: the short ID)", Completer::none);
  cli.value(sub, "--log-driver", flags.log_driver, "Logging driver: k8s-file, json-file or none",
            Completer::log_drivers)
      ->check(CLI::IsMember({"k8s-file", "json-file", "none"}));
  cli.value(sub, "--log-opt", flags.log_opts, "Logging option: path=FILE, max-size=SIZE, max-file=N", Completer::none);
  cli.value(sub, "--timeout", flags.timeout, "Kill the container after this many seconds (0: never)", Completer::none);
  sub.add_flag("--rm", flags.rm, "Remove the container when it exits");
  sub.add_flag("-t,--tty", flags.tty, "Allocate a pseudo-TTY");
  sub.add_flag("-i,--interactive", flags.interactive, "Keep STDIN open");
  cli.value(sub, "image", flags.image, "Image to create the container from, then the command and its arguments",
            Completer::images)
      ->required();
}

void finish_create_flags(CLI::App& sub, CreateFlags& flags) {
  flags.command = sub.remaining();
  flags.workdir_set = sub.count("--workdir") > 0;
  flags.user_set = sub.count("--user") > 0;
  flags.entrypoint_set = sub.count("--entrypoint") > 0;
  flags.hostname_set = sub.count("--hostname") > 0;
}

Result<ContainerRecord> create_container(Context& ctx, const CreateFlags& flags) {
  if (!flags.name.empty()) TRY(validate_name(flags.name));
  ContainerRecord record;
  record.image_name = flags.image;
  record.rm = flags.rm;
  record.tty = flags.tty;
  record.stdin = flags.interactive;
  record.log_driver = flags.log_driver;
  record.timeout = flags.timeout;
  TRY(apply_log_opts(flags, record));
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(maps, ctx.maps());
  TRY_ASSIGN(driver, ctx.driver());
  TRY_ASSIGN(image, store->find_image(flags.image));
  record.image_id = image.id;
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(existing, list_records(*store));
  for (const auto& other : existing)
    if (!flags.name.empty() && other.name == flags.name)
      return make_error("the container name \"" + flags.name + "\" is already in use by " + other.id +
                            ". You have to remove that container to be able to reuse that name: that name is already "
                            "in use",
                        EEXIST);
  record.name = flags.name.empty() ? generate_name(existing) : flags.name;
  record.id = new_container_id();
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  record.created = now.tv_sec;
  record.created_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  if (record.log_path.empty()) record.log_path = container_dir(*store, record.id) + "/ctr.log";
  TRY(make_container(*store, image, flags, driver.driver, maps->single_id, record));
  return record;
}

}  // namespace ctr::cmd
