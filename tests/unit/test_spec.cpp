#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/mount_options.h"
#include "runtime/spec.h"

using namespace ctr;
using namespace ctr::spec;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace {

// Every field the parser knows, with non-default values.
const char* const kFullSpec = R"json({
  "ociVersion": "1.1.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 27]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
    "cwd": "/home/user",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_KILL"],
      "inheritable": [],
      "permitted": ["cap_kill", "SYS_ADMIN"],
      "ambient": ["CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "noNewPrivileges": true,
    "oomScoreAdj": -500,
    "apparmorProfile": "unconfined",
    "selinuxLabel": "system_u:system_r:container_t:s0"
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/pre", "args": ["pre", "1"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/usr/bin/cr"}],
    "createContainer": [{"path": "/usr/bin/cc"}],
    "startContainer": [{"path": "/usr/bin/sc"}],
    "poststart": [{"path": "/usr/bin/ps1"}, {"path": "/usr/bin/ps2"}],
    "poststop": [{"path": "/usr/bin/stop"}]
  },
  "annotations": {"org.example.key": "value", "other": ""},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}, {"type": "mount"}, {"type": "ipc"},
      {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}, {"containerID": 1, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
      {"type": "p", "path": "/dev/myfifo"}
    ],
    "cgroupsPath": "user.slice:ctr:abc",
    "resources": {"memory": {"limit": 536870912}, "pids": {"limit": 100}},
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/listener.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32"}
  }
})json";

Spec parse_ok(const std::string& text, const std::string& bundle = "/bundle") {
  auto parsed = parse_spec(text, bundle);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? std::move(parsed).value() : Spec{};
}

// Parses kFullSpec after `mutate` and returns the error message ("" if it parsed).
std::string error_after(const std::function<void(json&)>& mutate) {
  json doc = json::parse(kFullSpec);
  mutate(doc);
  auto parsed = parse_spec(doc.dump(), "/bundle");
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, EINVAL);
  return parsed.error().message;
}

}  // namespace

TEST(SpecParse, FullSpecProcess) {
  Spec s = parse_ok(kFullSpec);
  EXPECT_EQ(s.oci_version, "1.1.0");
  ASSERT_TRUE(s.process);
  const Process& p = *s.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size);
  EXPECT_EQ(p.console_size->height, 25u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 27}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "TERM=xterm"}));
  EXPECT_EQ(p.cwd, "/home/user");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, (std::vector<int>{0, 5, 7, 10}));
  EXPECT_EQ(p.capabilities->effective, (std::vector<int>{5}));
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_EQ(p.capabilities->permitted, (std::vector<int>{5, 21}));
  EXPECT_EQ(p.capabilities->ambient, (std::vector<int>{10}));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[0].hard, 4096u);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[1].resource, RLIMIT_CORE);
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.apparmor_profile, "unconfined");
  EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
}

TEST(SpecParse, FullSpecRootMountsHooksAnnotations) {
  Spec s = parse_ok(kFullSpec);
  EXPECT_EQ(s.root.path, "/bundle/rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "box");
  EXPECT_EQ(s.domainname, "example.org");
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[0].destination, "/proc");
  EXPECT_EQ(s.mounts[0].type, "proc");
  EXPECT_TRUE(s.mounts[0].options.empty());
  EXPECT_EQ(s.mounts[1].source, "/srv/data");
  EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"rbind", "ro"}));
  ASSERT_EQ(s.mounts[1].uid_mappings.size(), 1u);
  EXPECT_EQ(s.mounts[1].uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.mounts[1].uid_mappings[0].size, 65536u);
  ASSERT_EQ(s.mounts[1].gid_mappings.size(), 1u);
  EXPECT_EQ(s.mounts[1].gid_mappings[0].host_id, 200000u);
  ASSERT_EQ(s.hooks.prestart.size(), 1u);
  EXPECT_EQ(s.hooks.prestart[0].path, "/usr/bin/pre");
  EXPECT_EQ(s.hooks.prestart[0].args, (std::vector<std::string>{"pre", "1"}));
  EXPECT_EQ(s.hooks.prestart[0].env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(s.hooks.prestart[0].timeout, 5);
  EXPECT_EQ(s.hooks.create_runtime.at(0).path, "/usr/bin/cr");
  EXPECT_EQ(s.hooks.create_runtime.at(0).timeout, std::nullopt);
  EXPECT_EQ(s.hooks.create_container.at(0).path, "/usr/bin/cc");
  EXPECT_EQ(s.hooks.start_container.at(0).path, "/usr/bin/sc");
  ASSERT_EQ(s.hooks.poststart.size(), 2u);
  EXPECT_EQ(s.hooks.poststart[1].path, "/usr/bin/ps2");
  EXPECT_EQ(s.hooks.poststop.at(0).path, "/usr/bin/stop");
  EXPECT_FALSE(s.hooks.empty());
  EXPECT_EQ(s.annotations, (std::map<std::string, std::string>{{"org.example.key", "value"}, {"other", ""}}));
}

