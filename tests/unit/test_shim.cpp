// ctr-shim's pure parts: records, option validation, the log writer and
// reader, detach keys.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "shim/client.h"
#include "shim/log_reader.h"
#include "shim/log_writer.h"
#include "shim/options.h"
#include "shim/records.h"

namespace ctr::shim {
namespace {

TEST(ShimRecords, ExitRecordRoundTrips) {
  ExitRecord record{137, 9, "2026-11-22T20:48:25.123456789+00:00", false, true, 42};
  auto text = format_exit_record(record);
  EXPECT_EQ(text,
            "{\"exit_code\":137,\"signal\":9,\"finished_at\":\"2026-11-22T20:48:25.123456789+00:00\","
            "\"oom_killed\":false,\"timed_out\":true,\"dropped_log_bytes\":42}\n");
  auto parsed = parse_exit_record(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->exit_code, 137);
  EXPECT_EQ(parsed->signal, 9);
  EXPECT_TRUE(parsed->timed_out);
  EXPECT_EQ(parsed->dropped_log_bytes, 42u);
  EXPECT_NE(format_exit_record(ExitRecord{}).find("\"signal\":null"), std::string::npos);
  EXPECT_FALSE(parse_exit_record("{\"signal\":1}"));
  EXPECT_FALSE(parse_exit_record("nonsense"));
}

TEST(ShimRecords, SyncReportRoundTripsAndEscapes) {
  auto ok = parse_sync_report(format_sync_report({1234, "", 0}));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->pid, 1234);
  auto failed = parse_sync_report(format_sync_report({0, "exec: \"bahs\": not found\n\x01", 127}));
  ASSERT_TRUE(failed) << failed.error().message;
  EXPECT_EQ(failed->pid, 0);
  EXPECT_EQ(failed->error, "exec: \"bahs\": not found\n\x01");
  EXPECT_EQ(failed->exit_code, 127);
  EXPECT_FALSE(parse_sync_report("{\"pid\":-3}"));
}

TEST(ShimRecords, RuntimeErrorsMapToPodmansExitCodes) {
  EXPECT_EQ(exit_code_for_runtime_error("exec: \"bahs\": executable file not found in $PATH"), 127);
  EXPECT_EQ(exit_code_for_runtime_error("exec: \"/x\": No such file or directory"), 127);
  EXPECT_EQ(exit_code_for_runtime_error("exec: \"/etc/passwd\": Permission denied"), 126);
  EXPECT_EQ(exit_code_for_runtime_error("mount `/proc`: Operation not permitted"), 125);
}

TEST(ShimRecords, TimestampsAreFixedWidthRfc3339Nano) {
  timespec when{1795380505, 123456789};
  EXPECT_EQ(rfc3339_nano(when), "2026-11-22T20:48:25.123456789+00:00");
  timespec early{0, 5};
  EXPECT_EQ(rfc3339_nano(early), "1970-01-01T00:00:00.000000005+00:00");
}

TEST(ShimRecords, JsonStringFieldUnescapes) {
  std::string line = R"({"level":"error","msg":"exec: \"bahs\": tab\there \u00e9","time":"t"})";
  EXPECT_EQ(json_string_field(line, "msg"), "exec: \"bahs\": tab\there \xc3\xa9");
  EXPECT_EQ(json_string_field(line, "level"), "error");
  EXPECT_FALSE(json_string_field(line, "missing"));
  EXPECT_FALSE(json_string_field(R"({"msg":"unterminated)", "msg"));
}

TEST(ShimRecords, IdentityTellsAReusedPid) {
  auto self = process_identity(::getpid());
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_TRUE(identity_alive(*self));
  auto parsed = parse_identity(format_identity(*self));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->pid, self->pid);
  ProcessIdentity other = *self;
  ++other.start_time;
  EXPECT_FALSE(identity_alive(other));
  EXPECT_FALSE(parse_identity("12"));
  EXPECT_FALSE(parse_identity("0 5"));
}

class ShimFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-shim-unit-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
  }
  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }
  std::optional<TempDir> dir_;
};

