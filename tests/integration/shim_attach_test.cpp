// ctr-shim attach: several clients, stdin ownership, garbage and vanished
// clients, detach keys, terminals and resizing, and exec sessions.
#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "tests/integration/shim_fixture.h"

namespace ctr::itest {
namespace {

class ShimAttach : public ShimTest {
 protected:
  // A container echoing its stdin lines back as "got LINE", started with stdin open.
  shim::ShimOptions echo_container(const std::string& state) {
    auto bundle = make_bundle();
    bundle.shell("echo ready; while read -r line; do echo \"got $line\"; done; echo bye");
    auto o = options(new_id(), bundle, state);
    o.stdin = true;
    o.start = true;
    return o;
  }
  shim::AttachConnection connect(const std::string& state) {
    auto connection = shim::AttachConnection::connect(state);
    EXPECT_TRUE(connection) << connection.error().message;
    return connection ? std::move(*connection) : shim::AttachConnection();
  }
};

TEST_F(ShimAttach, TwoClientsSeeOutputAndOnlyOneOwnsStdin) {
  auto state = new_state_dir();
  auto o = echo_container(state);
  ASSERT_GT(spawn_ok(o), 0);
  auto first = connect(state);
  auto second = connect(state);
  ASSERT_TRUE(first.send_stdin("hello\n"));
  EXPECT_TRUE(receive_until(first, shim::kStdout, "got hello"));
  EXPECT_TRUE(receive_until(second, shim::kStdout, "got hello"));
  ASSERT_TRUE(second.send_stdin("intruder\n"));
  EXPECT_TRUE(receive_until(second, shim::kError, "another client"));
  ASSERT_TRUE(first.send_stdin("again\n"));
  EXPECT_TRUE(receive_until(second, shim::kStdout, "got again"));
  ASSERT_TRUE(first.send_stdin_eof());
  std::string record;
  EXPECT_TRUE(receive_until(first, shim::kExit, "exit_code", 10s, &record));
  EXPECT_TRUE(receive_until(second, shim::kExit, "exit_code"));
  auto parsed = shim::parse_exit_record(record);
  ASSERT_TRUE(parsed) << record;
  EXPECT_EQ(parsed->exit_code, 0);
  wait_exit(state);
  EXPECT_EQ(log_text(o), "ready\ngot hello\ngot again\nbye\n") << "the intruder's stdin never reached the container";
}

TEST_F(ShimAttach, GarbageAndVanishedClientsHurtNobody) {
  auto state = new_state_dir();
  auto o = echo_container(state);
  ASSERT_GT(spawn_ok(o), 0);
  auto good = connect(state);
  {
    auto vanishing = connect(state);
    ASSERT_TRUE(vanishing.send_stdin("from vanishing\n"));
  }  // closed mid-stream: its stdin ownership ends with it
  auto garbage = connect(state);
  ASSERT_TRUE(garbage.send_raw(std::string("\x63garbage\xff", 9)));
  EXPECT_TRUE(receive_until(garbage, shim::kError, "unknown attach packet"));
  auto closed = garbage.receive(5s);
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_FALSE(*closed) << "the shim drops a client that sends garbage";
  ASSERT_TRUE(good.send_raw(std::string()));  // an empty packet is garbage too, for that client only
  auto other = connect(state);
  ASSERT_TRUE(other.send_stdin("still fine\n"));
  EXPECT_TRUE(receive_until(other, shim::kStdout, "got still fine"));
  ASSERT_TRUE(other.send_stdin_eof());
  auto status = wait_exit(state);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->exit_code, 0);
  EXPECT_NE(log_text(o).find("got from vanishing"), std::string::npos) << log_text(o);
}

// A client that stops reading slows the container down (backpressure) for a
// few seconds at most, then is dropped; a client that reads gets every byte.
TEST_F(ShimAttach, AClientThatNeverReadsIsDroppedNotWaitedFor) {
  auto bundle = make_bundle();
  // 762600 lines of 11 bytes: far more than a socket buffer plus the shim's
  // per-client high-water mark.
  bundle.shell("yes 0123456789 | head -c 8388600");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.log_driver = shim::LogDriver::none;
  o.log_path.clear();
  ASSERT_GT(spawn_ok(o), 0);
  auto stuck = connect(state);  // before start: it is sent everything
  auto reader = connect(state);
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(rt({"start", o.id}).ok());
  size_t received = 0;
  bool exited = false;
  for (;;) {
    auto packet = reader.receive(20s);
    ASSERT_TRUE(packet) << packet.error().message;
    if (!*packet) break;
    if ((*packet)->type == shim::kStdout) received += (*packet)->payload.size();
    if ((*packet)->type == shim::kExit) {
      exited = true;
      EXPECT_NE((*packet)->payload.find("\"exit_code\":0"), std::string::npos) << (*packet)->payload;
      break;
    }
  }
  EXPECT_TRUE(exited);
  EXPECT_EQ(received, 8388600u) << "a reading client gets every byte";
  // The stuck client got what fitted, then the shim let it go (no exit packet).
  size_t stuck_bytes = 0;
  for (;;) {
    auto packet = stuck.receive(10s);
    ASSERT_TRUE(packet) << packet.error().message;
    if (!*packet) break;
    EXPECT_NE((*packet)->type, shim::kExit);
    stuck_bytes += (*packet)->payload.size();
  }
  EXPECT_LT(stuck_bytes, 8388600u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s) << "the stuck client held the container too long";
  wait_exit(state);
}

TEST_F(ShimAttach, DetachKeysLeaveTheContainerRunning) {
  auto state = new_state_dir();
  auto o = echo_container(state);
  ASSERT_GT(spawn_ok(o), 0);
  auto keys = shim::parse_detach_keys("ctrl-x,q");
  ASSERT_TRUE(keys) << keys.error().message;
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd in_read(in[0]), in_write(in[1]), out_read(out[0]), out_write(out[1]);
  // "\x18x" starts the sequence but is not it: it must reach the container.
  ASSERT_TRUE(write_all(in_write.get(), std::string("one\n\x18y\n") + "\x18q"));
  shim::AttachOptions attach_options;
  attach_options.stdin_fd = in_read.get();
  attach_options.stdout_fd = out_write.get();
  attach_options.stderr_fd = out_write.get();
  attach_options.detach_keys = *keys;
  auto result = shim::attach(state, attach_options);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->end, shim::AttachEnd::detached);
  ASSERT_TRUE(wait_for_log(o, "got \x18y"));
  EXPECT_NE(log_text(o).find("got one"), std::string::npos);
  auto status = shim::read_container_status(state);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, shim::ContainerState::running);
  // A new client takes over stdin; EOF ends the container.
  in_write.reset();
  shim::AttachOptions again = attach_options;
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  again.stdin_fd = null_fd.get();
  auto second = shim::attach(state, again);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->end, shim::AttachEnd::exited);
  ASSERT_TRUE(second->exit);
  EXPECT_EQ(second->exit->exit_code, 0);
}

