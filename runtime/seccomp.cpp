// Compiles an OCI seccomp profile to a BPF program with libseccomp. This runs
// in the parent: libseccomp allocates, so the container's init only receives
// the finished instructions (see child/seccomp_apply.cpp).
#include "runtime/seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "runtime/base/files.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace ctr {
namespace {

// The kernel refuses longer programs (BPF_MAXINSNS), and seccomp(2) takes the
// length as an unsigned short; failing here gives a clearer error than EINVAL
// from inside the container.
constexpr size_t k_max_instructions = 4096;

// Frees the libseccomp context on every path.
class FilterContext {
 public:
  explicit FilterContext(scmp_filter_ctx ctx) : ctx_(ctx) {}
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  ~FilterContext() {
    if (ctx_) seccomp_release(ctx_);
  }
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

// libseccomp returns -errno; turn it into our Error.
Error seccomp_error(const std::string& what, int rc) {
  int err = rc < 0 ? -rc : EINVAL;
  return Error{err, what + ": " + std::strerror(err)};
}

// SCMP_ACT_* name -> libseccomp action. `errno_ret` is the errno for
// SCMP_ACT_ERRNO and the tracer's message value for SCMP_ACT_TRACE.
Result<uint32_t> parse_action(const std::string& name, std::optional<uint32_t> errno_ret, const std::string& field) {
  uint32_t data = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return uint32_t{SCMP_ACT_KILL_THREAD};
  if (name == "SCMP_ACT_KILL_PROCESS") return uint32_t{SCMP_ACT_KILL_PROCESS};
  if (name == "SCMP_ACT_TRAP") return uint32_t{SCMP_ACT_TRAP};
  if (name == "SCMP_ACT_ERRNO") return uint32_t{SCMP_ACT_ERRNO(data)};
  if (name == "SCMP_ACT_TRACE") return uint32_t{SCMP_ACT_TRACE(data)};
  if (name == "SCMP_ACT_ALLOW") return uint32_t{SCMP_ACT_ALLOW};
  if (name == "SCMP_ACT_LOG") return uint32_t{SCMP_ACT_LOG};
  if (name == "SCMP_ACT_NOTIFY") return uint32_t{SCMP_ACT_NOTIFY};
  return make_error(field + ": unknown action " + quoted(name), EINVAL);
}

Result<scmp_compare> parse_operator(const std::string& name, const std::string& field) {
  static const std::pair<std::string_view, scmp_compare> table[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (const auto& [op_name, op] : table)
    if (op_name == name) return op;
  return make_error(field + ": unknown operator " + quoted(name), EINVAL);
}

Result<unsigned int> parse_flag(const std::string& name, const std::string& field) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return static_cast<unsigned int>(SECCOMP_FILTER_FLAG_TSYNC);
  if (name == "SECCOMP_FILTER_FLAG_LOG") return static_cast<unsigned int>(SECCOMP_FILTER_FLAG_LOG);
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return static_cast<unsigned int>(SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
    return static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  return make_error(field + ": unknown flag " + quoted(name), EINVAL);
}

// OCI names are libseccomp's own names, upper-cased behind SCMP_ARCH_
// (SCMP_ARCH_X86_64 -> "x86_64"), so libseccomp resolves them and new
// architectures need no table here.
Status add_architecture(scmp_filter_ctx ctx, const std::string& name, const std::string& field) {
  constexpr std::string_view prefix = "SCMP_ARCH_";
  uint32_t arch = 0;
  if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
    std::string lower = name.substr(prefix.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    arch = seccomp_arch_resolve_name(lower.c_str());
  }
  if (arch == 0) return make_error(field + ": unknown architecture " + quoted(name), EINVAL);
  int rc = seccomp_arch_add(ctx, arch);
  if (rc != 0 && rc != -EEXIST) return seccomp_error(field + ": add architecture " + quoted(name), rc);
  return {};
}

Result<std::vector<scmp_arg_cmp>> parse_args(const std::vector<spec::SeccompArg>& args, const std::string& field) {
  std::vector<scmp_arg_cmp> out;
  out.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg_field = field + ".args[" + std::to_string(i) + "]";
    if (args[i].index >= 6)
      return make_error(arg_field + ".index: " + std::to_string(args[i].index) + " is out of range (0-5)", EINVAL);
    TRY_ASSIGN(op, parse_operator(args[i].op, arg_field + ".op"));
    // For SCMP_CMP_MASKED_EQ `value` is the mask and `valueTwo` the expected
    // result, which is exactly libseccomp's datum_a/datum_b order.
    out.push_back(scmp_arg_cmp{args[i].index, op, args[i].value, args[i].value_two});
  }
  return out;
}

bool has_repeated_index(const std::vector<scmp_arg_cmp>& args) {
  unsigned seen = 0;
  for (const auto& arg : args) {
    if (seen & (1u << arg.arg)) return true;
    seen |= 1u << arg.arg;
  }
  return false;
}

// Adds the rules of one syscalls[] entry. libseccomp ANDs the comparisons of
// one rule; comparisons on the same argument can never all hold, so, like
// runc, a repeated index means "any of them": one rule per comparison.
Status add_syscall_rules(scmp_filter_ctx ctx, const spec::SeccompSyscall& entry, uint32_t action,
                         const std::string& field) {
  TRY_ASSIGN(args, parse_args(entry.args, field));
  bool split_rules = has_repeated_index(args);
  for (const auto& name : entry.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    // Profiles list syscalls of newer kernels and other architectures: runc
    // skips names libseccomp does not know, and so do we.
    if (nr == __NR_SCMP_ERROR) continue;
    std::string what = field + ": add rule for " + quoted(name);
    if (!split_rules) {
      int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned int>(args.size()),
                                      args.empty() ? nullptr : args.data());
      if (rc != 0) return seccomp_error(what, rc);
      continue;
    }
    for (const auto& arg : args) {
      int rc = seccomp_rule_add_array(ctx, action, nr, 1, &arg);
      if (rc != 0) return seccomp_error(what, rc);
    }
  }
  return {};
}

// seccomp_export_bpf writes to an fd; a memfd keeps the program off disk.
Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("ctr-seccomp-bpf", MFD_CLOEXEC));
  if (!fd) return sys_error("seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc != 0) return seccomp_error("seccomp: export BPF", rc);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("seccomp: fstat BPF memfd");
  size_t size = static_cast<size_t>(st.st_size);
  if (size % sizeof(sock_filter) != 0)
    return make_error("seccomp: exported BPF has a partial instruction (" + std::to_string(size) + " bytes)", EINVAL);
  std::vector<sock_filter> filter(size / sizeof(sock_filter));
  char* out = reinterpret_cast<char*>(filter.data());
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd.get(), out + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("seccomp: read BPF memfd");
    if (n == 0) return make_error("seccomp: exported BPF shrank while reading", EIO);
    done += static_cast<size_t>(n);
  }
  return filter;
}

