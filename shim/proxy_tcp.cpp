// TCP forwarding: each accepted connection gets a connection to the target
// from inside the container's namespace, and the bytes move between the two
// sockets through a pipe with splice(2), never through user space. All
// sockets are non-blocking and edge-triggered: a session pumps both
// directions until nothing moves, whichever socket woke it.
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "shim/proxy_loop.h"

namespace ctr::shim::proxy {
namespace {

// Per direction: 256 KiB moves a large write in a few splices; more did not
// go faster here, and each connection holds two such pipes.
constexpr int kPipeBytes = 256 * 1024;
constexpr uint32_t kEdgeEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

// One way of a connection: from -> pipe -> to.
struct Direction {
  int from = -1, to = -1;
  UniqueFd pipe_read, pipe_write;
  size_t capacity = 0, pending = 0;  // bytes the pipe takes / holds
  bool eof = false;                  // `from` ended
  bool shut = false;                 // and `to` was told (shutdown SHUT_WR)

  Status open(int source, int sink) {
    from = source;
    to = sink;
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return sys_error("pipe");
    pipe_read.reset(fds[0]);
    pipe_write.reset(fds[1]);
    // The per-user pipe budget may refuse a larger pipe: the default then.
    (void)::fcntl(pipe_write.get(), F_SETPIPE_SZ, kPipeBytes);
    int size = ::fcntl(pipe_write.get(), F_GETPIPE_SZ);
    capacity = size > 0 ? static_cast<size_t>(size) : 65536;
    return {};
  }

  // Moves what it can until neither end moves; false on a socket error.
  // Stopping on a full pipe is safe: draining it (`to` writable) runs this
  // again, and a read that found no room is retried then.
  bool pump() {
    for (bool moved = true; moved;) {
      moved = false;
      if (!eof && pending < capacity) {
        ssize_t n = ::splice(from, nullptr, pipe_write.get(), nullptr, capacity - pending,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) pending += static_cast<size_t>(n);
        if (n == 0) eof = true;
        if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
        moved = n >= 0 || errno == EINTR;
      }
      if (pending > 0) {
        ssize_t n = ::splice(pipe_read.get(), nullptr, to, nullptr, pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) pending -= static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
        moved = moved || n > 0 || (n < 0 && errno == EINTR);
      }
    }
    if (eof && pending == 0 && !shut) {
      (void)::shutdown(to, SHUT_WR);
      shut = true;
    }
    return true;
  }
};

class TcpSession;

// One socket of a session: says which one woke it.
struct Endpoint : Handler {
  TcpSession* session = nullptr;
  bool upstream = false;
  void on_event(uint32_t events) override;
};

class TcpSession : public Handler {
 public:
  TcpSession(UniqueFd client, UniqueFd upstream) : client_(std::move(client)), upstream_(std::move(upstream)) {
    client_end_.session = upstream_end_.session = this;
    upstream_end_.upstream = true;
  }

  Status start(Loop& loop) {
    loop_ = &loop;
    TRY(to_upstream_.open(client_.get(), upstream_.get()));
    TRY(to_client_.open(upstream_.get(), client_.get()));
    TRY(loop.watch(client_.get(), kEdgeEvents, &client_end_));
    TRY(loop.watch(upstream_.get(), kEdgeEvents, &upstream_end_));
    return {};
  }

  void on_socket_event(bool upstream, uint32_t events) {
    if (retired) return;
    if (connecting_) {
      // The client may talk first; its bytes wait in its socket.
      if (!upstream || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int error = 0;
      socklen_t length = sizeof error;
      if (::getsockopt(upstream_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0)
        return end(/*reset=*/true);
      connecting_ = false;
    }
    if (!to_upstream_.pump() || !to_client_.pump() || (events & EPOLLERR)) return end(/*reset=*/true);
    if (to_upstream_.shut && to_client_.shut) end(/*reset=*/false);
  }

  void on_event(uint32_t) override {}

 private:
  // reset: a failed connection or a reset on one side is a reset on the
  // other (SO_LINGER 0), as the client would see connecting directly.
  void end(bool reset) {
    if (reset) {
      linger abort{1, 0};
      for (int fd : {client_.get(), upstream_.get()})
        (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    client_end_.retired = upstream_end_.retired = true;
    loop_->drop(this);  // the sockets close (and leave epoll) when it is freed
  }

  UniqueFd client_, upstream_;
  Endpoint client_end_, upstream_end_;
  Direction to_upstream_, to_client_;
  bool connecting_ = true;
  Loop* loop_ = nullptr;
};

void Endpoint::on_event(uint32_t events) {
  session->on_socket_event(upstream, events);
}

class TcpForwarder : public Handler {
 public:
  TcpForwarder(Loop& loop, UniqueFd listener, const sockaddr_in& target)
      : loop_(loop), listener_(std::move(listener)), target_(target) {}
  int fd() const { return listener_.get(); }

  void on_event(uint32_t) override {
    for (;;) {
      UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client && errno == EINTR) continue;
      // EAGAIN: all taken. Anything else (out of fds, a connection that
      // reset while queued) loses that one connection, not the port.
      if (!client) return;
      open_session(std::move(client));
    }
  }

 private:
  void open_session(UniqueFd client) {
    UniqueFd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!upstream) return;
    int one = 1;
    for (int fd : {client.get(), upstream.get()}) (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
        errno != EINPROGRESS)
      return;  // the client sees its connection closed
    auto session = std::make_unique<TcpSession>(std::move(client), std::move(upstream));
    auto* raw = session.get();
    loop_.adopt(std::move(session));
    if (!raw->start(loop_)) loop_.drop(raw);
  }

  Loop& loop_;
  UniqueFd listener_;
  sockaddr_in target_;
};

}  // namespace

Result<Handler*> add_tcp_forwarder(Loop& loop, UniqueFd listener, const sockaddr_in& target) {
  auto forwarder = std::make_unique<TcpForwarder>(loop, std::move(listener), target);
  int fd = forwarder->fd();
  return loop.adopt_watching(std::move(forwarder), fd, EPOLLIN);
}

}  // namespace ctr::shim::proxy
