// The `ctr volume` commands (one file each) and what they share.
#pragma once

#include <string>

#include "cmd/app.h"
#include "cmd/output.h"
#include "cmd/volume_store.h"

namespace ctr::cmd {

void add_volume_create(Cli& cli, CLI::App& parent);
void add_volume_ls(Cli& cli, CLI::App& parent);
void add_volume_inspect(Cli& cli, CLI::App& parent);
void add_volume_rm(Cli& cli, CLI::App& parent);
void add_volume_prune(Cli& cli, CLI::App& parent);

// podman's volume object (inspect, ls --format json).
Json volume_json(const image::Store& store, const Volume& volume);

}  // namespace ctr::cmd