Status apply_flags(const spec::Seccomp& seccomp, SeccompProgram& program) {
  for (size_t i = 0; i < seccomp.flags.size(); ++i) {
    TRY_ASSIGN(flag, parse_flag(seccomp.flags[i], "linux.seccomp.flags[" + std::to_string(i) + "]"));
    program.flags |= flag;
  }
  if (program.wants_listener) {
    if (seccomp.listener_path.empty())
      return make_error("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used", EINVAL);
    program.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // The kernel refuses TSYNC with NEW_LISTENER (both use the return value)
    // unless TSYNC_ESRCH says how a sync failure is reported (Linux 5.7).
    if (program.flags & SECCOMP_FILTER_FLAG_TSYNC) program.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  } else if (program.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    // The kernel would fail with a bare EINVAL inside the container.
    return make_error("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule",
                      EINVAL);
  }
  return {};
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const spec::Seccomp& seccomp) {
  SeccompProgram program;
  TRY_ASSIGN(default_action,
             parse_action(seccomp.default_action, seccomp.default_errno_ret, "linux.seccomp.defaultAction"));
  if (default_action == SCMP_ACT_NOTIFY) program.wants_listener = true;

  FilterContext ctx(seccomp_init(default_action));
  if (!ctx.get())
    return make_error("seccomp: cannot create a filter with defaultAction " + quoted(seccomp.default_action), EINVAL);
  // The filter is exported, not loaded by libseccomp, but keep its state
  // honest: no_new_privs is the runtime's decision (process.noNewPrivileges).
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return seccomp_error("seccomp: clear the no_new_privs attribute", rc);

  for (size_t i = 0; i < seccomp.architectures.size(); ++i)
    TRY(add_architecture(ctx.get(), seccomp.architectures[i],
                         "linux.seccomp.architectures[" + std::to_string(i) + "]"));

  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    const auto& entry = seccomp.syscalls[i];
    std::string field = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    TRY_ASSIGN(action, parse_action(entry.action, entry.errno_ret, field + ".action"));
    // libseccomp rejects a rule whose action is the default one; it would be
    // a no-op anyway.
    if (action == default_action) continue;
    if (action == SCMP_ACT_NOTIFY) program.wants_listener = true;
    TRY(add_syscall_rules(ctx.get(), entry, action, field));
  }
  TRY(apply_flags(seccomp, program));

  TRY_ASSIGN(filter, export_bpf(ctx.get()));
  if (filter.size() > k_max_instructions)
    return make_error("seccomp: the filter has " + std::to_string(filter.size()) +
                          " instructions, more than the kernel's limit of " + std::to_string(k_max_instructions) +
                          ": list fewer architectures or merge rules",
                      E2BIG);
  program.filter = std::move(filter);
  program.listener_path = seccomp.listener_path;
  program.listener_metadata = seccomp.listener_metadata;
  return program;
}

