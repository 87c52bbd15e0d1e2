#include "shim/log_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::shim {

namespace {

Result<LogEntry> parse_k8s(std::string_view line) {
  // TIME STREAM P|F TEXT (TEXT may be empty, then the last space may be missing)
  size_t a = line.find(' ');
  size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos || b + 2 > line.size()) return make_error("malformed k8s-file record", EINVAL);
  LogEntry entry;
  entry.time = line.substr(0, a);
  entry.stream = line.substr(a + 1, b - a - 1);
  char flag = line[b + 1];
  if ((flag != 'P' && flag != 'F') || (b + 2 < line.size() && line[b + 2] != ' '))
    return make_error("malformed k8s-file record: no P/F flag", EINVAL);
  entry.partial = flag == 'P';
  if (b + 3 <= line.size()) entry.text = line.substr(b + 3);
  return entry;
}

Result<LogEntry> parse_json(std::string_view line) {
  try {
    auto value = nlohmann::json::parse(line);
    LogEntry entry;
    entry.text = value.at("log").get<std::string>();
    entry.stream = value.at("stream").get<std::string>();
    entry.time = value.value("time", std::string());
    if (!entry.text.empty() && entry.text.back() == '\n')
      entry.text.pop_back();
    else
      entry.partial = true;
    return entry;
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("malformed json-file record: ") + e.what(), EINVAL);
  }
}

}  // namespace

Result<LogEntry> parse_log_line(LogDriver driver, std::string_view line) {
  if (driver == LogDriver::json_file) return parse_json(line);
  if (driver == LogDriver::k8s_file) return parse_k8s(line);
  return make_error(std::string("the ") + log_driver_name(driver) + " log driver keeps no log file", EINVAL);
}

Result<std::vector<LogEntry>> read_log(LogDriver driver, const std::string& path, size_t* malformed) {
  std::vector<std::string> files;
  for (int i = 1; path_exists(path + "." + std::to_string(i)); ++i)
    files.insert(files.begin(), path + "." + std::to_string(i));
  files.push_back(path);
  std::vector<LogEntry> entries;
  for (const auto& file : files) {
    auto text = read_file(file);
    if (!text) {
      if (text.error().code == ENOENT && file != path) continue;  // rotated away meanwhile
      return std::move(text).error().context("read log");
    }
    for (const auto& line : split(*text, '\n')) {
      if (line.empty()) continue;
      auto entry = parse_log_line(driver, line);
      if (entry)
        entries.push_back(std::move(*entry));
      else if (malformed)
        ++*malformed;
    }
  }
  return entries;
}

std::string log_text(const std::vector<LogEntry>& entries, const std::string& stream) {
  std::string out;
  for (const auto& entry : entries) {
    if (!stream.empty() && entry.stream != stream) continue;
    out += entry.text;
    if (!entry.partial) out += '\n';
  }
  return out;
}

Result<LogFollower> LogFollower::open(LogDriver driver, const std::string& path) {
  LogFollower follower;
  follower.driver_ = driver;
  follower.path_ = path;
  TRY_ASSIGN(fd, open_fd(path, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat `" + path + "`");
  follower.inode_ = st.st_ino;
  follower.fd_ = std::move(fd);
  follower.inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!follower.inotify_) return sys_error("inotify");
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash ? slash : 1);
  if (::inotify_add_watch(follower.inotify_.get(), dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
    return sys_error("watch `" + dir + "`");
  return follower;
}

void LogFollower::take_lines(std::vector<LogEntry>& out) {
  size_t start = 0;
  for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto entry = parse_log_line(driver_, std::string_view(pending_).substr(start, nl - start));
    if (entry) out.push_back(std::move(*entry));
  }
  pending_.erase(0, start);
}

Status LogFollower::reopen_if_rotated(std::vector<LogEntry>& out) {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0 || st.st_ino == inode_) return {};
  // Rotated: finish the old file (already read to its end), then start the new one.
  take_lines(out);
  pending_.clear();
  TRY_ASSIGN(fd, open_fd(path_, O_RDONLY));
  fd_ = std::move(fd);
  inode_ = st.st_ino;
  return {};
}

Result<std::vector<LogEntry>> LogFollower::read_new() {
  std::vector<LogEntry> out;
  for (int round = 0; round < 2; ++round) {
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read `" + path_ + "`");
      if (n == 0) break;
      pending_.append(buffer, static_cast<size_t>(n));
    }
    take_lines(out);
    ino_t before = inode_;
    TRY(reopen_if_rotated(out));
    if (inode_ == before) break;
  }
  return out;
}

Status LogFollower::wait(std::chrono::milliseconds timeout) {
  pollfd pfd{inotify_.get(), POLLIN, 0};
  int n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (n < 0 && errno != EINTR) return sys_error("poll");
  char events[4096];
  while (::read(inotify_.get(), events, sizeof events) > 0) {
  }
  return {};
}

}  // namespace ctr::shim