TEST(SpecParse, FullSpecLinux) {
  Spec s = parse_ok(kFullSpec);
  const Linux& l = s.linux;
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[7].type, NamespaceType::time);
  ASSERT_NE(l.find_namespace(NamespaceType::network), nullptr);
  EXPECT_EQ(l.find_namespace(NamespaceType::network)->path, "/proc/1/ns/net");
  EXPECT_EQ(l.find_namespace(NamespaceType::user)->path, "");
  ASSERT_EQ(l.uid_mappings.size(), 2u);
  EXPECT_EQ(l.uid_mappings[1].container_id, 1u);
  EXPECT_EQ(l.uid_mappings[1].host_id, 100000u);
  EXPECT_EQ(l.uid_mappings[1].size, 65536u);
  EXPECT_EQ(l.gid_mappings.size(), 1u);
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].type, 'c');
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 0666u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_EQ(l.devices[1].type, 'p');
  EXPECT_EQ(l.devices[1].file_mode, std::nullopt);
  EXPECT_EQ(l.cgroups_path, "user.slice:ctr:abc");
  json resources = json::parse(l.resources_json);
  EXPECT_EQ(resources["memory"]["limit"], 536870912);
  EXPECT_EQ(resources["pids"]["limit"], 100);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.masked_paths, (std::vector<std::string>{"/proc/kcore"}));
  EXPECT_EQ(l.readonly_paths, (std::vector<std::string>{"/proc/sys"}));
  EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
  EXPECT_EQ(l.personality, 0x0008u);
}

