#include "cmd/app.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>

#include "cmd/command_filter.h"
#include "cmd/complete.h"
#include "image/container_layers.h"

namespace ctr::cmd {

std::string Context::store_root() const {
  // CLI11 already folded CTR_STORAGE_ROOT into `root` (->envname); the
  // library's default covers the rest.
  return root.empty() ? image::Store::default_root() : root;
}

Result<image::Store*> Context::store() {
  if (!store_) {
    auto opened = image::Store::open(store_root());
    if (!opened) return std::move(opened).error().context("opening the image store at `" + store_root() + "`");
    store_.emplace(std::move(opened).value());
  }
  return &*store_;
}

Result<const userns::StoreMaps*> Context::maps() {
  if (!maps_) {
    auto maps = userns::store_maps();
    if (!maps) return std::move(maps).error();
    maps_.emplace(std::move(maps).value());
    // Said once per command, as podman does for the same condition.
    if (maps_->single_id && !maps_->warning.empty()) warn(maps_->warning);
  }
  return &*maps_;
}

Result<image::DriverChoice> Context::driver(image::DriverProbe* probe) {
  TRY_ASSIGN(opened, store());
  TRY_ASSIGN(id_maps, maps());
  return image::choose_driver(*opened, *id_maps, storage_driver, probe);
}

void export_runroot(const std::string& dir) {
  if (dir.empty()) return;
  std::string absolute = dir;
  if (absolute[0] != '/') {
    // Relative to where ctr was started; the shim runs elsewhere.
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) absolute = std::string(cwd) + "/" + dir;
  }
  ::setenv("CTR_RUNROOT", absolute.c_str(), 1);
}

void Cli::on_run(CLI::App& sub, std::function<int()> run) {
  sub.callback([this, run = std::move(run)] { ctx.exit_code = run(); });
}

int fail(const Error& error) {
  return fail(error.message);
}

int fail(const std::string& message) {
  std::cerr << "Error: " << message << std::endl;
  return kExitError;
}

void warn(const std::string& message) {
  std::cerr << "WARN[0000] " << message << std::endl;
}

bool stdout_is_tty() {
  return ::isatty(STDOUT_FILENO) == 1;
}
bool stderr_is_tty() {
  return ::isatty(STDERR_FILENO) == 1;
}

std::vector<std::string> images_in_use(const image::Store& store) {
  auto users = image::image_users(store);
  if (!users) {
    warn(users.error().message);
    return {};
  }
  std::vector<std::string> ids;
  for (const auto& [image, containers] : *users) ids.push_back(image);
  return ids;
}

namespace {

// Set only while build_narrowed_cli registers commands: which Cli is being
// narrowed, to what, and whether a command under the first word was left out.
const Cli* g_narrowed = nullptr;
const std::vector<std::string>* g_words = nullptr;
bool g_pruned_second = false;

// The direct subcommand called `name` (or aliased so); CLI11's
// get_subcommand_ptr throws when there is none.
const CLI::App* find_subcommand(const CLI::App& parent, const std::string& name) {
  for (const CLI::App* sub : parent.get_subcommands([](const CLI::App*) { return true; }))
    if (sub->check_name(name)) return sub;
  return nullptr;
}

}  // namespace

bool wants_command(const Cli& cli, const CLI::App& parent, std::string_view name) {
  if (&cli != g_narrowed || g_words->empty()) return true;
  const std::vector<std::string>& words = *g_words;
  if (&parent == &cli.app) return name == words[0];
  if (words.size() < 2 || parent.get_parent() != &cli.app || parent.get_name() != words[0]) return true;
  if (name == words[1]) return true;
  g_pruned_second = true;
  return false;
}

