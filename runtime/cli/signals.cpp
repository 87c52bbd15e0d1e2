#include "runtime/cli/signals.h"

#include <cctype>
#include <string>

#include "runtime/base/strings.h"

namespace ctr::cli {

namespace {

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM},     {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"POLL", SIGPOLL},     {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

std::optional<int> in_range(int64_t number) {
  if (number < 1 || number > SIGRTMAX) return std::nullopt;
  return static_cast<int>(number);
}

// RTMIN, RTMIN+N, RTMAX, RTMAX-N.
std::optional<int> parse_realtime(std::string_view name) {
  bool from_min = starts_with(name, "RTMIN");
  if (!from_min && !starts_with(name, "RTMAX")) return std::nullopt;
  int base = from_min ? SIGRTMIN : SIGRTMAX;
  std::string_view rest = name.substr(5);
  if (rest.empty()) return base;
  if (rest[0] != (from_min ? '+' : '-')) return std::nullopt;
  auto offset = parse_u64(rest.substr(1));
  if (!offset || *offset > static_cast<uint64_t>(SIGRTMAX - SIGRTMIN)) return std::nullopt;
  int64_t n = from_min ? base + static_cast<int64_t>(*offset) : base - static_cast<int64_t>(*offset);
  if (n < SIGRTMIN || n > SIGRTMAX) return std::nullopt;
  return static_cast<int>(n);
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto number = parse_i64(text)) return in_range(*number);
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = upper;
  if (starts_with(name, "SIG")) name.remove_prefix(3);
  for (const auto& s : kSignals)
    if (name == s.name) return s.number;
  return parse_realtime(name);
}

Result<int> parse_signal_or_error(std::string_view text) {
  auto sig = parse_signal(text);
  if (!sig) return make_error("unknown signal \"" + std::string(text) + "\"", EINVAL);
  return *sig;
}

sigset_t forwarded_signals(bool relaying_pty) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) continue;
    if (relaying_pty && sig == SIGWINCH) continue;
    sigaddset(&set, sig);
  }
  // glibc keeps 32 and 33 for itself; SIGRTMIN is past them.
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
  return set;
}

}  // namespace ctr::cli