TEST_F(ShimFiles, OptionsAreValidatedWithClearErrors) {
  std::string self = "/nonexistent/ctr-shim";
  ASSERT_TRUE(mkdir_p(path("bundle")));
  ASSERT_TRUE(write_file_atomic(path("bundle/config.json"), "{}"));
  std::vector<std::string> base{"--id",       "c1",        "--bundle",  path("bundle"), "--state-dir",
                                dir_->path(), "--runtime", "/bin/true", "--log-path",   path("ctr.log")};
  auto ok = parse_options(base, self);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->log_driver, LogDriver::k8s_file);
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    auto parsed = parse_options(args, self);
    return parsed ? std::string() : parsed.error().message;
  };
  EXPECT_NE(with({"--log-driver", "syslog"}).find("unknown --log-driver \"syslog\""), std::string::npos);
  EXPECT_NE(with({"--log-max-size", "10q"}).find("--log-max-size"), std::string::npos);
  EXPECT_NE(with({"--bogus"}).find("unknown argument \"--bogus\""), std::string::npos);
  EXPECT_NE(with({"--log-max-files", "0"}).find("at least 1"), std::string::npos);
  EXPECT_NE(with({"--sync-fd", "999"}).find("not an open file descriptor"), std::string::npos);
  EXPECT_NE(with({"--exec"}).find("--exec-id"), std::string::npos);
  EXPECT_NE(with({"--runtime", "/nonexistent/runc"}).find("is not an executable file"), std::string::npos);
  EXPECT_EQ(with({"--log-max-size=10m", "--log-max-files=3"}), "");
  auto sized = parse_options(
      [&] {
        auto a = base;
        a.push_back("--log-max-size=10m");
        return a;
      }(),
      self);
  ASSERT_TRUE(sized);
  EXPECT_EQ(sized->log_max_size, 10u * 1024 * 1024);
  auto no_runtime = base;
  no_runtime.erase(no_runtime.begin() + 6, no_runtime.begin() + 8);
  auto defaulted = parse_options(no_runtime, self);
  ASSERT_FALSE(defaulted);
  EXPECT_NE(defaulted.error().message.find("/nonexistent/ctr-runtime"), std::string::npos)
      << "the default runtime is ctr-runtime next to the shim";
}

TEST_F(ShimFiles, ShimArgumentsParseBack) {
  ASSERT_TRUE(mkdir_p(path("bundle")));
  ASSERT_TRUE(write_file_atomic(path("bundle/config.json"), "{}"));
  ShimOptions o;
  o.id = "c2";
  o.bundle = path("bundle");
  o.state_dir = dir_->path();
  o.runtime = "/bin/true";
  o.runtime_args = {"--root", "/tmp/x"};
  o.log_driver = LogDriver::json_file;
  o.log_path = path("j.log");
  o.log_max_size = 4096;
  o.log_max_files = 4;
  o.stdin = o.start = true;
  o.timeout = 9;
  auto parsed = parse_options(shim_arguments(o), "/x/ctr-shim");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->runtime_args, o.runtime_args);
  EXPECT_EQ(parsed->log_driver, LogDriver::json_file);
  EXPECT_EQ(parsed->log_max_files, 4u);
  EXPECT_EQ(parsed->timeout, 9u);
  EXPECT_TRUE(parsed->stdin && parsed->start && !parsed->terminal);
}

TEST_F(ShimFiles, K8sFileRecordsLinesPartialsAndLongLines) {
  auto writer = LogWriter::open(LogDriver::k8s_file, path("k.log"));
  ASSERT_TRUE(writer) << writer.error().message;
  writer->write(Stream::stdout_stream, "one\ntw");
  writer->write(Stream::stderr_stream, "err\n");
  writer->write(Stream::stdout_stream, "o\n\nthree");
  writer->write(Stream::stdout_stream, std::string(LogWriter::kMaxLineBytes + 10, 'x') + "\n");
  writer->finish();
  auto entries = read_log(LogDriver::k8s_file, path("k.log"));
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 6u);
  EXPECT_EQ((*entries)[0].text, "one");
  EXPECT_EQ((*entries)[1].stream, "stderr");
  EXPECT_EQ((*entries)[2].text, "two");
  EXPECT_EQ((*entries)[3].text, "");
  EXPECT_FALSE((*entries)[3].partial);
  EXPECT_TRUE((*entries)[4].partial);  // "three" + the long line's first part
  EXPECT_EQ((*entries)[4].text.size(), LogWriter::kMaxLineBytes);
  EXPECT_EQ(log_text(*entries, "stdout"), "one\ntwo\n\nthree" + std::string(LogWriter::kMaxLineBytes + 10, 'x') + "\n");
  EXPECT_EQ(writer->dropped_bytes(), 0u);
}

