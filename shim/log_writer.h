// LogWriter: the container's output in a log file, in the k8s-file format
//   2026-11-22T20:48:25.123456789+00:00 stdout F text
// (P marks a partial line: a line longer than kMaxLineBytes is split into P
// records and an F record, and a last line without a newline is flushed as P
// at exit) or docker's json-file format
//   {"log":"text\n","stream":"stdout","time":"2026-11-22T20:48:25.123456789+00:00"}
// Records are buffered and written in big chunks; rotation renames
// FILE -> FILE.1 -> ... keeping max_files files in all. A write that fails
// (ENOSPC, EIO, EFBIG, EDQUOT) never stops the shim from draining the
// container's pipes: the records are dropped and counted, the file is cut back
// to its last whole record, and a marker record says how much was lost as
// soon as writing works again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/options.h"

namespace ctr::shim {

enum class Stream { stdout_stream, stderr_stream };

class LogWriter {
 public:
  static constexpr size_t kMaxLineBytes = 16 * 1024;
  static constexpr size_t kFlushBytes = 256 * 1024;

  // For the none and passthrough drivers the writer discards everything.
  static Result<LogWriter> open(LogDriver driver, const std::string& path, uint64_t max_size = 0,
                                unsigned max_files = 1);
  LogWriter(LogWriter&&) = default;
  LogWriter& operator=(LogWriter&&) = default;

  // Output read from the container; complete lines become records at once,
  // a trailing partial line waits for its end (or kMaxLineBytes).
  void write(Stream stream, std::string_view data);
  // Writes buffered records to the file (call when the event loop idles).
  void flush();
  // End of one stream (its pipe closed): its partial line is emitted as P.
  void end_stream(Stream stream);
  // End of the container: every partial line emitted, everything flushed.
  void finish();

  uint64_t dropped_bytes() const { return dropped_total_; }
  const std::string& last_error() const { return last_error_; }

 private:
  LogWriter(LogDriver driver, std::string path, uint64_t max_size, unsigned max_files)
      : driver_(driver), path_(std::move(path)), max_size_(max_size), max_files_(max_files) {}
  bool file_driver() const { return driver_ == LogDriver::k8s_file || driver_ == LogDriver::json_file; }
  void add_record(Stream stream, std::string_view text, bool partial);
  void format_record(std::string& out, Stream stream, std::string_view text, bool partial) const;
  Status open_file(bool truncate);
  void rotate();

  LogDriver driver_;
  std::string path_;
  uint64_t max_size_;
  unsigned max_files_;
  UniqueFd fd_;
  uint64_t file_size_ = 0;
  std::string buffer_;           // formatted records not yet written
  uint64_t buffer_payload_ = 0;  // container bytes in buffer_
  std::string partial_[2];       // per stream: a line not yet ended
  std::string now_;              // timestamp of the current write()
  uint64_t dropped_total_ = 0;
  uint64_t dropped_unreported_ = 0;
  std::string last_error_;
};

}  // namespace ctr::shim
