#include "runtime/base/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace ctr {

Result<UniqueFd> open_fd(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open `" + path + "`");
  return UniqueFd(fd);
}

Result<std::string> read_fd(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::string& path) {
  TRY_ASSIGN(fd, open_fd(path, O_RDONLY));
  auto data = read_fd(fd.get());
  if (!data) return std::move(data).error().context("`" + path + "`");
  return data;
}

Status write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write");
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Status write_all(int fd, const std::string& data) { return write_all(fd, data.data(), data.size()); }

Status write_file(const std::string& path, const std::string& data) {
  TRY_ASSIGN(fd, open_fd(path, O_WRONLY | O_TRUNC));
  TRY_CTX(write_all(fd.get(), data), "write `" + path + "`");
  return {};
}

Status write_file_atomic(const std::string& path, const std::string& data, mode_t mode, Durability durability) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    TRY_ASSIGN(fd, open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    auto written = write_all(fd.get(), data);
    if (written.ok() && durability == Durability::durable && ::fsync(fd.get()) != 0) written = sys_error("fsync");
    if (!written) {
      ::unlink(tmp.c_str());
      return std::move(written).error().context("write `" + tmp + "`");
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = sys_error("rename `" + tmp + "` to `" + path + "`");
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Status mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  for (size_t pos = 1;; ++pos) {
    pos = path.find('/', pos);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) return sys_error("mkdir `" + part + "`");
    if (pos == std::string::npos) break;
  }
  return {};
}

static Status remove_tree_at(int parent, const char* name) {
  if (::unlinkat(parent, name, 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return sys_error(std::string("unlink `") + name + "`");
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error(std::string("open `") + name + "`");
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return sys_error("fdopendir");
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string n = entry->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  Status status;
  for (const auto& n : names) {
    status = remove_tree_at(::dirfd(dir), n.c_str());
    if (!status) break;
  }
  ::closedir(dir);
  if (!status) return status;
  if (::unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys_error(std::string("rmdir `") + name + "`");
  return {};
}

Status remove_tree(const std::string& path) { return remove_tree_at(AT_FDCWD, path.c_str()); }

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<TempDir> TempDir::create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (!::mkdtemp(tmpl.data())) return sys_error("mkdtemp `" + tmpl + "`");
  return TempDir(tmpl);
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)remove_tree(path_);
}

}  // namespace ctr