TEST_F(ShimFiles, JsonFileEscapesAndRoundTrips) {
  auto writer = LogWriter::open(LogDriver::json_file, path("j.log"));
  ASSERT_TRUE(writer);
  writer->write(Stream::stdout_stream, std::string("q\"uote\\ \x01 tab\t\n", 15));
  writer->write(Stream::stderr_stream, "tail");
  writer->finish();
  auto entries = read_log(LogDriver::json_file, path("j.log"));
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].text, std::string("q\"uote\\ \x01 tab\t", 14));
  EXPECT_EQ((*entries)[1].stream, "stderr");
  EXPECT_TRUE((*entries)[1].partial);
}

TEST_F(ShimFiles, RotationKeepsMaxFilesOfAtMostMaxSize) {
  auto writer = LogWriter::open(LogDriver::k8s_file, path("r.log"), 1000, 3);
  ASSERT_TRUE(writer);
  for (int i = 0; i < 200; ++i) {
    writer->write(Stream::stdout_stream, "line " + std::to_string(i) + "\n");
    if (i % 7 == 0) writer->flush();
  }
  writer->finish();
  for (const char* suffix : {"", ".1", ".2"}) {
    struct stat st;
    ASSERT_EQ(::stat((path("r.log") + suffix).c_str(), &st), 0);
    EXPECT_LE(st.st_size, 1000);
  }
  EXPECT_FALSE(path_exists(path("r.log.3")));
  auto entries = read_log(LogDriver::k8s_file, path("r.log"));
  ASSERT_TRUE(entries);
  ASSERT_GT(entries->size(), 20u);
  EXPECT_EQ(entries->back().text, "line 199");
  for (size_t i = 1; i < entries->size(); ++i)
    EXPECT_EQ((*entries)[i].text, "line " + std::to_string(200 - entries->size() + i));
}

TEST_F(ShimFiles, WriteFailuresAreCountedAndReportedWhenWritingWorksAgain) {
  // full.log starts as /dev/full (every write: ENOSPC); once that link is
  // gone, rotation (max_files 1: reopen the path) gets a regular file, where
  // writing works again.
  ASSERT_EQ(::symlink("/dev/full", path("full.log").c_str()), 0);
  auto writer = LogWriter::open(LogDriver::k8s_file, path("full.log"), 200, 1);
  ASSERT_TRUE(writer) << writer.error().message;
  writer->write(Stream::stdout_stream, "0123456789\n");
  writer->flush();
  EXPECT_EQ(writer->dropped_bytes(), 10u);
  EXPECT_NE(writer->last_error().find("No space left"), std::string::npos) << writer->last_error();
  ASSERT_EQ(::unlink(path("full.log").c_str()), 0);
  // The fourth record crosses max_size: the three before it fail to flush
  // (dropped), and rotation opens a regular file for the fourth.
  for (int i = 0; i < 4; ++i) writer->write(Stream::stdout_stream, "record number " + std::to_string(i) + "\n");
  writer->finish();
  uint64_t dropped = writer->dropped_bytes();
  EXPECT_EQ(dropped, 10u + 3 * 15);
  auto entries = read_log(LogDriver::k8s_file, path("full.log"));
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_FALSE(entries->empty());
  EXPECT_EQ(entries->front().stream, "stderr");
  EXPECT_NE(entries->front().text.find(std::to_string(dropped) + " bytes of container output were not logged"),
            std::string::npos)
      << entries->front().text;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(entries->back().text, "record number 3");
}

TEST(ShimDetachKeys, ParseDockerSyntax) {
  EXPECT_EQ(parse_detach_keys("ctrl-p,ctrl-q").value(), "\x10\x11");
  EXPECT_EQ(parse_detach_keys("a,ctrl-@,ctrl-_").value(), std::string("a\0\x1f", 3));
  EXPECT_EQ(parse_detach_keys("").value(), "");
  auto bad = parse_detach_keys("ctrl-1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ctrl-1"), std::string::npos);
}

TEST(ShimDetachKeys, FilterHoldsPrefixesAndDetaches) {
  DetachKeyFilter filter("\x10\x11");
  bool detached = false;
  EXPECT_EQ(filter.feed("ab\x10", &detached), "ab");
  EXPECT_FALSE(detached);
  EXPECT_EQ(filter.feed("c", &detached),
            "\x10"
            "c");
  EXPECT_EQ(filter.feed("\x10\x10", &detached), "\x10");
  EXPECT_EQ(filter.feed("\x11rest", &detached), "");
  EXPECT_TRUE(detached);
  DetachKeyFilter none("");
  EXPECT_EQ(none.feed("\x10\x11", &detached), "\x10\x11");
  EXPECT_FALSE(detached);
}

}  // namespace
}  // namespace ctr::shim
