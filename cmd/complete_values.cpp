// The values behind each completer kind, for `ctr __complete`. Reads only:
// the store is never created (completing in a fresh account must not make
// ~/.local/share/ctr) and never locked (records are replaced atomically, so
// an unlocked read sees an old or a new list, both fine for a suggestion).
// Any error means "no candidates": the shell shows nothing rather than junk.
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <optional>

#include "cmd/complete.h"
#include "cmd/container_record.h"
#include "cmd/image_common.h"
#include "cmd/volume_store.h"
#include "shim/options.h"

namespace ctr::cmd {
namespace {

std::optional<image::Store> open_existing_store(const std::string& root) {
  struct stat info {};
  if (::stat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return std::nullopt;
  auto store = image::Store::open(root);
  if (!store) return std::nullopt;
  return std::move(store).value();
}

// Image names as stored ("localhost/busybox:latest") and short IDs, as
// podman offers them.
std::vector<Candidate> image_values(const std::string& root) {
  std::vector<Candidate> out;
  auto store = open_existing_store(root);
  if (!store) return out;
  auto images = store->list_images();
  if (!images) return out;
  for (const auto& image : *images) {
    std::string short_id = image_id_text(image.id, true);
    for (const auto& name : image.names) out.push_back({name, "image " + short_id});
    out.push_back({short_id, image.names.empty() ? "image" : "image " + image.names.front()});
  }
  return out;
}

// THE container lookup for completion (every container completer goes
// through here): names and short IDs from ctr's records, as podman offers
// them; `running_only` (kill, stop...) asks the shim's files for the state.
std::vector<Candidate> container_values(const std::string& root, bool running_only) {
  std::vector<Candidate> out;
  auto store = open_existing_store(root);
  if (!store) return out;
  auto records = list_records(*store);
  if (!records) return out;
  for (const auto& record : *records) {
    std::string state = live_status(record).state;
    if (running_only && state != "running") continue;
    std::string short_id = record.id.substr(0, 12);
    out.push_back({record.name, state + " container " + short_id + " from " + record.image_name});
    out.push_back({short_id, state + " container " + record.name});
  }
  return out;
}

// Volume names (read without the lock, like containers).
std::vector<Candidate> volume_values(const std::string& root) {
  std::vector<Candidate> out;
  auto store = open_existing_store(root);
  if (!store) return out;
  auto volumes = list_volumes(*store);
  if (!volumes) return out;
  for (const auto& volume : *volumes) out.push_back({volume.name, volume.anonymous ? "anonymous volume" : "volume"});
  return out;
}

// Signal names from the C library (SIGTERM ... and SIGRTMIN+n), as
// podman's AutocompleteStopSignal offers them.
std::vector<Candidate> signal_values() {
  std::vector<Candidate> out;
  for (int number = 1; number < SIGRTMIN; ++number) {
    const char* abbrev = ::sigabbrev_np(number);
    if (abbrev) out.push_back({std::string("SIG") + abbrev, ::sigdescr_np(number)});
  }
  for (int number = SIGRTMIN; number <= SIGRTMAX; ++number)
    out.push_back({"SIGRTMIN+" + std::to_string(number - SIGRTMIN), "real-time signal"});
  return out;
}

std::vector<Candidate> log_driver_values() {
  std::vector<Candidate> out;
  for (auto driver :
       {shim::LogDriver::k8s_file, shim::LogDriver::json_file, shim::LogDriver::none, shim::LogDriver::passthrough})
    out.push_back({shim::log_driver_name(driver), ""});
  return out;
}

std::vector<Candidate> choice_values(const std::vector<std::string>& choices) {
  std::vector<Candidate> out;
  for (const auto& choice : choices) out.push_back({choice, ""});
  return out;
}

}  // namespace

std::vector<Candidate> list_values(const CompleterSpec& spec, const std::string& store_root) {
  switch (spec.kind) {
    case Completer::images:
      return image_values(store_root);
    case Completer::containers:
      return container_values(store_root, false);
    case Completer::running_containers:
      return container_values(store_root, true);
    case Completer::volumes:
      return volume_values(store_root);
    case Completer::signals:
      return signal_values();
    case Completer::log_drivers:
      return log_driver_values();
    case Completer::formats:
      // A Go-style template is free text: only the named formats are offered.
      return choice_values(spec.choices.empty() ? std::vector<std::string>{"json", "table"} : spec.choices);
    case Completer::fixed:
      return choice_values(spec.choices);
    default:
      return {};
  }
}

}  // namespace ctr::cmd
