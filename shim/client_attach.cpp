// The client side of attach: detach keys, one connection, and the copy loop.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/client.h"

namespace ctr::shim {

Result<std::string> parse_detach_keys(std::string_view spec) {
  std::string keys;
  if (spec.empty()) return keys;
  for (const auto& part : split(spec, ',')) {
    if (part.size() == 1) {
      keys += part[0];
      continue;
    }
    if (starts_with(part, "ctrl-") && part.size() == 6) {
      char c = part[5];
      if (c >= 'a' && c <= 'z') {
        keys += static_cast<char>(c - 'a' + 1);
        continue;
      }
      if (const char* special = std::strchr("@[\\]^_", c); special && c) {
        keys += static_cast<char>(c == '@' ? 0 : c - '[' + 27);
        continue;
      }
    }
    return make_error(
        "invalid detach key \"" + part + "\" in \"" + std::string(spec) +
            "\": use single characters or ctrl-<a-z|@|[|\\|]|^|_>, separated by commas (e.g. ctrl-p,ctrl-q)",
        EINVAL);
  }
  return keys;
}

std::string DetachKeyFilter::feed(std::string_view input, bool* detached) {
  std::string out;
  *detached = false;
  if (keys_.empty()) return std::string(input);
  for (char c : input) {
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        *detached = true;
        matched_ = 0;
        return out;
      }
      continue;
    }
    // Not the sequence after all: what was held goes through; this byte may
    // start a new sequence.
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0])
      matched_ = 1;
    else
      out += c;
  }
  return out;
}

Result<AttachConnection> AttachConnection::connect(const std::string& state_dir) {
  AttachConnection connection;
  TRY_ASSIGN(fd, connect_seqpacket(state_dir + "/" + kAttachSocket));
  connection.fd_ = std::move(fd);
  return connection;
}

Status AttachConnection::send_raw(const std::string& packet) {
  for (;;) {
    if (::send(fd_.get(), packet.data(), packet.size(), MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return sys_error("send to the shim");
  }
}

Status AttachConnection::send_stdin(std::string_view data) {
  for (size_t offset = 0; offset < data.size(); offset += kMaxPayload)
    TRY(send_raw(make_packet(kStdin, data.data() + offset, std::min(kMaxPayload, data.size() - offset))));
  return {};
}

Status AttachConnection::send_stdin_eof() {
  return send_raw(make_packet(kStdinEof, ""));
}

Status AttachConnection::resize(uint16_t rows, uint16_t cols) {
  uint16_t size[2] = {rows, cols};
  return send_raw(make_packet(kResize, size, sizeof size));
}

Result<std::optional<Packet>> AttachConnection::receive(std::chrono::milliseconds timeout) {
  pollfd pfd{fd_.get(), POLLIN, 0};
  int n;
  do {
    n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return make_error("no packet from the shim within " + std::to_string(timeout.count()) + " ms", ETIMEDOUT);
  static thread_local char buffer[kMaxPayload + 64 * 1024];
  ssize_t got;
  do {
    got = ::recv(fd_.get(), buffer, sizeof buffer, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0 && errno != ECONNRESET) return sys_error("receive from the shim");
  if (got <= 0) return std::optional<Packet>();
  Packet packet;
  packet.type = static_cast<PacketType>(static_cast<uint8_t>(buffer[0]));
  packet.payload.assign(buffer + 1, static_cast<size_t>(got) - 1);
  return std::optional<Packet>(std::move(packet));
}

namespace {

// SIGWINCH as an fd, for the duration of one attach (blocked in this thread).
struct WinchWatch {
  UniqueFd fd;
  sigset_t old_mask;
  bool active = false;
  explicit WinchWatch(bool wanted) {
    if (!wanted) return;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    if (::pthread_sigmask(SIG_BLOCK, &mask, &old_mask) != 0) return;
    active = true;
    fd.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~WinchWatch() {
    if (active) ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
};

Status send_window_size(AttachConnection& connection, int terminal_fd) {
  winsize size{};
  if (::ioctl(terminal_fd, TIOCGWINSZ, &size) != 0) return {};  // not a terminal after all
  return connection.resize(size.ws_row, size.ws_col);
}

// Handles one packet from the shim; true when the attach is over.
Result<bool> on_packet(const Packet& packet, const AttachOptions& options, AttachResult& result, bool& stdin_open) {
  switch (packet.type) {
    case kStdout:
      TRY_CTX(write_all(options.stdout_fd, packet.payload), "write the container's output");
      break;
    case kStderr:
      TRY_CTX(write_all(options.stderr_fd, packet.payload), "write the container's output");
      break;
    case kExit: {
      TRY_ASSIGN(record, parse_exit_record(packet.payload));
      result.end = AttachEnd::exited;
      result.exit = std::move(record);
      return true;
    }
    case kError:
      result.messages.push_back(packet.payload);
      stdin_open = false;  // the shim refuses our stdin (or us)
      break;
    default:
      break;  // newer packet types are ignored
  }
  return false;
}

}  // namespace

Result<AttachResult> attach(const std::string& state_dir, const AttachOptions& options) {
  AttachResult result;
  auto connected = AttachConnection::connect(state_dir);
  if (!connected) {
    auto status = read_container_status(state_dir);
    if (status && status->state != ContainerState::running) {
      result.end = status->exit ? AttachEnd::exited : AttachEnd::disconnected;
      result.exit = status->exit;
      return result;
    }
    return std::move(connected).error().context("attach to `" + state_dir + "`");
  }
  return attach(std::move(*connected), state_dir, options);
}

Result<AttachResult> attach(AttachConnection connection, const std::string& state_dir, const AttachOptions& options) {
  AttachResult result;
  if (options.on_connected) TRY(options.on_connected());
  WinchWatch winch(options.terminal_fd >= 0);
  if (options.terminal_fd >= 0) TRY(send_window_size(connection, options.terminal_fd));
  DetachKeyFilter filter(options.detach_keys);
  bool stdin_open = options.stdin_fd >= 0;
  for (;;) {
    pollfd pfds[3] = {{connection.fd(), POLLIN, 0},
                      {stdin_open ? options.stdin_fd : -1, POLLIN, 0},
                      {winch.fd ? winch.fd.get() : -1, POLLIN, 0}};
    if (::poll(pfds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if (pfds[2].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(winch.fd.get(), &info, sizeof info) > 0) {
      }
      (void)send_window_size(connection, options.terminal_fd);
    }
    if (pfds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[8192];
      ssize_t n = ::read(options.stdin_fd, buffer, sizeof buffer);
      if (n > 0) {
        bool detached = false;
        std::string data = filter.feed(std::string_view(buffer, static_cast<size_t>(n)), &detached);
        if (!data.empty()) (void)connection.send_stdin(data);
        if (detached) {
          result.end = AttachEnd::detached;
          return result;
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        stdin_open = false;
        if (options.close_stdin_at_eof) (void)connection.send_stdin_eof();
      }
    }
    if (pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      TRY_ASSIGN(packet, connection.receive(std::chrono::milliseconds(0)));
      if (!packet) {  // the shim went away without an exit packet
        auto status = read_container_status(state_dir);
        result.end = status && status->exit ? AttachEnd::exited : AttachEnd::disconnected;
        if (status) result.exit = status->exit;
        return result;
      }
      TRY_ASSIGN(done, on_packet(*packet, options, result, stdin_open));
      if (done) return result;
    }
  }
}

}  // namespace ctr::shim