TEST(SpecParse, FullSpecSeccomp) {
  Spec s = parse_ok(kFullSpec);
  ASSERT_TRUE(s.linux.seccomp);
  const Seccomp& sc = *s.linux.seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 38u);
  EXPECT_EQ(sc.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  EXPECT_EQ(sc.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  EXPECT_EQ(sc.listener_path, "/run/listener.sock");
  EXPECT_EQ(sc.listener_metadata, "meta");
  ASSERT_EQ(sc.syscalls.size(), 3u);
  EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(sc.syscalls[0].errno_ret, std::nullopt);
  ASSERT_EQ(sc.syscalls[1].args.size(), 1u);
  EXPECT_EQ(sc.syscalls[1].args[0].value, 8u);
  EXPECT_EQ(sc.syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(sc.syscalls[2].errno_ret, 1u);
}

TEST(SpecParse, MinimalSpecHasDefaults) {
  Spec s = parse_ok(R"({"ociVersion": "1.0.2", "root": {"path": "/abs/root"}})");
  EXPECT_EQ(s.root.path, "/abs/root");
  EXPECT_FALSE(s.root.readonly);
  EXPECT_FALSE(s.process);
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_TRUE(s.hooks.empty());
  EXPECT_TRUE(s.linux.namespaces.empty());
  EXPECT_EQ(s.linux.seccomp, std::nullopt);
  EXPECT_EQ(s.linux.personality, std::nullopt);
  EXPECT_EQ(s.linux.resources_json, "");
}

TEST(SpecParse, UnknownFieldsAndNullsAreIgnored) {
  Spec s = parse_ok(R"({"ociVersion": "1.1.0", "root": {"path": "r", "futureField": 1}, "hostname": null,
    "vm": {"hypervisor": {}}, "linux": {"intelRdt": {"closID": "x"}, "namespaces": [{"type": "user"}]},
    "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0, "username": "x"}, "scheduler": {}}})");
  EXPECT_EQ(s.hostname, "");
  // A user namespace without mappings is accepted and left empty.
  ASSERT_NE(s.linux.find_namespace(NamespaceType::user), nullptr);
  EXPECT_TRUE(s.linux.uid_mappings.empty());
  EXPECT_TRUE(s.linux.gid_mappings.empty());
}

TEST(SpecParse, RootPathIsResolvedAgainstTheBundle) {
  EXPECT_EQ(parse_ok(R"({"root": {"path": "rootfs"}})", "/b/x").root.path, "/b/x/rootfs");
  EXPECT_EQ(parse_ok(R"({"root": {"path": "./a/../rootfs/"}})", "/b/x/").root.path, "/b/x/rootfs");
  EXPECT_EQ(parse_ok(R"({"root": {"path": "../shared"}})", "/b/x").root.path, "/b/shared");
  EXPECT_EQ(parse_ok(R"({"root": {"path": "/abs//root/"}})", "/b").root.path, "/abs/root");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  std::string expected = std::string(cwd) == "/" ? "/bundle/rootfs" : std::string(cwd) + "/bundle/rootfs";
  EXPECT_EQ(parse_ok(R"({"root": {"path": "rootfs"}})", "bundle").root.path, expected);
}

TEST(SpecParse, InvalidJsonNamesTheByte) {
  auto parsed = parse_spec("{\"ociVersion\": \"1.1.0\",\n  \"root\": {\"path\": x}}", "/b");
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, StartsWith("config.json: invalid JSON at byte 44: "));
  EXPECT_THAT(parsed.error().message, Not(HasSubstr("json.exception")));
  auto empty = parse_spec("", "/b");
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message, StartsWith("config.json: invalid JSON at byte"));
  auto array = parse_spec("[1, 2]", "/b");
  ASSERT_FALSE(array);
  EXPECT_EQ(array.error().message, "config.json: expected a JSON object");
}

TEST(SpecParse, CapabilityErrorsNameTheEntry) {
  EXPECT_EQ(error_after([](json& d) {
              d["process"]["capabilities"]["bounding"] = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_FOO"};
            }),
            "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\"");
  for (const char* set : {"bounding", "effective", "inheritable", "permitted", "ambient"}) {
    EXPECT_EQ(error_after([&](json& d) { d["process"]["capabilities"][set] = {"CAP_NOPE"}; }),
              std::string("process.capabilities.") + set + "[0]: unknown capability \"CAP_NOPE\"");
    EXPECT_EQ(error_after([&](json& d) { d["process"]["capabilities"][set] = "CAP_KILL"; }),
              std::string("process.capabilities.") + set + ": expected an array of strings");
  }
  EXPECT_EQ(error_after([](json& d) { d["process"]["capabilities"] = json::array(); }),
            "process.capabilities: expected an object");
}

TEST(SpecParse, RlimitErrors) {
  EXPECT_EQ(error_after([](json& d) { d["process"]["rlimits"][1]["type"] = "RLIMIT_FOO"; }),
            "process.rlimits[1].type: unknown rlimit type \"RLIMIT_FOO\"");
  EXPECT_THAT(error_after([](json& d) { d["process"]["rlimits"][0]["soft"] = 8192; }),
              StartsWith("process.rlimits[0]: soft limit 8192 of RLIMIT_NOFILE is above the hard limit 4096"));
  EXPECT_EQ(error_after([](json& d) { d["process"]["rlimits"][0].erase("hard"); }),
            "process.rlimits[0].hard: required");
  EXPECT_EQ(error_after([](json& d) { d["process"]["rlimits"][0]["soft"] = -1; }),
            "process.rlimits[0].soft: value -1 is out of range");
  EXPECT_EQ(error_after([](json& d) { d["process"]["rlimits"][1]["type"] = "RLIMIT_NOFILE"; }),
            "process.rlimits[1]: duplicate rlimit type");
  EXPECT_EQ(error_after([](json& d) { d["process"]["rlimits"][0]["type"] = 7; }),
            "process.rlimits[0].type: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["process"]["rlimits"] = {1}; }), "process.rlimits[0]: expected an object");
}

TEST(SpecParse, ProcessFieldErrors) {
  EXPECT_EQ(error_after([](json& d) { d["process"]["cwd"] = "home"; }),
            "process.cwd: must be an absolute path, got `home`");
  EXPECT_EQ(error_after([](json& d) { d["process"].erase("cwd"); }), "process.cwd: required");
  EXPECT_EQ(error_after([](json& d) { d["process"]["args"] = json::array(); }),
            "process.args: at least one argument is required");
  EXPECT_EQ(error_after([](json& d) { d["process"]["args"] = {"sh", 1}; }), "process.args[1]: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["process"]["terminal"] = "yes"; }), "process.terminal: expected a boolean");
  EXPECT_EQ(error_after([](json& d) { d["process"]["user"]["uid"] = -1; }),
            "process.user.uid: value -1 is out of range");
  EXPECT_EQ(error_after([](json& d) { d["process"]["user"]["gid"] = 1.5; }), "process.user.gid: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["process"]["user"]["uid"] = 4294967296; }),
            "process.user.uid: value 4294967296 is out of range");
  EXPECT_EQ(error_after([](json& d) {
              d["process"]["user"]["additionalGids"] = {1, "a"};
            }),
            "process.user.additionalGids[1]: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["process"]["consoleSize"].erase("width"); }),
            "process.consoleSize.width: required");
  EXPECT_EQ(error_after([](json& d) { d["process"]["oomScoreAdj"] = "low"; }),
            "process.oomScoreAdj: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["process"]["env"] = {1}; }), "process.env[0]: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["process"]["noNewPrivileges"] = 1; }),
            "process.noNewPrivileges: expected a boolean");
  EXPECT_EQ(error_after([](json& d) { d["process"]["selinuxLabel"] = false; }),
            "process.selinuxLabel: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["process"] = "sh"; }), "process: expected an object");
}

TEST(SpecParse, TopLevelFieldErrors) {
  EXPECT_EQ(error_after([](json& d) { d.erase("root"); }), "root: required");
  EXPECT_EQ(error_after([](json& d) { d["root"].erase("path"); }), "root.path: required");
  EXPECT_EQ(error_after([](json& d) { d["root"]["path"] = 5; }), "root.path: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["root"]["path"] = ""; }), "root.path: must not be empty");
  EXPECT_EQ(error_after([](json& d) { d["root"]["readonly"] = "true"; }), "root.readonly: expected a boolean");
  EXPECT_EQ(error_after([](json& d) { d["ociVersion"] = 1; }), "ociVersion: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["hostname"] = 5; }), "hostname: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["domainname"] = {}; }), "");  // {} here is null: ignored
  EXPECT_EQ(error_after([](json& d) { d["annotations"]["n"] = 1; }), "annotations.n: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["annotations"] = {"a"}; }), "annotations: expected an object of strings");
  EXPECT_EQ(error_after([](json& d) { d["linux"] = "x"; }), "linux: expected an object");
}

TEST(SpecParse, MountErrors) {
  EXPECT_EQ(error_after([](json& d) { d["mounts"][1].erase("destination"); }), "mounts[1].destination: required");
  EXPECT_EQ(error_after([](json& d) { d["mounts"][1]["destination"] = "data"; }),
            "mounts[1].destination: must be an absolute path, got `data`");
  EXPECT_EQ(error_after([](json& d) { d["mounts"][0]["options"] = "ro"; }),
            "mounts[0].options: expected an array of strings");
  EXPECT_EQ(error_after([](json& d) { d["mounts"][1]["uidMappings"][0].erase("size"); }),
            "mounts[1].uidMappings[0].size: required");
  EXPECT_EQ(error_after([](json& d) { d["mounts"][1]["gidMappings"][0]["hostID"] = "x"; }),
            "mounts[1].gidMappings[0].hostID: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["mounts"] = json::object(); }), "mounts: expected an array");
}

TEST(SpecParse, HookErrorsForEveryKind) {
  for (const char* kind : {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}) {
    std::string at = std::string("hooks.") + kind + "[0]";
    EXPECT_EQ(error_after([&](json& d) { d["hooks"][kind][0]["path"] = "bin/hook"; }),
              at + ".path: must be an absolute path, got `bin/hook`");
    EXPECT_EQ(error_after([&](json& d) { d["hooks"][kind][0].erase("path"); }), at + ".path: required");
    EXPECT_EQ(error_after([&](json& d) { d["hooks"][kind][0]["timeout"] = 0; }),
              at + ".timeout: must be greater than zero");
    EXPECT_EQ(error_after([&](json& d) { d["hooks"][kind][0]["timeout"] = -3; }),
              at + ".timeout: must be greater than zero");
    EXPECT_EQ(error_after([&](json& d) { d["hooks"][kind][0]["args"] = {2}; }), at + ".args[0]: expected a string");
    EXPECT_EQ(error_after([&](json& d) { d["hooks"][kind][0]["env"] = "A=1"; }),
              at + ".env: expected an array of strings");
  }
  EXPECT_EQ(error_after([](json& d) { d["hooks"] = {1}; }), "hooks: expected an object");
}

TEST(SpecParse, NamespaceErrors) {
  EXPECT_EQ(error_after([](json& d) { d["linux"]["namespaces"][2]["type"] = "netz"; }),
            "linux.namespaces[2].type: unknown namespace type `netz`");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["namespaces"][2]["type"] = 5; }),
            "linux.namespaces[2].type: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["namespaces"][2].erase("type"); }),
            "linux.namespaces[2].type: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["namespaces"][3]["type"] = "pid"; }),
            "linux.namespaces[3].type: duplicate namespace type `pid`");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["namespaces"][0]["path"] = 1; }),
            "linux.namespaces[0].path: expected a string");
}