namespace {

// One length-prefixed field of a cache key, so no two profiles serialize alike.
void add_key_field(std::string& key, const std::string& value) {
  key += std::to_string(value.size());
  key += ':';
  key += value;
}

// Everything compile_seccomp's output depends on: the profile (but not the
// listener path and metadata, copied in afterwards), libseccomp's version
// and the native architecture.
std::string cache_key(const spec::Seccomp& seccomp) {
  const scmp_version* version = seccomp_version();
  std::string key = "ctr-seccomp-cache 1 libseccomp " + std::to_string(version->major) + "." +
                    std::to_string(version->minor) + "." + std::to_string(version->micro) + " arch " +
                    std::to_string(seccomp_arch_native()) + "\n";
  auto add_optional = [&key](std::optional<uint32_t> value) {
    add_key_field(key, value ? std::to_string(*value) : "");
  };
  add_key_field(key, seccomp.default_action);
  add_optional(seccomp.default_errno_ret);
  add_key_field(key, std::to_string(seccomp.architectures.size()));
  for (const auto& arch : seccomp.architectures) add_key_field(key, arch);
  add_key_field(key, std::to_string(seccomp.flags.size()));
  for (const auto& flag : seccomp.flags) add_key_field(key, flag);
  add_key_field(key, seccomp.listener_path.empty() ? "-" : "+");  // decides whether NOTIFY is an error
  for (const auto& entry : seccomp.syscalls) {
    add_key_field(key, entry.action);
    add_optional(entry.errno_ret);
    add_key_field(key, std::to_string(entry.names.size()));
    for (const auto& name : entry.names) add_key_field(key, name);
    add_key_field(key, std::to_string(entry.args.size()));
    for (const auto& arg : entry.args)
      add_key_field(key, std::to_string(arg.index) + " " + std::to_string(arg.value) + " " +
                             std::to_string(arg.value_two) + " " + arg.op);
  }
  return key;
}

std::string cache_file_name(const std::string& key) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a: a file name, not a proof
  for (unsigned char c : key) hash = (hash ^ c) * 0x100000001b3ULL;
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(hash));
  return name;
}

// Entry layout: key, NUL, flags (u32), wants_listener (u8), instructions.
std::string encode_entry(const std::string& key, const SeccompProgram& program) {
  std::string entry = key;
  entry += '\0';
  uint32_t flags = program.flags;
  entry.append(reinterpret_cast<const char*>(&flags), sizeof flags);
  entry += static_cast<char>(program.wants_listener ? 1 : 0);
  entry.append(reinterpret_cast<const char*>(program.filter.data()), program.filter.size() * sizeof(sock_filter));
  return entry;
}

std::optional<SeccompProgram> decode_entry(const std::string& key, const std::string& entry) {
  constexpr size_t header = sizeof(uint32_t) + 1;
  if (entry.size() < key.size() + 1 + header || entry.compare(0, key.size(), key) != 0 || entry[key.size()] != '\0')
    return std::nullopt;
  size_t at = key.size() + 1;
  size_t body = entry.size() - at - header;
  if (body == 0 || body % sizeof(sock_filter) != 0 || body / sizeof(sock_filter) > k_max_instructions)
    return std::nullopt;
  SeccompProgram program;
  std::memcpy(&program.flags, entry.data() + at, sizeof(uint32_t));
  program.wants_listener = entry[at + sizeof(uint32_t)] == 1;
  program.filter.resize(body / sizeof(sock_filter));
  std::memcpy(program.filter.data(), entry.data() + at + header, body);
  return program;
}

}  // namespace

Result<SeccompProgram> compile_seccomp_cached(const spec::Seccomp& seccomp, const std::string& cache_dir) {
  std::string key = cache_key(seccomp);
  std::string path = cache_dir + "/" + cache_file_name(key);
  if (auto text = read_file(path)) {
    if (auto program = decode_entry(key, *text)) {
      program->listener_path = seccomp.listener_path;
      program->listener_metadata = seccomp.listener_metadata;
      return std::move(*program);
    }
  }
  TRY_ASSIGN(program, compile_seccomp(seccomp));
  // Atomic, so a concurrent reader sees a whole entry or none; a failed
  // write only means the next start compiles again.
  if (mkdir_p(cache_dir, 0700)) (void)write_file_atomic(path, encode_entry(key, program), 0600, Durability::ephemeral);
  return program;
}

}  // namespace ctr
