// ctr create [flags] IMAGE [COMMAND [ARG...]]: makes a container (storage,
// config.json, record) without starting it; prints its ID, as podman does.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_create.h"

namespace ctr::cmd {

void add_create(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("create", "Create but do not start a container");
  auto flags = std::make_shared<CreateFlags>();
  add_create_flags(cli, *sub, *flags);
  cli.on_run(*sub, [&cli, flags, sub] {
    if (auto finished = finish_create_flags(*sub, *flags); !finished) return fail(finished.error());
    auto record = create_container(cli.ctx, *flags);
    if (!record) return fail(record.error());
    std::cout << record->id << std::endl;
    return 0;
  });
}

}  // namespace ctr::cmd