TEST(SpecParse, NamespaceTypeNames) {
  EXPECT_STREQ(namespace_type_name(NamespaceType::pid), "pid");
  EXPECT_STREQ(namespace_type_name(NamespaceType::network), "network");
  EXPECT_STREQ(namespace_type_name(NamespaceType::mount), "mount");
  EXPECT_STREQ(namespace_type_name(NamespaceType::ipc), "ipc");
  EXPECT_STREQ(namespace_type_name(NamespaceType::uts), "uts");
  EXPECT_STREQ(namespace_type_name(NamespaceType::user), "user");
  EXPECT_STREQ(namespace_type_name(NamespaceType::cgroup), "cgroup");
  EXPECT_STREQ(namespace_type_name(NamespaceType::time), "time");
}

TEST(SpecParse, LinuxIdMappingAndDeviceErrors) {
  EXPECT_EQ(error_after([](json& d) { d["linux"]["uidMappings"][1]["hostID"] = "x"; }),
            "linux.uidMappings[1].hostID: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["gidMappings"][0].erase("containerID"); }),
            "linux.gidMappings[0].containerID: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["devices"][0]["type"] = "x"; }),
            "linux.devices[0].type: unknown device type `x` (expected c, b, u or p)");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["devices"][0]["type"] = "cb"; }),
            "linux.devices[0].type: unknown device type `cb` (expected c, b, u or p)");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["devices"][0]["path"] = "dev/fuse"; }),
            "linux.devices[0].path: must be an absolute path, got `dev/fuse`");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["devices"][0].erase("major"); }), "linux.devices[0].major: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["devices"][0]["fileMode"] = "0666"; }),
            "linux.devices[0].fileMode: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["devices"][1]["type"] = "b"; }), "linux.devices[1].major: required");
}

