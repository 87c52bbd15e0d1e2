// ctr-user-generator: a systemd user generator (systemd.generator(7)) that
// turns quadlet-style `.container` files into services, as podman's
// quadlet does. systemd runs it at boot and on daemon-reload with three
// output directories (normal, early, late); the units go into the first.
//
// Sources, earlier ones winning for the same file name:
//   $XDG_CONFIG_HOME/ctr/systemd/ (default ~/.config/ctr/systemd/),
//   /etc/ctr/systemd/users/$UID/, /etc/ctr/systemd/users/.
// A file that cannot be converted is skipped with a message on stderr
// (systemd logs it); the generator itself never fails because of one.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cmd/systemd_unit.h"
#include "runtime/base/files.h"

namespace {

using ctr::cmd::convert_container_file;

std::string self_dir() {
  char buffer[4096];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  std::string path = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// ctr beside us (the build tree), else PREFIX/bin/ctr for PREFIX/lib/systemd/user-generators/.
std::string ctr_binary() {
  if (const char* value = std::getenv("CTR_BIN"); value && *value) return value;
  std::string dir = self_dir();
  for (const std::string& candidate : {dir + "/ctr", dir + "/../../../bin/ctr"})
    if (::access(candidate.c_str(), X_OK) == 0) {
      char resolved[4096];
      return ::realpath(candidate.c_str(), resolved) ? resolved : candidate;
    }
  return "/usr/bin/ctr";
}

std::vector<std::string> source_dirs() {
  std::vector<std::string> dirs;
  const char* config = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (config && *config == '/') dirs.push_back(std::string(config) + "/ctr/systemd");
  else if (home && *home) dirs.push_back(std::string(home) + "/.config/ctr/systemd");
  dirs.push_back("/etc/ctr/systemd/users/" + std::to_string(::getuid()));
  dirs.push_back("/etc/ctr/systemd/users");
  return dirs;
}

// NAME -> path of NAME.container, the first source directory winning.
std::map<std::string, std::string> container_files() {
  std::map<std::string, std::string> files;
  const std::string suffix = ".container";
  for (const auto& dir : source_dirs()) {
    DIR* handle = ::opendir(dir.c_str());
    if (!handle) continue;
    while (dirent* entry = ::readdir(handle)) {
      std::string file = entry->d_name;
      if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      files.emplace(file.substr(0, file.size() - suffix.size()), dir + "/" + file);
    }
    ::closedir(handle);
  }
  return files;
}

void link_into(const std::string& out, const std::string& target, const std::string& suffix,
               const std::string& service) {
  std::string dir = out + "/" + target + suffix;
  (void)::mkdir(dir.c_str(), 0755);
  std::string link = dir + "/" + service;
  (void)::unlink(link.c_str());
  if (::symlink(("../" + service).c_str(), link.c_str()) != 0)
    std::cerr << "ctr-user-generator: cannot link " << link << ": " << ::strerror(errno) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::cerr << "usage: ctr-user-generator NORMAL_DIR [EARLY_DIR LATE_DIR] (systemd.generator(7))\n";
    return 1;
  }
  std::string out = argv[1];
  std::string ctr = ctr_binary();
  int converted = 0;
  for (const auto& [name, path] : container_files()) {
    auto text = ctr::read_file(path);
    if (!text) {
      std::cerr << "ctr-user-generator: " << path << ": " << text.error().message << " (skipped)\n";
      continue;
    }
    std::vector<std::string> warnings;
    auto unit = convert_container_file(name, path, *text, ctr, warnings);
    for (const auto& warning : warnings) std::cerr << "ctr-user-generator: " << path << ": " << warning << "\n";
    if (!unit) {
      std::cerr << "ctr-user-generator: " << path << ": " << unit.error().message << " (skipped)\n";
      continue;
    }
    if (auto written = ctr::write_file_atomic(out + "/" + unit->service_name, unit->text, 0644); !written) {
      std::cerr << "ctr-user-generator: " << written.error().message << "\n";
      continue;
    }
    for (const auto& target : unit->wanted_by) link_into(out, target, ".wants", unit->service_name);
    for (const auto& target : unit->required_by) link_into(out, target, ".requires", unit->service_name);
    ++converted;
  }
  (void)converted;
  return 0;
}
