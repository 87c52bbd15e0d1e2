#include "shim/attach_server.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

namespace ctr::shim {

Result<AttachServer> AttachServer::listen(const std::string& path, int epoll_fd, AttachHandlers handlers) {
  AttachServer server;
  TRY_ASSIGN(fd, listen_seqpacket(path));
  server.path_ = path;
  server.epoll_fd_ = epoll_fd;
  server.listener_ = std::move(fd);
  server.handlers_ = std::move(handlers);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = server.listener_.get();
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) return sys_error("epoll_ctl attach socket");
  return server;
}

void AttachServer::accept_clients() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or a client gone before we accepted it
    Client& client = clients_[fd];
    client.fd.reset(fd);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      clients_.erase(fd);
      continue;
    }
    had_client_ = true;
    first_client_deadline_.reset();  // it gets everything from here on
  }
}

void AttachServer::hold_output_for_first_client(std::chrono::milliseconds wait) {
  accept_clients();
  if (!had_client_ && listener_) first_client_deadline_ = std::chrono::steady_clock::now() + wait;
}

void AttachServer::update_events(Client& client) {
  epoll_event ev{};
  bool reading = !(stdin_paused_ && client.fd.get() == stdin_owner_);
  ev.events = (reading ? uint32_t{EPOLLIN} : 0u) | (client.queue.empty() ? 0u : uint32_t{EPOLLOUT});
  ev.data.fd = client.fd.get();
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, client.fd.get(), &ev);
}

void AttachServer::update_congestion(Client& client) {
  bool above = client.queued > kHighWater;
  if (above == client.congested_since.has_value()) return;
  if (above)
    client.congested_since = std::chrono::steady_clock::now();
  else
    client.congested_since.reset();
  congested_clients_ += above ? 1 : -1;
}

std::optional<std::chrono::milliseconds> AttachServer::drop_stuck_clients() {
  if (!congested()) return std::nullopt;
  auto now = std::chrono::steady_clock::now();
  std::vector<int> stuck;
  std::optional<std::chrono::milliseconds> next;
  if (first_client_deadline_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*first_client_deadline_ - now);
    if (left.count() <= 0)
      first_client_deadline_.reset();  // nobody came: stop holding the process's output
    else
      next = left;
  }
  for (auto& [fd, client] : clients_) {
    if (!client.congested_since) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*client.congested_since + kStuckAfter - now);
    if (left.count() <= 0)
      stuck.push_back(fd);
    else if (!next || left < *next)
      next = left;
  }
  for (int fd : stuck) drop(fd);
  if (!congested()) return std::nullopt;
  return next;
}

void AttachServer::drop(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  if (it->second.congested_since) --congested_clients_;
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (stdin_owner_ == fd) stdin_owner_ = -1;  // stdin stays open for the next client
  clients_.erase(it);
}

void AttachServer::drain(Client& client) {
  while (!client.queue.empty()) {
    const std::string& packet = client.queue.front();
    ssize_t n = ::send(client.fd.get(), packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // The client is gone (EPIPE/ECONNRESET), but what it sent before it
        // went may still be unread: stop writing, keep reading until EOF.
        client.broken = true;
        client.queue.clear();
        client.queued = 0;
      }
      break;
    }
    client.queued -= packet.size();
    client.queue.pop_front();
  }
  update_congestion(client);
}

void AttachServer::send(Client& client, std::string packet) {
  if (client.broken) return;
  bool was_empty = client.queue.empty();
  client.queued += packet.size();
  client.queue.push_back(std::move(packet));
  if (was_empty)
    drain(client);
  else
    update_congestion(client);
  if (client.queued > kMaxQueued) {
    drop(client.fd.get());
    return;
  }
  if (was_empty != client.queue.empty()) update_events(client);
}

void AttachServer::broadcast(PacketType type, const char* data, size_t size) {
  if (clients_.empty()) return;
  std::vector<int> fds;
  for (auto& [fd, client] : clients_) fds.push_back(fd);
  for (size_t offset = 0; offset < size || size == 0; offset += kMaxPayload) {
    size_t chunk = std::min(kMaxPayload, size - offset);
    for (int fd : fds) {
      auto it = clients_.find(fd);
      if (it != clients_.end()) send(it->second, make_packet(type, data + offset, chunk));
    }
    if (size == 0) break;
  }
}

void AttachServer::handle_packet(Client& client, const char* data, size_t size) {
  int fd = client.fd.get();
  auto type = size ? static_cast<uint8_t>(data[0]) : 0;
  std::string_view payload(data + (size ? 1 : 0), size ? size - 1 : 0);
  auto refuse = [&](const std::string& message) { send(client, make_packet(kError, message)); };
  if (type == kStdin || type == kStdinEof) {
    if (!handlers_.has_stdin) return refuse("the container was not started with stdin open (--stdin)");
    if (stdin_owner_ >= 0 && stdin_owner_ != fd) return refuse("stdin is attached to another client");
    stdin_owner_ = fd;
    if (type == kStdin)
      handlers_.on_stdin(payload);
    else
      handlers_.on_stdin_eof();
  } else if (type == kResize) {
    uint16_t size_fields[2];
    if (payload.size() != sizeof size_fields) return refuse("malformed resize packet");
    std::memcpy(size_fields, payload.data(), sizeof size_fields);
    if (handlers_.has_terminal) handlers_.on_resize(size_fields[0], size_fields[1]);
  } else {
    refuse("unknown attach packet type " + std::to_string(type) + ": closing this connection");
    auto it = clients_.find(fd);
    if (it != clients_.end()) drain(it->second);
    drop(fd);
  }
}

void AttachServer::on_client_event(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  if (events & EPOLLOUT) {
    drain(it->second);
    update_events(it->second);
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  static char buffer[kMaxPayload + 2];
  // A bounded batch per wake-up, so one chatty client cannot starve the rest.
  for (int round = 0; round < 64; ++round) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    // A client that closes with our output unread leaves ECONNRESET pending
    // ahead of the packets it sent last: report-and-clear, then read those.
    if (n < 0 && (errno == EINTR || errno == ECONNRESET)) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return drop(fd);  // disconnected (or an error): forget it
    handle_packet(it->second, buffer, static_cast<size_t>(n));
    it = clients_.find(fd);
    if (it == clients_.end() || (stdin_paused_ && fd == stdin_owner_)) return;
  }
}

void AttachServer::pause_stdin(bool paused) {
  if (paused == stdin_paused_) return;
  stdin_paused_ = paused;
  auto it = clients_.find(stdin_owner_);
  if (it != clients_.end()) update_events(it->second);
}

void AttachServer::finish(const std::string& exit_record) {
  first_client_deadline_.reset();
  if (listener_) {
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener_.get(), nullptr);
    listener_.reset();
    (void)::unlink(path_.c_str());  // newcomers now find exit.json instead
  }
  // A client that cannot take its backlog at once gets a bounded grace (the
  // exit command and the next client are waiting), never forever.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& [fd, client] : clients_) {
    std::string packet = make_packet(kExit, exit_record);
    client.queued += packet.size();
    client.queue.push_back(std::move(packet));
    for (;;) {
      drain(client);
      if (client.queue.empty()) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{client.fd.get(), POLLOUT, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    }
  }
  clients_.clear();
  congested_clients_ = 0;
}

}  // namespace ctr::shim