TEST(SpecParse, LinuxMiscErrors) {
  EXPECT_EQ(error_after([](json& d) { d["linux"]["resources"] = "x"; }), "linux.resources: expected an object");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["sysctl"]["kernel.x"] = 1; }),
            "linux.sysctl.kernel.x: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["rootfsPropagation"] = "bogus"; }),
            "linux.rootfsPropagation: unknown propagation `bogus`");
  for (const char* ok : {"", "shared", "slave", "private", "unbindable", "rshared", "rprivate", "runbindable"})
    EXPECT_EQ(error_after([&](json& d) { d["linux"]["rootfsPropagation"] = ok; }), "") << ok;
  EXPECT_EQ(error_after([](json& d) { d["linux"]["personality"]["domain"] = "LINUX64"; }),
            "linux.personality.domain: unknown domain `LINUX64` (expected LINUX or LINUX32)");
  EXPECT_EQ(error_after([](json& d) {
              d["linux"]["personality"] = {{"flags", json::array()}};
            }),
            "linux.personality.domain: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["maskedPaths"] = "/proc"; }),
            "linux.maskedPaths: expected an array of strings");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["readonlyPaths"] = {true}; }),
            "linux.readonlyPaths[0]: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["cgroupsPath"] = 3; }), "linux.cgroupsPath: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["mountLabel"] = 3; }), "linux.mountLabel: expected a string");
}

