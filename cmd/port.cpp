// ctr port [-a] [-l] CONTAINER [PORT[/PROTO]]: the published ports of
// running containers, as podman prints them ("80/tcp -> 127.0.0.1:8080",
// or only "127.0.0.1:8080" for one PORT; -a prefixes the short ID).
// Containers that are not running publish nothing, so they list nothing
// (podman); asking one for a given port is an error saying so.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/publish.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct PortFlags {
  bool all = false, latest = false;
  std::string container, port;
};

struct PortQuery {
  unsigned port = 0;
  std::string protocol = "tcp";
  std::string text;
};

Result<PortQuery> parse_port_query(const std::string& text) {
  PortQuery query;
  query.text = text;
  auto fields = split(text, '/');
  if (fields.size() > 2) return make_error("port formats are port/protocol. '" + text + "' is invalid", EINVAL);
  auto number = parse_u64(fields[0]);
  if (!number || *number < 1 || *number > 65535)
    return make_error("invalid port \"" + fields[0] + "\": use a number from 1 to 65535", EINVAL);
  query.port = static_cast<unsigned>(*number);
  if (fields.size() == 2) {
    query.protocol = fields[1];
    for (auto& c : query.protocol) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return query;
}

// The newest container (-l), in any state.
Result<ContainerRecord> latest_record(const image::Store& store) {
  TRY_ASSIGN(records, list_records(store));
  if (records.empty()) return make_error("no containers to show ports of", ENOENT);
  const ContainerRecord* newest = &records.front();
  for (const auto& record : records)
    if (record.created_ns > newest->created_ns) newest = &record;
  return *newest;
}

Status show_ports(Context& ctx, PortFlags flags) {
  if (flags.all && !flags.container.empty()) return make_error("no arguments are needed with --all", EINVAL);
  if (flags.all && flags.latest) return make_error("--all and --latest cannot be used together", EINVAL);
  if (flags.latest) {
    if (!flags.port.empty()) return make_error("`port` accepts at most 2 arguments", EINVAL);
    flags.port = flags.container;
  }
  if (!flags.all && !flags.latest && flags.container.empty())
    return make_error("you must supply a running container name or id", EINVAL);
  std::optional<PortQuery> query;
  if (!flags.port.empty()) {
    TRY_ASSIGN(parsed, parse_port_query(flags.port));
    query = parsed;
  }
  TRY_ASSIGN(store, ctx.store());
  std::vector<ContainerRecord> records;
  if (flags.all) {
    TRY_ASSIGN(all, list_records(*store));
    records = std::move(all);
  } else {
    TRY_ASSIGN(record, flags.latest ? latest_record(*store) : find_record(*store, flags.container));
    records.push_back(std::move(record));
  }
  for (const auto& record : records) {
    bool running = live_status(record).state == "running";
    if (!running && query)
      return make_error("container " + record.name + " is not running: its ports are published only while it runs",
                        EINVAL);
    if (!running) continue;
    auto ports = record_port_mappings(record.ports);
    std::string prefix = flags.all ? record.id.substr(0, 12) + "\t" : "";
    if (!query) {
      for (const auto& line : port_lines(ports)) std::cout << prefix << line << "\n";
      continue;
    }
    std::string host = published_host_port(ports, query->port, query->protocol);
    if (host.empty()) return make_error("failed to find published port \"" + query->text + "\"", ENOENT);
    std::cout << prefix << host << "\n";
  }
  std::cout.flush();
  return {};
}

}  // namespace

void add_port(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("port", "List the published ports of a container");
  auto flags = std::make_shared<PortFlags>();
  sub->add_flag("-a,--all", flags->all, "Show the ports of every running container");
  sub->add_flag("-l,--latest", flags->latest, "Use the latest container created (the argument is then PORT)");
  cli.value(*sub, "container", flags->container, "Container (name, ID or ID prefix)", Completer::running_containers);
  cli.value(*sub, "port", flags->port, "Only this container port: PORT[/tcp|/udp] (tcp when not given)",
            Completer::none);
  cli.on_run(*sub, [&cli, flags] {
    Status shown = show_ports(cli.ctx, *flags);
    return shown ? 0 : fail(shown.error());
  });
}

}  // namespace ctr::cmd
