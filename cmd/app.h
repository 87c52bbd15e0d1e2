// The ctr command line: global flags, the command table, and what every
// command shares (the store, opened lazily; the user-namespace maps, read
// once; podman's error and exit-code conventions).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cmd/completion_kinds.h"
#include "image/rootfs_driver.h"
#include "image/store.h"
#include "runtime/base/result.h"
#include "userns/run_in_userns.h"

namespace ctr::cmd {

// Exit codes as podman's: 125 ctr itself failed, 126 the command could not
// be invoked, 127 it was not found; anything else is the command's status.
inline constexpr int kExitError = 125;
inline constexpr int kExitCannotInvoke = 126;
inline constexpr int kExitNotFound = 127;

class Context {
 public:
  std::string root;  // --root/--storage; "" = CTR_STORAGE_ROOT or the default
  std::string log_level = "warn";
  std::string storage_driver;  // --storage-driver; "" = $CTR_STORAGE_DRIVER, storage.conf, or automatic
  std::string runroot;         // --runroot; exported as $CTR_RUNROOT (see runtime_state_root)
  std::string cgroup_manager;  // --cgroup-manager; "" = automatic (cmd/cgroup_flags.h)
  int exit_code = 0;

  // The store root that commands use (no I/O).
  std::string store_root() const;
  // Opens the store on first use only: `ctr version` and `ctr --help` never touch it.
  Result<image::Store*> store();
  // The store's ID maps, read once; the single-ID warning is printed the first time.
  Result<const userns::StoreMaps*> maps();
  // The root file system driver for new containers: the override (flag,
  // env, storage.conf) when usable, else the first that works here.
  Result<image::DriverChoice> driver(image::DriverProbe* probe = nullptr);

 private:
  std::optional<image::Store> store_;
  std::optional<userns::StoreMaps> maps_;
};

struct Cli {
  CLI::App app{"ctr: rootless, daemonless containers", "ctr"};
  Context ctx;
  CompleterRegistry completers;

  // Adds a value option / positional with its completer (see completion_kinds.h).
  template <typename T>
  CLI::Option* value(CLI::App& sub, const std::string& name, T& target, const std::string& description, Completer kind,
                     std::vector<std::string> choices = {}) {
    return add_value(completers, sub, name, target, description, kind, std::move(choices));
  }
  // Runs `run` when `sub` is the command given; its return value is the exit code.
  void on_run(CLI::App& sub, std::function<int()> run);
};

// Builds the whole command tree without parsing or running anything (for
// main and for tests that inspect the tree).
std::unique_ptr<Cli> build_cli();
// Parses and runs; returns the process exit code.
int run_cli(int argc, char** argv);

// --runroot DIR: sets $CTR_RUNROOT (absolute) for this process and its children.
void export_runroot(const std::string& dir);
// "Error: <message>" on stderr; returns 125.
int fail(const Error& error);
int fail(const std::string& message);
// A warning on stderr in podman's style: `WARN[0000] message`.
void warn(const std::string& message);
// True when stdout/stderr is a terminal.
bool stdout_is_tty();
bool stderr_is_tty();

// The command table: one function per command file.
void add_load(Cli& cli, CLI::App& parent);
void add_import(Cli& cli, CLI::App& parent);
void add_save(Cli& cli, CLI::App& parent);
void add_images(Cli& cli, CLI::App& parent, const std::string& name);  // "images", or "ls" under `image`
void add_image_inspect(Cli& cli, CLI::App& parent);
void add_rmi(Cli& cli, CLI::App& parent, const std::string& name);  // "rmi", or "rm" under `image`
void add_tag(Cli& cli, CLI::App& parent);
void add_image_prune(Cli& cli, CLI::App& parent);
void add_system_df(Cli& cli, CLI::App& parent);
void add_info(Cli& cli, CLI::App& parent);
void add_unshare(Cli& cli, CLI::App& parent);
void add_version(Cli& cli, CLI::App& parent);
// Containers (container_commands.cpp registers them at the top level and under `container`).
void add_container_commands(Cli& cli, CLI::App& app);
void add_create(Cli& cli, CLI::App& parent);
void add_run(Cli& cli, CLI::App& parent);
void add_start(Cli& cli, CLI::App& parent);
void add_ps(Cli& cli, CLI::App& parent, const std::string& name);  // "ps", or "ls"/"ps" under `container`
void add_logs(Cli& cli, CLI::App& parent);
void add_stop(Cli& cli, CLI::App& parent);
void add_kill(Cli& cli, CLI::App& parent);
void add_pause(Cli& cli, CLI::App& parent);
void add_unpause(Cli& cli, CLI::App& parent);
void add_update(Cli& cli, CLI::App& parent);
void add_stats(Cli& cli, CLI::App& parent);
void add_rm(Cli& cli, CLI::App& parent);
void add_wait(Cli& cli, CLI::App& parent);
void add_container_cleanup(Cli& cli, CLI::App& parent);
void add_exec(Cli& cli, CLI::App& parent);
void add_exec_cleanup(Cli& cli, CLI::App& parent);  // hidden, under `container`
void add_attach(Cli& cli, CLI::App& parent);
void add_top(Cli& cli, CLI::App& parent);
void add_cp(Cli& cli, CLI::App& parent);
void add_export(Cli& cli, CLI::App& parent);
// `ctr volume ...` (volume.cpp), registered with the container commands.
void add_volume_commands(Cli& cli, CLI::App& app);
void add_inspect(Cli& cli, CLI::App& parent);            // `ctr inspect`: containers and images
void add_container_inspect(Cli& cli, CLI::App& parent);  // `ctr container inspect`
void add_rename(Cli& cli, CLI::App& parent);
void add_port(Cli& cli, CLI::App& parent);  // `ctr port` (port.cpp)
void add_restart(Cli& cli, CLI::App& parent);
void add_container_prune(Cli& cli, CLI::App& parent);  // `ctr container prune`
void add_system_prune(Cli& cli, CLI::App& parent);     // `ctr system prune`
// `ctr generate systemd` (generate_systemd.cpp), registered with the container commands.
void add_generate_commands(Cli& cli, CLI::App& app);

// IDs of the images that containers were created from (removing them needs
// -f). An unreadable container record is warned about and counts as none.
std::vector<std::string> images_in_use(const image::Store& store);

}  // namespace ctr::cmd