TEST(SpecParse, PersonalityLinuxIsZero) {
  json doc = json::parse(kFullSpec);
  doc["linux"]["personality"]["domain"] = "LINUX";
  EXPECT_EQ(parse_ok(doc.dump()).linux.personality, 0u);
}

TEST(SpecParse, SeccompStructureErrors) {
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"].erase("defaultAction"); }),
            "linux.seccomp.defaultAction: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["defaultErrnoRet"] = -1; }),
            "linux.seccomp.defaultErrnoRet: value -1 is out of range");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["architectures"] = "x86"; }),
            "linux.seccomp.architectures: expected an array of strings");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["syscalls"][0]["names"] = json::array(); }),
            "linux.seccomp.syscalls[0].names: must not be empty");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["syscalls"][0].erase("names"); }),
            "linux.seccomp.syscalls[0].names: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["syscalls"][2].erase("action"); }),
            "linux.seccomp.syscalls[2].action: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["syscalls"][1]["args"][0].erase("index"); }),
            "linux.seccomp.syscalls[1].args[0].index: required");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["syscalls"][1]["args"][0]["op"] = 1; }),
            "linux.seccomp.syscalls[1].args[0].op: expected a string");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["syscalls"][1]["args"][0]["valueTwo"] = "1"; }),
            "linux.seccomp.syscalls[1].args[0].valueTwo: expected an integer");
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"] = {1, 2}; }), "linux.seccomp: expected an object");
  // Action, operator and architecture names are the seccomp compiler's business.
  EXPECT_EQ(error_after([](json& d) { d["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_WHATEVER"; }), "");
}

TEST(SpecParse, ProcessAloneForExec) {
  auto p = parse_process(R"({"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=b"], "terminal": false,
                             "user": {"uid": 5, "gid": 6}, "capabilities": {"bounding": ["CAP_KILL"]}})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->args, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->user.uid, 5u);
  EXPECT_EQ(p->capabilities->bounding, (std::vector<int>{5}));
  auto bad = parse_process(R"({"args": ["ls"], "cwd": "tmp"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "process.cwd: must be an absolute path, got `tmp`");
  auto malformed = parse_process("{\"args\": [");
  ASSERT_FALSE(malformed);
  EXPECT_THAT(malformed.error().message, StartsWith("process: invalid JSON at byte"));
}

TEST(SpecLoad, MissingConfigNamesThePathAndTheFix) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto loaded = load_spec(dir->path());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ENOENT);
  EXPECT_THAT(loaded.error().message, HasSubstr(dir->path() + "/config.json"));
  EXPECT_THAT(loaded.error().message, HasSubstr("ctr-runtime spec"));
}

TEST(SpecLoad, ReadsConfigFromTheBundle) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->path() + "/config.json", default_spec_json(false)));
  auto loaded = load_spec(dir->path());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->root.path, dir->path() + "/rootfs");
  ASSERT_TRUE(write_file_atomic(dir->path() + "/config.json", "{\"root\": {\"path\": 1}}"));
  auto bad = load_spec(dir->path());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "root.path: expected a string");
}