TEST_F(ShimAttach, TerminalIsResizedThroughTheAttachSocket) {
  auto bundle = make_bundle();
  bundle.terminal(true).shell("read a; stty size; read b; stty size");
  auto state = new_state_dir();
  auto o = options(new_id(), bundle, state);
  o.terminal = true;
  o.stdin = true;
  o.start = true;
  ASSERT_GT(spawn_ok(o), 0);
  auto client = connect(state);
  ASSERT_TRUE(client.resize(31, 101));
  ASSERT_TRUE(client.send_stdin("1\r"));
  EXPECT_TRUE(receive_until(client, shim::kStdout, "31 101"));
  ASSERT_TRUE(client.resize(42, 123));
  ASSERT_TRUE(client.send_stdin("2\r"));
  EXPECT_TRUE(receive_until(client, shim::kStdout, "42 123"));
  EXPECT_TRUE(receive_until(client, shim::kExit, "\"exit_code\":0"));
  wait_exit(state);
  EXPECT_NE(log_text(o).find("42 123"), std::string::npos) << log_text(o);
}

TEST_F(ShimAttach, DetachedExecSessionKeepsItsOutputAndExitCode) {
  auto bundle = make_bundle();
  bundle.shell("exec sleep 1000");
  auto state = new_state_dir();
  auto main = options(new_id(), bundle, state);
  main.start = true;
  ASSERT_GT(spawn_ok(main), 0);
  auto process = bundle.process();
  process["args"] = {"sh", "-c", "echo exec out; echo exec err >&2; exit 7"};
  std::string process_file = work() + "/exec1.json";
  ASSERT_TRUE(write_file_atomic(process_file, process.dump()));
  auto exec = main;
  exec.exec = true;
  exec.exec_id = "e1";
  exec.process_json = process_file;
  exec.start = false;
  exec.log_path = state + "/exec1.log";
  ASSERT_GT(spawn_ok(exec), 0);
  auto exec_state = shim::exec_state_dir(state, "e1");
  auto status = wait_exit(exec_state);
  ASSERT_TRUE(status.exit);
  EXPECT_EQ(status.exit->exit_code, 7);
  EXPECT_EQ(log_text(exec, "stdout"), "exec out\n");
  EXPECT_EQ(log_text(exec, "stderr"), "exec err\n");
  auto container = shim::read_container_status(state);
  ASSERT_TRUE(container);
  EXPECT_EQ(container->state, shim::ContainerState::running) << "the exec session ended, not the container";
  ASSERT_TRUE(rt({"kill", main.id, "KILL"}).ok());
  wait_exit(state);
}

TEST_F(ShimAttach, InteractiveExecThroughAttach) {
  auto bundle = make_bundle();
  bundle.shell("exec sleep 1000");
  auto state = new_state_dir();
  auto main = options(new_id(), bundle, state);
  main.start = true;
  ASSERT_GT(spawn_ok(main), 0);
  auto process = bundle.process();
  process["args"] = {"sh", "-c", "read -r x; echo \"exec got $x\"; exit 3"};
  process["terminal"] = true;
  std::string process_file = work() + "/exec2.json";
  ASSERT_TRUE(write_file_atomic(process_file, process.dump()));
  auto exec = main;
  exec.exec = true;
  exec.exec_id = "e2";
  exec.process_json = process_file;
  exec.start = false;
  exec.terminal = true;
  exec.stdin = true;
  exec.log_path = state + "/exec2.log";
  ASSERT_GT(spawn_ok(exec), 0);
  auto client = connect(shim::exec_state_dir(state, "e2"));
  ASSERT_TRUE(client.send_stdin("ping\r"));
  EXPECT_TRUE(receive_until(client, shim::kStdout, "exec got ping"));
  EXPECT_TRUE(receive_until(client, shim::kExit, "\"exit_code\":3"));
  ASSERT_TRUE(rt({"kill", main.id, "KILL"}).ok());
  wait_exit(state);
}

}  // namespace
}  // namespace ctr::itest
