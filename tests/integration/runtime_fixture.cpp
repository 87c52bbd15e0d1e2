#include "tests/integration/runtime_fixture.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

#include "runtime/base/strings.h"

namespace ctr::itest {

void RuntimeTest::SetUp() {
  if (auto problem = environment_problem()) GTEST_SKIP() << *problem;
  ASSERT_EQ(::access(runtime_binary().c_str(), X_OK), 0)
      << "the runtime under test `" << runtime_binary()
      << "` is not an executable file: build it, or set CTR_RUNTIME_BIN";
  ASSERT_FALSE(busybox_rootfs().empty()) << "no busybox rootfs fixture: " << fixture_error();
  auto dir = TempDir::create("ctr-itest-");
  ASSERT_TRUE(dir) << dir.error().message;
  work_.emplace(std::move(dir).value());
  std::random_device random;
  marker_ = "CTR_ITEST_MARKER=" + std::to_string(::getpid()) + "-" + std::to_string(random());
  runtime_.emplace(runtime_binary(), work() + "/root", std::vector<std::string>{marker_});
}

void RuntimeTest::TearDown() {
  if (!runtime_) return;
  std::vector<std::string> ids = root_entries();
  for (const auto& id : listed_ids()) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  for (const auto& id : ids) (void)rt({"delete", "--force", id}, RunOptions().within(3s));
  auto leaked = leaked_processes();
  for (pid_t pid : leaked) {
    auto cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    ADD_FAILURE() << "process " << pid << " (" << cmdline << "), a container or runtime process of this test,"
                  << " survived `delete --force`";
    ::kill(pid, SIGKILL);
  }
  reap_orphans();
}

Bundle RuntimeTest::make_bundle(const std::string& name) {
  Bundle bundle(work() + "/" + name + (bundles_++ ? std::to_string(bundles_) : ""), busybox_rootfs());
  bundle.env(marker_);
  return bundle;
}

std::string RuntimeTest::new_id(const std::string& hint) {
  return "itest-" + hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(++ids_);
}

std::string RuntimeTest::host_dir(const std::string& name) {
  std::string path = work() + "/" + name;
  (void)mkdir_p(path, 0755);
  return path;
}

std::optional<json> RuntimeTest::state(const std::string& id) {
  auto result = rt({"state", id}, RunOptions().within(3s));
  if (!result.ok()) return std::nullopt;
  try {
    return json::parse(result.out);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string RuntimeTest::status(const std::string& id) {
  auto st = state(id);
  if (!st || !st->contains("status") || !(*st)["status"].is_string()) return "";
  return (*st)["status"].get<std::string>();
}

bool RuntimeTest::wait_for_status(const std::string& id, const std::string& wanted, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    reap_orphans();
    if (status(id) == wanted) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool RuntimeTest::wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!path_exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::vector<std::string> RuntimeTest::listed_ids() {
  std::vector<std::string> ids;
  auto result = rt({"list"}, RunOptions().within(3s));
  if (!result.ok()) return ids;
  bool first = true;
  for (const auto& line : lines(result.out)) {
    auto columns = words(line);
    if (columns.empty()) continue;
    if (first && (columns[0] == "ID" || columns[0] == "NAME")) {  // runc's, crun's header
      first = false;
      continue;
    }
    first = false;
    ids.push_back(columns[0]);
  }
  return ids;
}

std::vector<std::string> RuntimeTest::root_entries() {
  std::vector<std::string> entries;
  DIR* dir = ::opendir(root().c_str());
  if (!dir) return entries;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") entries.push_back(name);
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::vector<pid_t> RuntimeTest::leaked_processes(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    reap_orphans();
    auto found = processes_with_env(marker_);
    if (found.empty() || std::chrono::steady_clock::now() > deadline) return found;
    std::this_thread::sleep_for(20ms);
  }
}

::testing::AssertionResult RuntimeTest::create_and_start(const std::string& id, const Bundle& bundle,
                                                         const Capture& output) {
  auto created = rt({"create", "--bundle", bundle.write(), id}, RunOptions().output(output.fd()));
  if (!created.ok())
    return ::testing::AssertionFailure() << "create " << id << ": " << created.describe() << "\n--- output ---\n"
                                         << output.read();
  auto started = rt({"start", id});
  if (!started.ok()) return ::testing::AssertionFailure() << "start " << id << ": " << started.describe();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult contains_nocase(const std::string& text, const std::string& needle) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  if (lower(text).find(lower(needle)) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find \"" << needle << "\" in:\n" << text;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  for (auto& line : split(text, '\n')) {
    while (!line.empty() && line.back() == '\r') line.pop_back();
    result.push_back(line);
  }
  while (!result.empty() && result.back().empty()) result.pop_back();
  return result;
}

std::string trimmed(const std::string& text) {
  return std::string(trim(text));
}

std::string slurp(const std::string& path) {
  auto text = read_file(path);
  return text ? *text : std::string();
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> result;
  std::string word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) result.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) result.push_back(word);
  return result;
}

}  // namespace ctr::itest
