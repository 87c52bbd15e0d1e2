// UDP forwarding: each client address gets its own socket, connected to the
// target from inside the container's namespace, so the replies find their
// way back; a flow idle for 90 s (rootlesskit's figure) is closed.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "shim/proxy_loop.h"

namespace ctr::shim::proxy {
namespace {

constexpr auto kIdleFlow = std::chrono::seconds(90);
// Enough flows for any honest use; past it the least recently used goes.
constexpr size_t kMaxFlows = 4096;

// One datagram at a time, the largest UDP allows; the loop has one thread.
char datagram[65536];

class UdpForwarder;

class UdpFlow : public Handler {
 public:
  UdpFlow(UdpForwarder& owner, UniqueFd socket, const sockaddr_storage& client, socklen_t length)
      : owner_(owner), socket_(std::move(socket)), client_(client), client_length_(length) {}
  int fd() const { return socket_.get(); }
  Clock::time_point last_used = Clock::now();
  void on_event(uint32_t) override;

 private:
  UdpForwarder& owner_;
  UniqueFd socket_;
  sockaddr_storage client_;
  socklen_t client_length_;
};

class UdpForwarder : public Handler {
 public:
  UdpForwarder(Loop& loop, UniqueFd socket, const sockaddr_in& target)
      : loop_(loop), socket_(std::move(socket)), target_(target) {}
  int fd() const { return socket_.get(); }

  void on_event(uint32_t) override {
    for (;;) {
      sockaddr_storage client{};
      socklen_t length = sizeof client;
      ssize_t n = ::recvfrom(socket_.get(), datagram, sizeof datagram, MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&client), &length);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      UdpFlow* flow = flow_for(client, length);
      if (!flow) continue;  // no socket for it now: the datagram is lost, as UDP may
      flow->last_used = Clock::now();
      (void)::send(flow->fd(), datagram, static_cast<size_t>(n), MSG_DONTWAIT);
    }
  }

  void on_tick(Clock::time_point now) override {
    for (auto it = flows_.begin(); it != flows_.end();) {
      if (now - it->second->last_used < kIdleFlow) {
        ++it;
        continue;
      }
      loop_.drop(it->second);
      it = flows_.erase(it);
    }
  }

  void reply(const sockaddr_storage& client, socklen_t length, size_t bytes) {
    (void)::sendto(socket_.get(), datagram, bytes, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&client), length);
  }

 private:
  UdpFlow* flow_for(const sockaddr_storage& client, socklen_t length) {
    std::string key(reinterpret_cast<const char*>(&client), length);
    if (auto it = flows_.find(key); it != flows_.end()) return it->second;
    if (flows_.size() >= kMaxFlows) drop_least_recent();
    UniqueFd upstream(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!upstream || ::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0)
      return nullptr;
    int fd = upstream.get();
    auto flow = loop_.adopt_watching(std::make_unique<UdpFlow>(*this, std::move(upstream), client, length), fd, EPOLLIN);
    if (!flow) return nullptr;
    auto* raw = static_cast<UdpFlow*>(*flow);
    flows_.emplace(std::move(key), raw);
    return raw;
  }

  void drop_least_recent() {
    auto oldest = flows_.begin();
    for (auto it = flows_.begin(); it != flows_.end(); ++it)
      if (it->second->last_used < oldest->second->last_used) oldest = it;
    loop_.drop(oldest->second);
    flows_.erase(oldest);
  }

  Loop& loop_;
  UniqueFd socket_;
  sockaddr_in target_;
  std::map<std::string, UdpFlow*> flows_;  // by the client's address
};

void UdpFlow::on_event(uint32_t) {
  for (;;) {
    ssize_t n = ::recv(socket_.get(), datagram, sizeof datagram, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    // An error (ECONNREFUSED: nothing listens on the port yet) is the
    // flow's last datagram lost, not the flow's end.
    if (n < 0 && errno != EAGAIN) continue;
    if (n < 0) return;
    last_used = Clock::now();
    owner_.reply(client_, client_length_, static_cast<size_t>(n));
  }
}

}  // namespace

Result<Handler*> add_udp_forwarder(Loop& loop, UniqueFd socket, const sockaddr_in& target) {
  auto forwarder = std::make_unique<UdpForwarder>(loop, std::move(socket), target);
  int fd = forwarder->fd();
  TRY_ASSIGN(raw, loop.adopt_watching(std::move(forwarder), fd, EPOLLIN));
  loop.tick_me(raw);
  return raw;
}

}  // namespace ctr::shim::proxy
