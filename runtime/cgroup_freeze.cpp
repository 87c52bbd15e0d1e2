#include "runtime/cgroup_freeze.h"

#include <algorithm>
#include <sstream>
#include <thread>

#include "runtime/base/files.h"

namespace ctr::cgroup {

std::string flat_keyed_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space != std::string::npos && line.compare(0, space, key) == 0) return line.substr(space + 1);
  }
  return "";
}

bool freeze_requested(const std::string& dir) {
  if (dir.empty()) return false;
  auto text = read_file(dir + "/cgroup.freeze");
  return text && !text->empty() && (*text)[0] == '1';
}

Status set_frozen(const std::string& dir, bool frozen, std::chrono::milliseconds timeout) {
  std::string file = dir + "/cgroup.freeze";
  if (!path_exists(file))
    return make_error(file + " does not exist: the freezer needs cgroup v2 on Linux 5.2 or later", ENOTSUP);
  TRY_CTX(write_file(file, frozen ? "1" : "0"), "write " + file);
  // Poll the events file: the kernel flips "frozen" once every task has
  // reached the freezer (or left it); under load this takes a while.
  const std::string want = frozen ? "1" : "0";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    TRY_ASSIGN(events, read_file(dir + "/cgroup.events"));
    if (flat_keyed_value(events, "frozen") == want) return {};
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error(dir + "/cgroup.events does not say \"frozen " + want + "\" after " +
                            std::to_string(timeout.count()) + " ms",
                        ETIMEDOUT);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace ctr::cgroup
