// Examples for every command's --help footer and man page, in one table
// keyed by command path, in podman's style. tests/unit/test_cmd_complete_man.cpp
// fails for a visible command that has none: a new command adds its line here.
#include <map>

#include "cmd/complete.h"

namespace ctr::cmd {
namespace {

const std::map<std::string, std::string>& examples_table() {
  static const std::map<std::string, std::string> table = {
      {"ctr", "ctr images\n  ctr run --rm -it localhost/busybox sh\n  ctr --root ~/ctr-store load -i busybox.tar"},
      {"ctr images", "ctr images\n  ctr images -q\n  ctr images --format json\n  ctr images -f reference=busybox"},
      {"ctr image ls", "ctr image ls\n  ctr image ls --no-trunc\n  ctr image ls --format '{{.Repository}}:{{.Tag}}'"},
      {"ctr import", "ctr import rootfs.tar localhost/myimage:1.0\n  gzip -dc rootfs.tar.gz | ctr import - myimage\n"
                     "  ctr import -c 'CMD [\"/bin/sh\"]' rootfs.tar myimage"},
      {"ctr image import", "ctr image import rootfs.tar localhost/myimage:1.0\n  ctr image import -q - myimage < rootfs.tar"},
      {"ctr info", "ctr info\n  ctr info --format json\n  ctr info --format '{{.host.kernel}}'"},
      {"ctr system info", "ctr system info\n  ctr system info --format json"},
      {"ctr load", "ctr load -i busybox.tar\n  ctr load < debian-oci.tar\n  ctr load -q -i images.tar"},
      {"ctr image load", "ctr image load -i busybox.tar\n  ctr image load < debian-oci.tar"},
      {"ctr rmi", "ctr rmi localhost/busybox:latest\n  ctr rmi 3f57d9401f8d\n  ctr rmi -f myimage\n  ctr rmi -a"},
      {"ctr image rm", "ctr image rm localhost/busybox:latest\n  ctr image rm -f 3f57d9401f8d"},
      {"ctr save", "ctr save -o busybox.tar localhost/busybox\n  ctr save --format oci-archive -o b.tar busybox\n"
                   "  ctr save busybox | gzip > busybox.tar.gz"},
      {"ctr image save", "ctr image save -o busybox.tar localhost/busybox\n  ctr image save --format oci-archive busybox > b.tar"},
      {"ctr tag", "ctr tag localhost/busybox:latest busybox:stable\n  ctr tag 3f57d9401f8d myimage:1.0 myimage:latest"},
      {"ctr image tag", "ctr image tag localhost/busybox busybox:stable"},
      {"ctr unshare", "ctr unshare\n  ctr unshare id -u\n  ctr unshare ls -l ~/.local/share/ctr/layers"},
      {"ctr version", "ctr version\n  ctr version --format json\n  ctr version --format '{{.Client.Version}}'"},
      {"ctr completion", "ctr completion bash > ~/.local/share/bash-completion/completions/ctr\n"
                         "  ctr completion zsh > \"${fpath[1]}/_ctr\"\n"
                         "  ctr completion fish > ~/.config/fish/completions/ctr.fish"},
      {"ctr image", "ctr image ls\n  ctr image inspect localhost/busybox\n  ctr image prune -a"},
      {"ctr image inspect", "ctr image inspect localhost/busybox\n  ctr image inspect --format '{{.Id}}' busybox"},
      {"ctr image prune", "ctr image prune\n  ctr image prune -a -f"},
      {"ctr system", "ctr system df\n  ctr system info"},
      {"ctr system df", "ctr system df\n  ctr system df --format json"},
      // Containers. `ctr container X` shows the same as `ctr X` (see help_examples()).
      {"ctr run", "ctr run --rm -it localhost/busybox sh\n  ctr run -d --name web localhost/busybox httpd -f -p 8080\n"
                  "  ctr run --log-driver json-file -e GREETING=hi localhost/busybox sh -c 'echo $GREETING'"},
      {"ctr create", "ctr create --name box localhost/busybox sleep 1000\n  ctr create -it --name shell localhost/busybox sh"},
      {"ctr start", "ctr start box\n  ctr start -a -i shell"},
      {"ctr stop", "ctr stop box\n  ctr stop -t 2 box web"},
      {"ctr kill", "ctr kill box\n  ctr kill -s SIGHUP web"},
      {"ctr pause", "ctr pause box\n  ctr pause -a"},
      {"ctr unpause", "ctr unpause box\n  ctr unpause -a"},
      {"ctr stats", "ctr stats --no-stream\n  ctr stats --no-stream --format json web\n"
                    "  ctr stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.PIDs}}'"},
      {"ctr update", "ctr update --memory 256m box\n  ctr update --cpus 1.5 --pids-limit 100 web"},
      {"ctr rm", "ctr rm box\n  ctr rm -f web"},
      {"ctr generate", "ctr generate systemd --new --name web"},
      {"ctr generate systemd",
       "ctr generate systemd --new --name web > ~/.config/systemd/user/container-web.service\n"
       "  ctr generate systemd --files --name --restart-policy always web"},
      {"ctr ps", "ctr ps\n  ctr ps -a\n  ctr ps -a --format json\n  ctr ps -q"},
      {"ctr logs", "ctr logs box\n  ctr logs -f web\n  ctr logs -n 10 -t box"},
      {"ctr wait", "ctr wait box\n  ctr wait box web"},
      {"ctr exec", "ctr exec box ls /\n  ctr exec -it box sh\n  ctr exec -e GREETING=hi -u nobody -w /tmp box env\n"
                   "  ctr exec -d box sh -c 'sleep 10 &'"},
      {"ctr attach", "ctr attach box\n  ctr attach --detach-keys ctrl-x,x box\n  ctr attach --no-stdin box"},
      {"ctr top", "ctr top box\n  ctr top box pid,user,args\n  ctr top box hpid pid comm"},
      {"ctr container", "ctr container ls -a\n  ctr container run --rm localhost/busybox echo hello\n  ctr container rm box"},
      {"ctr inspect", "ctr inspect box\n  ctr inspect --format '{{.State.Pid}}' box\n"
                      "  ctr inspect --type image localhost/busybox\n  ctr inspect -l --format '{{json .Config}}'"},
      {"ctr container inspect", "ctr container inspect box\n  ctr container inspect --format '{{.State.Status}}' box web"},
      {"ctr port", "ctr port web\n  ctr port web 80\n  ctr port web 53/udp\n  ctr port -a"},
      {"ctr container port", "ctr container port web\n  ctr container port web 80/tcp"},
      {"ctr rename", "ctr rename box web\n  ctr rename 3f57d9401f8d newname"},
      {"ctr restart", "ctr restart box\n  ctr restart -t 2 box web\n  ctr restart -a"},
      {"ctr container prune", "ctr container prune\n  ctr container prune -f"},
      {"ctr system prune", "ctr system prune\n  ctr system prune -a -f\n  ctr system prune --volumes -f"},
      {"ctr cp", "ctr cp box:/etc/hostname .\n  ctr cp ./config.txt box:/etc/app/\n  ctr cp box:/var/log - > logs.tar"},
      {"ctr export", "ctr export -o box.tar box\n  ctr export box > box.tar\n  ctr export box | ctr import - boxed"},
      {"ctr volume", "ctr volume create data\n  ctr volume ls\n  ctr run -v data:/data localhost/busybox ls /data"},
      {"ctr volume create", "ctr volume create data\n  ctr volume create\n  ctr volume create --label app=web data"},
      {"ctr volume ls", "ctr volume ls\n  ctr volume ls -q\n  ctr volume ls --filter label=app=web --format json"},
      {"ctr volume inspect", "ctr volume inspect data\n  ctr volume inspect --format '{{.Mountpoint}}' data"},
      {"ctr volume rm", "ctr volume rm data\n  ctr volume rm -f data\n  ctr volume rm -a"},
      {"ctr volume prune", "ctr volume prune\n  ctr volume prune -f"},
      {"ctr container ls", "ctr container ls\n  ctr container ls -a --format json"},
  };
  return table;
}

void add_examples_to(CLI::App& command) {
  std::string examples = help_examples(full_command_path(command));
  if (!examples.empty()) command.footer("Examples:\n  " + examples);
  for (CLI::App* sub : command.get_subcommands([](CLI::App*) { return true; })) add_examples_to(*sub);
}

}  // namespace

std::string help_examples(const std::string& command_path) {
  auto it = examples_table().find(command_path);
  if (it != examples_table().end()) return it->second;
  // `ctr container X` is `ctr X` (as podman's): reuse its examples, spelled the long way.
  const std::string group = "ctr container ";
  if (command_path.rfind(group, 0) != 0) return "";
  std::string short_path = "ctr " + command_path.substr(group.size());
  it = examples_table().find(short_path);
  if (it == examples_table().end()) return "";
  std::string text = it->second;
  for (size_t at = text.find(short_path); at != std::string::npos; at = text.find(short_path, at + command_path.size()))
    text.replace(at, short_path.size(), command_path);
  return text;
}

void add_help_examples(CLI::App& app) {
  add_examples_to(app);
}

}  // namespace ctr::cmd