namespace {

void add_global_flags(Cli* cli) {
  CLI::App& app = cli->app;
  app.set_help_flag("-h,--help", "Show help for a command");
  app.require_subcommand(0, 1);
  // Global flags are accepted after the command too (`ctr images --root X`), as podman's are.
  app.fallthrough(true);
  cli->value(app, "--root,--storage", cli->ctx.root,
             "Image and container storage directory (default $XDG_DATA_HOME/ctr; /var/lib/ctr as root)",
             Completer::directories)
      ->envname("CTR_STORAGE_ROOT");
  // Exported at once: the state root is read by code without a Context, and
  // the shim's exit command (`ctr container cleanup`) inherits it.
  cli->value(app, "--runroot", cli->ctx.runroot,
             "Directory for runtime state: shims, OCI runtime (default $XDG_RUNTIME_DIR/ctr; /run/ctr as root)",
             Completer::directories)
      ->each([](const std::string& dir) { export_runroot(dir); });
  cli->value(app, "--log-level", cli->ctx.log_level, "Log messages at and above this level", Completer::fixed,
             {"debug", "info", "warn", "error"})
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  // Not CLI11's envname: the library reads CTR_STORAGE_DRIVER itself, so
  // `ctr info` can say which setting chose the driver.
  cli->value(app, "--storage-driver", cli->ctx.storage_driver,
             "Root file system driver for containers: overlay, fuse-overlayfs or vfs (default: "
             "$CTR_STORAGE_DRIVER, storage.conf, else the first that works)",
             Completer::fixed, {"overlay", "fuse-overlayfs", "vfs"})
      ->check(CLI::IsMember({"overlay", "fuse-overlayfs", "vfs"}));

  cli->value(app, "--cgroup-manager", cli->ctx.cgroup_manager,
             "Cgroup manager for new containers: systemd, cgroupfs or none (default: systemd with a user bus, "
             "else cgroupfs where our cgroup is delegated, else none)",
             Completer::fixed, {"systemd", "cgroupfs", "none"})
      ->check(CLI::IsMember({"systemd", "cgroupfs", "none"}));
}

// The commands, each guarded by wants_command (command_filter.h).
void add_commands(Cli* cli) {
  CLI::App& app = cli->app;
  if (wants_command(*cli, app, "images")) add_images(*cli, app, "images");
  if (wants_command(*cli, app, "import")) add_import(*cli, app);
  if (wants_command(*cli, app, "info")) add_info(*cli, app);
  if (wants_command(*cli, app, "load")) add_load(*cli, app);
  if (wants_command(*cli, app, "rmi")) add_rmi(*cli, app, "rmi");
  if (wants_command(*cli, app, "save")) add_save(*cli, app);
  if (wants_command(*cli, app, "tag")) add_tag(*cli, app);
  if (wants_command(*cli, app, "unshare")) add_unshare(*cli, app);
  if (wants_command(*cli, app, "version")) add_version(*cli, app);
  add_container_commands(*cli, app);  // guards its own
  if (wants_command(*cli, app, "completion")) add_completion(*cli, app);

  if (wants_command(*cli, app, "image")) {
    CLI::App* image = app.add_subcommand("image", "Manage images");
    image->require_subcommand(1);
    if (wants_command(*cli, *image, "inspect")) add_image_inspect(*cli, *image);
    if (wants_command(*cli, *image, "import")) add_import(*cli, *image);
    if (wants_command(*cli, *image, "load")) add_load(*cli, *image);
    if (wants_command(*cli, *image, "ls")) add_images(*cli, *image, "ls");
    if (wants_command(*cli, *image, "prune")) add_image_prune(*cli, *image);
    if (wants_command(*cli, *image, "rm")) add_rmi(*cli, *image, "rm");
    if (wants_command(*cli, *image, "save")) add_save(*cli, *image);
    if (wants_command(*cli, *image, "tag")) add_tag(*cli, *image);
  }

  if (wants_command(*cli, app, "system")) {
    CLI::App* system = app.add_subcommand("system", "Manage ctr");
    system->require_subcommand(1);
    if (wants_command(*cli, *system, "df")) add_system_df(*cli, *system);
    if (wants_command(*cli, *system, "info")) add_info(*cli, *system);
    if (wants_command(*cli, *system, "prune")) add_system_prune(*cli, *system);
  }
  // Last, so every command above (and any added later) gets its examples.
  add_help_examples(app);
}

}  // namespace

std::unique_ptr<Cli> build_cli() {
  auto cli = std::make_unique<Cli>();
  add_global_flags(cli.get());
  add_commands(cli.get());
  return cli;
}