TEST(SpecDefault, IsPrettyPrintedWithTwoSpaces) {
  std::string text = default_spec_json(false);
  EXPECT_THAT(text, StartsWith("{\n  \"ociVersion\": \"1.1.0\",\n  \"process\": {\n    \"terminal\": true,"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(SpecDefault, RoundTripsThroughTheParser) {
  Spec s = parse_ok(default_spec_json(false), "/b");
  ASSERT_TRUE(s.process);
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->args, (std::vector<std::string>{"sh"}));
  EXPECT_EQ(s.process->env, (std::vector<std::string>{
                                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}));
  EXPECT_EQ(s.process->cwd, "/");
  const std::vector<int> caps{29, 5, 10};  // AUDIT_WRITE, KILL, NET_BIND_SERVICE
  EXPECT_EQ(s.process->capabilities->bounding, caps);
  EXPECT_EQ(s.process->capabilities->effective, caps);
  EXPECT_EQ(s.process->capabilities->permitted, caps);
  EXPECT_TRUE(s.process->capabilities->inheritable.empty());
  EXPECT_TRUE(s.process->capabilities->ambient.empty());
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s.process->rlimits[0].soft, 1024u);
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_EQ(s.root.path, "/b/rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "ctr");
  std::vector<std::string> destinations;
  for (const auto& m : s.mounts) destinations.push_back(m.destination);
  EXPECT_EQ(destinations, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                                    "/sys/fs/cgroup"}));
  EXPECT_EQ(s.mounts[2].options,
            (std::vector<std::string>{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  std::vector<NamespaceType> types;
  for (const auto& ns : s.linux.namespaces) types.push_back(ns.type);
  EXPECT_EQ(types, (std::vector<NamespaceType>{NamespaceType::pid, NamespaceType::network, NamespaceType::ipc,
                                               NamespaceType::uts, NamespaceType::mount, NamespaceType::cgroup}));
  EXPECT_TRUE(s.linux.uid_mappings.empty());
  EXPECT_THAT(s.linux.resources_json, HasSubstr("\"devices\""));
  EXPECT_THAT(s.linux.masked_paths, ::testing::Contains("/proc/kcore"));
  EXPECT_THAT(s.linux.masked_paths, ::testing::Contains("/sys/firmware"));
  EXPECT_EQ(s.linux.readonly_paths,
            (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
}

TEST(SpecDefault, RootlessAddsUserNamespaceAndDropsWhatNeedsPrivileges) {
  Spec s = parse_ok(default_spec_json(true), "/b");
  ASSERT_NE(s.linux.find_namespace(NamespaceType::user), nullptr);
  EXPECT_EQ(s.linux.find_namespace(NamespaceType::network), nullptr);
  EXPECT_NE(s.linux.find_namespace(NamespaceType::mount), nullptr);
  ASSERT_EQ(s.linux.uid_mappings.size(), 1u);
  EXPECT_EQ(s.linux.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(s.linux.uid_mappings[0].host_id, ::geteuid());
  EXPECT_EQ(s.linux.uid_mappings[0].size, 1u);
  ASSERT_EQ(s.linux.gid_mappings.size(), 1u);
  EXPECT_EQ(s.linux.gid_mappings[0].host_id, ::getegid());
  EXPECT_EQ(s.linux.resources_json, "");
  EXPECT_FALSE(s.linux.masked_paths.empty());
  const Mount* sys = nullptr;
  for (const auto& m : s.mounts) {
    EXPECT_NE(m.destination, "/sys/fs/cgroup");
    EXPECT_THAT(m.options, Not(::testing::Contains("gid=5"))) << m.destination;
    if (m.destination == "/sys") sys = &m;
  }
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->type, "none");
  EXPECT_EQ(sys->source, "/sys");
  EXPECT_EQ(sys->options, (std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"}));
  EXPECT_EQ(s.mounts.size(), 6u);
}

TEST(SpecDefault, MountOptionsOfTheDefaultSpecDecode) {
  for (bool rootless : {false, true}) {
    Spec s = parse_ok(default_spec_json(rootless), "/b");
    for (const auto& m : s.mounts) {
      auto decoded = parse_mount_options(m.options);
      ASSERT_TRUE(decoded) << m.destination;
      if (m.destination == "/dev") {
        EXPECT_EQ(decoded->data, "mode=755,size=65536k");
      }
      if (m.destination == "/sys") {
        EXPECT_TRUE(decoded->flags & 1 /* MS_RDONLY */);
        EXPECT_EQ(decoded->bind && decoded->recursive, rootless);
      }
    }
  }
}
