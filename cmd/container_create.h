// What `ctr create` and `ctr run` share: their flags and making a container
// (storage, config.json, ctr.json) under the store lock.
#pragma once

#include <string>
#include <vector>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/container_spec.h"
#include "cmd/volume_flags.h"

namespace ctr::cmd {

struct CreateFlags {
  std::string name;
  std::vector<std::string> env;
  std::string workdir, user, entrypoint, hostname;
  bool workdir_set = false, user_set = false, entrypoint_set = false, hostname_set = false;
  std::string log_driver = "k8s-file";
  std::vector<std::string> log_opts;
  unsigned timeout = 0;
  std::string restart = "no";  // --restart POLICY (container_restart.h)
  bool rm = false, tty = false, interactive = false;
  bool init = false;  // --init: ctr-init as PID 1
  std::string image;
  std::vector<std::string> command;
  // Environment, metadata and security (container_spec.h, spec_security.h).
  std::vector<std::string> env_files, labels, label_files, annotations;
  bool env_host = false;
  std::string stop_signal, userns;
  unsigned stop_timeout = 10;
  bool stop_signal_set = false, stop_timeout_set = false;
  SecurityFlags security;
  MountFlags mount_flags;  // -v, --mount, --tmpfs (volume_flags.h)
  // --replace (remove a container of the same --name first), --cidfile FILE
  // (the new ID, written atomically; an existing FILE is an error), --pull.
  bool replace = false;
  std::string cidfile;
  std::string pull = "missing";
};

// Registers the shared flags on `sub` (and IMAGE, with the command taken
// from what prefix_command leaves: see take_command).
void add_create_flags(Cli& cli, CLI::App& sub, CreateFlags& flags);
// Fills flags.command (the words after IMAGE) and the *_set markers.
void finish_create_flags(CLI::App& sub, CreateFlags& flags);

// Makes the container; returns its record.
Result<ContainerRecord> create_container(Context& ctx, const CreateFlags& flags);

// "max-size=10m" -> bytes, for --log-opt (k, m, g suffixes).
Result<uint64_t> parse_size(const std::string& text);

}  // namespace ctr::cmd
