// Unit tests of the security part of ctr's config.json: the default seccomp
// profile, podman-format profile files, --security-opt, capabilities,
// --ulimit, --device, --group-add, --env-file and what apply_security does
// to a spec.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>

#include "cmd/container_spec.h"
#include "cmd/seccomp_profile.h"
#include "cmd/spec_security.h"
#include "runtime/seccomp.h"

namespace ctr::cmd {
namespace {

using ojson = nlohmann::ordered_json;

const std::vector<std::string> kRootlessCaps = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",  "CAP_FSETID",
                                                "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                                "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};

// The action the profile gives `name` in an argument-free rule ("" if none).
std::string action_of(const ojson& profile, const std::string& name) {
  for (const auto& rule : profile["syscalls"]) {
    if (rule.contains("args")) continue;
    for (const auto& n : rule["names"])
      if (n == name) return rule["action"].get<std::string>() + (rule.contains("errnoRet") ? "/" + rule["errnoRet"].dump() : "");
  }
  return "";
}

spec::Seccomp to_model(const ojson& profile) {
  spec::Seccomp out;
  out.default_action = profile["defaultAction"];
  if (profile.contains("defaultErrnoRet")) out.default_errno_ret = profile["defaultErrnoRet"].get<uint32_t>();
  out.architectures = profile.value("architectures", std::vector<std::string>{});
  for (const auto& r : profile["syscalls"]) {
    spec::SeccompSyscall sc;
    sc.names = r["names"].get<std::vector<std::string>>();
    sc.action = r["action"];
    if (r.contains("errnoRet")) sc.errno_ret = r["errnoRet"].get<uint32_t>();
    for (const auto& a : r.value("args", ojson::array()))
      sc.args.push_back({a["index"].get<unsigned>(), a["value"].get<uint64_t>(), a["valueTwo"].get<uint64_t>(),
                         a["op"].get<std::string>()});
    out.syscalls.push_back(sc);
  }
  return out;
}

TEST(CmdSeccompProfile, DefaultIsAnAllowListWithEnosysForTheRest) {
  ojson profile = default_seccomp_profile(kRootlessCaps, "x86_64");
  EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile["defaultErrnoRet"], 38);
  EXPECT_EQ(profile["architectures"], ojson({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  for (const char* name : {"read", "execve", "clone", "mount", "unshare", "arch_prctl", "chroot"})
    EXPECT_EQ(action_of(profile, name), "SCMP_ACT_ALLOW") << name;
  for (const char* name : {"kexec_load", "userfaultfd", "swapon", "swapoff", "vmsplice"})
    EXPECT_EQ(action_of(profile, name), "SCMP_ACT_ERRNO/1") << name;
  for (const char* name : {"sethostname", "bpf", "perf_event_open", "init_module", "settimeofday", "kcmp"})
    EXPECT_NE(action_of(profile, name), "SCMP_ACT_ALLOW") << name;
  EXPECT_EQ(action_of(profile, "sethostname"), "SCMP_ACT_ERRNO/1");
  EXPECT_EQ(action_of(profile, "io_uring_setup"), "") << "not listed: the default action (ENOSYS) applies";
}

TEST(CmdSeccompProfile, CapabilitiesUnlockTheirGroups) {
  auto caps = kRootlessCaps;
  caps.push_back("CAP_SYS_ADMIN");
  caps.push_back("CAP_SYS_TIME");
  ojson profile = default_seccomp_profile(caps, "x86_64");
  EXPECT_EQ(action_of(profile, "sethostname"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(action_of(profile, "bpf"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(action_of(profile, "settimeofday"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(action_of(profile, "init_module"), "SCMP_ACT_ERRNO/1");

  auto without_chroot = kRootlessCaps;
  without_chroot.erase(std::find(without_chroot.begin(), without_chroot.end(), "CAP_SYS_CHROOT"));
  EXPECT_EQ(action_of(default_seccomp_profile(without_chroot, "x86_64"), "chroot"), "SCMP_ACT_ERRNO/1");
}

TEST(CmdSeccompProfile, ArchitecturesFollowTheHost) {
  ojson arm = default_seccomp_profile(kRootlessCaps, "aarch64");
  EXPECT_EQ(arm["architectures"], ojson({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_EQ(action_of(arm, "arch_prctl"), "");
  EXPECT_EQ(action_of(arm, "set_tls"), "SCMP_ACT_ALLOW");
  EXPECT_FALSE(default_seccomp_profile(kRootlessCaps, "riscv64").contains("architectures"));
}

TEST(CmdSeccompProfile, DefaultCompilesWithLibseccomp) {
  for (bool admin : {false, true}) {
    auto caps = kRootlessCaps;
    if (admin) caps.push_back("CAP_SYS_ADMIN");
    auto program = compile_seccomp(to_model(default_seccomp_profile(caps, host_arch())));
    ASSERT_TRUE(program.ok()) << program.error().message;
    EXPECT_GT(program->filter.size(), 100u);
    EXPECT_LT(program->filter.size(), 4096u);
  }
}

TEST(CmdSeccompProfile, ReadsPodmanFormatProfiles) {
  const char* text = R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
      {"name": "sethostname", "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["arch_prctl"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["amd64"]}},
      {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
    ]})";
  auto profile = parse_seccomp_profile(text, "p.json", kRootlessCaps, "x86_64");
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  EXPECT_EQ((*profile)["architectures"], ojson({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  ASSERT_EQ((*profile)["syscalls"].size(), 4u) << (*profile)["syscalls"].dump();
  EXPECT_EQ((*profile)["syscalls"][0]["errnoRet"], 1);
  EXPECT_EQ((*profile)["syscalls"][1]["names"], ojson({"sethostname"}));
  EXPECT_EQ((*profile)["syscalls"][2]["names"], ojson({"arch_prctl"}));
  EXPECT_EQ((*profile)["syscalls"][3]["args"][0]["valueTwo"], 0);

  auto on_arm = parse_seccomp_profile(text, "p.json", {"CAP_SYS_ADMIN"}, "aarch64");
  ASSERT_TRUE(on_arm.ok()) << on_arm.error().message;
  EXPECT_EQ((*on_arm)["architectures"], ojson({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  std::vector<std::string> names;
  for (const auto& r : (*on_arm)["syscalls"]) names.push_back(r["names"][0]);
  EXPECT_EQ(names, (std::vector<std::string>{"mkdir", "chroot", "personality"}));
}

TEST(CmdSeccompProfile, BadProfilesNameTheFileAndField) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"syscalls": []})", "defaultAction: missing"},
      {R"({"defaultAction": "SCMP_ACT_NOPE"})", "unknown action"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_BAD"}]})",
       "syscalls[0].action"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]})",
       "syscalls[0]: has no \"names\""},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]})",
       "unknown operator"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]})", "unknown architecture"},
  };
  for (const auto& c : cases) {
    auto profile = parse_seccomp_profile(c.text, "/tmp/bad.json", kRootlessCaps, "x86_64");
    ASSERT_FALSE(profile.ok()) << c.text;
    EXPECT_NE(profile.error().message.find("seccomp profile /tmp/bad.json"), std::string::npos)
        << profile.error().message;
    EXPECT_NE(profile.error().message.find(c.expect), std::string::npos) << profile.error().message;
  }
  auto missing = load_seccomp_profile("/nonexistent/profile.json", kRootlessCaps, "x86_64");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/profile.json"), std::string::npos);
}

TEST(CmdSpecSecurity, ParsesSecurityOptions) {
  auto opts = parse_security_opts({"seccomp=unconfined", "no-new-privileges", "mask=/proc/a:/proc/b",
                                   "unmask=/proc/kcore", "label=disable", "apparmor=unconfined"});
  ASSERT_TRUE(opts.ok()) << opts.error().message;
  EXPECT_EQ(opts->seccomp, SecurityOptions::Seccomp::unconfined);
  EXPECT_EQ(opts->no_new_privileges, true);
  EXPECT_EQ(opts->mask, (std::vector<std::string>{"/proc/a", "/proc/b"}));
  EXPECT_EQ(opts->unmask, std::vector<std::string>{"/proc/kcore"});
  auto file = parse_security_opts({"seccomp=/etc/p.json", "no-new-privileges=false", "unmask=ALL"});
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->seccomp, SecurityOptions::Seccomp::file);
  EXPECT_EQ(file->seccomp_file, "/etc/p.json");
  EXPECT_EQ(file->no_new_privileges, false);
  EXPECT_TRUE(file->unmask_all);

  for (const char* bad : {"bogus=1", "no-new-privileges=maybe", "label=type:spc_t", "apparmor=docker-default",
                          "mask=relative", "seccomp", "seccomp="}) {
    auto parsed = parse_security_opts({bad});
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  EXPECT_NE(parse_security_opts({"label=level:s0"}).error().message.find("not supported"), std::string::npos);
  EXPECT_NE(parse_security_opts({"bogus"}).error().message.find("bogus"), std::string::npos);
}

TEST(CmdSpecSecurity, ResolvesCapabilities) {
  auto caps = resolve_capabilities({"net_admin", "CAP_SYS_PTRACE"}, {"chown", "CAP_KILL"}, false);
  ASSERT_TRUE(caps.ok()) << caps.error().message;
  auto has = [&](const char* c) { return std::find(caps->begin(), caps->end(), c) != caps->end(); };
  EXPECT_TRUE(has("CAP_NET_ADMIN"));
  EXPECT_TRUE(has("CAP_SYS_PTRACE"));
  EXPECT_TRUE(has("CAP_SETUID"));
  EXPECT_FALSE(has("CAP_CHOWN"));
  EXPECT_FALSE(has("CAP_KILL"));

  auto only = resolve_capabilities({"NET_RAW"}, {"ALL"}, false);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(*only, std::vector<std::string>{"CAP_NET_RAW"});
  auto all = resolve_capabilities({"all"}, {}, false);
  ASSERT_TRUE(all.ok());
  EXPECT_GE(all->size(), 38u);
  auto privileged = resolve_capabilities({}, {"SYS_ADMIN"}, true);
  ASSERT_TRUE(privileged.ok());
  EXPECT_EQ(privileged->size(), all->size() - 1);

  auto unknown = resolve_capabilities({"CAP_FLY"}, {}, false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown capability `CAP_FLY`"), std::string::npos);
}

TEST(CmdSpecSecurity, ParsesUlimits) {
  auto nofile = parse_ulimit("nofile=1024:2048");
  ASSERT_TRUE(nofile.ok()) << nofile.error().message;
  EXPECT_EQ(nofile->type, "RLIMIT_NOFILE");
  EXPECT_EQ(nofile->soft, 1024u);
  EXPECT_EQ(nofile->hard, 2048u);
  auto single = parse_ulimit("core=0");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->hard, 0u);
  auto unlimited = parse_ulimit("memlock=-1:-1");
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ(unlimited->hard, RLIM_INFINITY);
  for (const char* bad : {"nofile", "files=10", "nofile=abc", "nofile=10:5", "nofile=1:2:3"})
    EXPECT_FALSE(parse_ulimit(bad).ok()) << bad;
  EXPECT_NE(parse_ulimit("files=10").error().message.find("nofile"), std::string::npos) << "lists known names";

  rlimit current{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &current), 0);
  if (current.rlim_max != RLIM_INFINITY) {
    Ulimit above{"RLIMIT_NOFILE", current.rlim_max + 1, current.rlim_max + 1};
    auto checked = check_ulimit(above, "nofile=big");
    ASSERT_FALSE(checked.ok());
    EXPECT_NE(checked.error().message.find("above yours"), std::string::npos);
  }
  EXPECT_TRUE(check_ulimit(Ulimit{"RLIMIT_NOFILE", 10, 10}, "nofile=10").ok());
}

TEST(CmdSpecSecurity, ParsesDevices) {
  auto plain = parse_device("/dev/fuse");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->container, "/dev/fuse");
  EXPECT_FALSE(plain->read_only);
  auto renamed = parse_device("/dev/null:/dev/mynull:r");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->host, "/dev/null");
  EXPECT_EQ(renamed->container, "/dev/mynull");
  EXPECT_TRUE(renamed->read_only);
  auto perms = parse_device("/dev/null:rw");
  ASSERT_TRUE(perms.ok());
  EXPECT_EQ(perms->container, "/dev/null");
  for (const char* bad : {"", "dev/null", "/dev/null:/x:rwq", "/dev/null:relative", "/a:/b:r:x"})
    EXPECT_FALSE(parse_device(bad).ok()) << bad;
}

TEST(CmdSpecSecurity, ResolvesGroups) {
  const char* groups = "root:x:0:\naudio:x:29:\nvideo:x:44:bob\n";
  auto gids = resolve_groups({"audio", "100", "video", "29"}, groups);
  ASSERT_TRUE(gids.ok()) << gids.error().message;
  EXPECT_EQ(*gids, (std::vector<uint32_t>{29, 100, 44}));
  auto unknown = resolve_groups({"wheel"}, groups);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("wheel"), std::string::npos);
  EXPECT_FALSE(resolve_groups({"keep-groups"}, groups).ok());
}