std::unique_ptr<Cli> build_narrowed_cli(const std::vector<std::string>& words) {
  if (words.empty()) return nullptr;
  auto cli = std::make_unique<Cli>();
  add_global_flags(cli.get());
  g_narrowed = cli.get();
  g_words = &words;
  g_pruned_second = false;
  add_commands(cli.get());
  g_narrowed = nullptr;
  g_words = nullptr;
  const CLI::App* top = find_subcommand(cli->app, words[0]);
  if (!top) return nullptr;
  // In a group whose commands were narrowed, the second word must be one of them.
  if (g_pruned_second && !find_subcommand(*top, words[1])) return nullptr;
  return cli;
}

std::vector<std::string> command_words(const CLI::App& globals, int argc, char** argv) {
  int at = 1;
  for (; at < argc && argv[at][0] == '-'; ++at) {
    std::string_view arg = argv[at];
    size_t equals = arg.find('=');
    const CLI::Option* option = globals.get_option_no_throw(std::string(arg.substr(0, equals)));
    if (!option || option == globals.get_help_ptr()) return {};  // --help, -- or unknown: the whole tree
    if (option->get_items_expected_min() > 0 && equals == std::string_view::npos) ++at;  // its value
  }
  if (at >= argc) return {};
  std::string first = argv[at];
  if (first == "help" || first == "completion" || first.rfind("__", 0) == 0) return {};
  std::vector<std::string> words{first};
  if (at + 1 < argc && argv[at + 1][0] != '-') words.emplace_back(argv[at + 1]);
  return words;
}

namespace {

// The innermost command that was given, for messages.
const CLI::App* selected_command(const CLI::App& app) {
  const CLI::App* at = &app;
  for (;;) {
    auto chosen = at->get_subcommands();
    if (chosen.empty()) return at;
    at = chosen.front();
  }
}

std::string command_path(const CLI::App* app) {
  std::string path;
  for (; app; app = app->get_parent()) path = app->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

// podman's wording: "unknown flag: --x", "unrecognized command `ctr x`".
std::string describe_extras(const CLI::App& app, const CLI::ExtrasError& error) {
  const CLI::App* command = selected_command(app);
  std::vector<std::string> extras = command->remaining();
  if (extras.empty()) extras = app.remaining();
  if (extras.empty()) return error.what();
  const std::string& first = extras.front();
  if (!first.empty() && first[0] == '-')
    return "unknown flag: " + first + " (see '" + command_path(command) + " --help')";
  if (command == &app) return "unrecognized command `ctr " + first + "` (see 'ctr --help')";
  return "unexpected argument `" + first + "` for `" + command_path(command) + "` (see '" + command_path(command) +
         " --help')";
}

}  // namespace

int run_cli(int argc, char** argv) {
  // Never freed: the process ends right after, and tearing the tree of ~100
  // commands down costs as much as building it (ctr runs twice per
  // container start: `run` and the shim's exit command).
  Cli* cli = nullptr;
  {
    Cli globals;
    add_global_flags(&globals);
    cli = build_narrowed_cli(command_words(globals.app, argc, argv)).release();
  }
  if (!cli) cli = build_cli().release();
  CLI::App& app = cli->app;
  // `__complete` and `__man` take other commands' words: not for the parser.
  if (int code = 0; run_hidden_command(*cli, argc, argv, code)) return code;
  if (argc <= 1) {
    std::cout << app.help();
    return fail(std::string("missing command 'ctr COMMAND'"));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& error) {
    return fail(describe_extras(app, error));
  } catch (const CLI::RequiredError& error) {
    // `ctr image lss`: the unknown word is left over where a command was required.
    const CLI::App* command = selected_command(app);
    std::vector<std::string> left = app.remaining(true);
    if (!left.empty() && command->get_require_subcommand_min() > 0)
      return fail("unrecognized command `" + command_path(command) + " " + left.front() + "` (see '" +
                  command_path(command) + " --help')");
    if (command->get_require_subcommand_min() > 0 && command->get_subcommands().empty()) {
      std::cout << command->help();
      return fail("missing command '" + command_path(command) + " COMMAND'");
    }
    return fail(std::string(error.what()));
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help
    std::cerr << "Error: " << error.what() << "\nSee 'ctr --help'." << std::endl;
    return kExitError;
  } catch (const std::exception& error) {
    return fail(std::string(error.what()));
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return fail(std::string("missing command 'ctr COMMAND'"));
  }
  return cli->ctx.exit_code;
}

}  // namespace ctr::cmd
