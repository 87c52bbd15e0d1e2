// What `ctr create` and `ctr run` share: their flags and making a container
// (storage, config.json, ctr.json) under the store lock.
#pragma once

#include <string>
#include <vector>

#include "cmd/app.h"
#include "cmd/cgroup_flags.h"
#include "cmd/container_record.h"
#include "cmd/container_spec.h"
#include "cmd/network_flags.h"
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
  // IMAGE and every word after it, as parsed (finish_create_flags splits it).
  std::vector<std::string> image_and_command;
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
  std::string sdnotify = "container";  // --sdnotify (sdnotify.h)
  NetworkFlags network;  // --network, -p, --dns ... (network_flags.h)
  ResourceFlags resources;  // --memory ... --oom-score-adj, --cgroups, --cgroup-parent (cgroup_flags.h)
};

// Registers the shared flags on `sub` and IMAGE: IMAGE and every word after
// it go to image_and_command unparsed (podman's SetInterspersed(false)).
void add_create_flags(Cli& cli, CLI::App& sub, CreateFlags& flags);
// Splits image_and_command into image and command and fills the *_set
// markers. Words before IMAGE that CLI11 did not know (left in remaining())
// are refused: "unknown flag: --bogus" (podman), never passed on as the
// container's command.
Status finish_create_flags(CLI::App& sub, CreateFlags& flags);
// The message for the first unknown word before IMAGE (`left`: what the
// parser left over; "--" marks are fine), or nothing.
std::string unknown_create_flag(const std::vector<std::string>& left, const std::string& command_path);

// Makes the container; returns its record.
Result<ContainerRecord> create_container(Context& ctx, const CreateFlags& flags);

// "max-size=10m" -> bytes, for --log-opt (k, m, g suffixes).
Result<uint64_t> parse_size(const std::string& text);

}  // namespace ctr::cmd