TEST(CmdSpecSecurity, ParsesEnvFiles) {
  ::setenv("CTR_TEST_FROM_HOST", "host-value", 1);
  ::unsetenv("CTR_TEST_UNSET");
  auto env = parse_env_file("# comment\n\nA=1\n  B = x=y\nCTR_TEST_FROM_HOST\nCTR_TEST_UNSET\nC=\r\n", "f.env");
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(*env, (std::vector<std::string>{"A=1", "B= x=y", "CTR_TEST_FROM_HOST=host-value", "C="}));
  auto bad = parse_env_file("A=1\nBAD KEY=2\n", "f.env");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("f.env:2"), std::string::npos) << bad.error().message;
}

ojson minimal_spec() {
  return {{"process",
           {{"user", {{"uid", 0}, {"gid", 0}}},
            {"rlimits", ojson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
            {"noNewPrivileges", false}}},
          {"root", {{"path", "/r"}, {"readonly", false}}},
          {"mounts",
           ojson::array({{{"destination", "/dev/shm"},
                          {"type", "tmpfs"},
                          {"source", "shm"},
                          {"options", {"nosuid", "size=65536k"}}},
                         {{"destination", "/tmp"}, {"type", "bind"}, {"source", "/x"}, {"options", {"rbind"}}}})},
          {"linux", {{"maskedPaths", {"/proc/kcore", "/proc/keys"}}, {"readonlyPaths", {"/proc/sys"}}}}};
}

const ojson* mount_at(const ojson& spec, const std::string& destination) {
  for (const auto& m : spec["mounts"])
    if (m["destination"] == destination) return &m;
  return nullptr;
}

TEST(CmdSpecSecurity, DefaultsAddSeccompAndKeepPaths) {
  ojson spec = minimal_spec();
  ASSERT_TRUE(apply_security(spec, SecurityFlags{}, {"", true, "x86_64"}).ok());
  EXPECT_EQ(spec["linux"]["seccomp"]["defaultErrnoRet"], 38);
  EXPECT_EQ(spec["linux"]["maskedPaths"].size(), 2u);
  EXPECT_EQ(spec["process"]["capabilities"]["bounding"].size(), 11u);
  EXPECT_EQ(spec["process"]["capabilities"]["effective"].size(), 11u);
  EXPECT_EQ(spec["root"]["readonly"], false);
}

TEST(CmdSpecSecurity, AppliesFlagsToTheSpec) {
  ojson spec = minimal_spec();
  SecurityFlags flags;
  flags.read_only = true;
  flags.shm_size = "128m";
  flags.ulimits = {"nofile=100:200", "core=0"};
  flags.security_opts = {"no-new-privileges", "mask=/proc/foo", "unmask=/proc/kcore", "seccomp=unconfined"};
  flags.cap_add = {"NET_ADMIN"};
  flags.group_add = {"audio", "7"};
  flags.devices = {"/dev/null:/dev/other-null:r"};
  ASSERT_TRUE(apply_security(spec, flags, {"audio:x:29:\n", false, "x86_64"}).ok());
  EXPECT_EQ(spec["root"]["readonly"], true);
  ASSERT_NE(mount_at(spec, "/run"), nullptr);
  ASSERT_NE(mount_at(spec, "/var/tmp"), nullptr);
  EXPECT_EQ((*mount_at(spec, "/tmp"))["type"], "bind") << "an existing mount on /tmp wins";
  EXPECT_EQ((*mount_at(spec, "/dev/shm"))["options"], ojson({"nosuid", "size=134217728"}));
  ASSERT_NE(mount_at(spec, "/dev/other-null"), nullptr);
  EXPECT_EQ((*mount_at(spec, "/dev/other-null"))["source"], "/dev/null");
  EXPECT_EQ((*mount_at(spec, "/dev/other-null"))["options"].back(), "ro");
  EXPECT_EQ(spec["process"]["rlimits"].size(), 2u);
  EXPECT_EQ(spec["process"]["rlimits"][0]["soft"], 100);
  EXPECT_EQ(spec["process"]["noNewPrivileges"], true);
  EXPECT_EQ(spec["linux"]["maskedPaths"], ojson({"/proc/keys", "/proc/foo"}));
  EXPECT_FALSE(spec["linux"].contains("seccomp"));
  EXPECT_EQ(spec["process"]["capabilities"]["effective"], ojson({"CAP_NET_ADMIN"})) << "non-root: only --cap-add";
  EXPECT_EQ(spec["process"]["capabilities"]["ambient"], ojson({"CAP_NET_ADMIN"}));
  EXPECT_EQ(spec["process"]["user"]["additionalGids"], ojson({29, 7}));
}

TEST(CmdSpecSecurity, PrivilegedDropsSeccompAndMasks) {
  ojson spec = minimal_spec();
  SecurityFlags flags;
  flags.privileged = true;
  ASSERT_TRUE(apply_security(spec, flags, {"", true, "x86_64"}).ok());
  EXPECT_FALSE(spec["linux"].contains("seccomp"));
  EXPECT_TRUE(spec["linux"]["maskedPaths"].empty());
  EXPECT_TRUE(spec["linux"]["readonlyPaths"].empty());
  EXPECT_GE(spec["process"]["capabilities"]["bounding"].size(), 38u);
}

TEST(CmdSpecSecurity, BadFlagsFail) {
  auto fails = [](SecurityFlags flags) {
    ojson spec = minimal_spec();
    return !apply_security(spec, flags, {"", true, "x86_64"}).ok();
  };
  SecurityFlags missing_device;
  missing_device.devices = {"/dev/ctr-no-such-device"};
  EXPECT_TRUE(fails(missing_device));
  SecurityFlags not_a_device;
  not_a_device.devices = {"/etc/passwd"};
  EXPECT_TRUE(fails(not_a_device));
  SecurityFlags bad_shm;
  bad_shm.shm_size = "lots";
  EXPECT_TRUE(fails(bad_shm));
  SecurityFlags bad_file;
  bad_file.security_opts = {"seccomp=/nonexistent.json"};
  EXPECT_TRUE(fails(bad_file));
}

}  // namespace
}  // namespace ctr::cmd
