#include "shim/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/files.h"
#include "shim/records.h"

namespace ctr::shim {

namespace {

const char* stream_name(Stream stream) {
  return stream == Stream::stdout_stream ? "stdout" : "stderr";
}

}  // namespace

Result<LogWriter> LogWriter::open(LogDriver driver, const std::string& path, uint64_t max_size, unsigned max_files) {
  LogWriter writer(driver, path, max_size, max_files ? max_files : 1);
  if (driver == LogDriver::k8s_file || driver == LogDriver::json_file) {
    TRY_CTX(writer.open_file(false), "log file");
    writer.buffer_.reserve(kFlushBytes + kMaxLineBytes * 2);
  }
  return writer;
}

Status LogWriter::open_file(bool truncate) {
  fd_.reset();
  TRY_ASSIGN(fd, open_fd(path_, O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0640));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat `" + path_ + "`");
  file_size_ = static_cast<uint64_t>(st.st_size);
  fd_ = std::move(fd);
  return {};
}

void LogWriter::format_record(std::string& out, Stream stream, std::string_view text, bool partial) const {
  if (driver_ == LogDriver::json_file) {
    out += "{\"log\":\"";
    append_json_escaped(out, text);
    if (!partial) out += "\\n";
    out += "\",\"stream\":\"";
    out += stream_name(stream);
    out += "\",\"time\":\"";
    out += now_;
    out += "\"}\n";
    return;
  }
  out += now_;
  out += ' ';
  out += stream_name(stream);
  out += partial ? " P " : " F ";
  out += text;
  out += '\n';
}

void LogWriter::add_record(Stream stream, std::string_view text, bool partial) {
  size_t before = buffer_.size();
  format_record(buffer_, stream, text, partial);
  // Rotate at a record boundary: the file never exceeds max_size unless a
  // single record does.
  if (max_size_ && file_size_ + buffer_.size() > max_size_ && file_size_ + before > 0) {
    std::string record = buffer_.substr(before);
    buffer_.resize(before);
    flush();
    rotate();
    buffer_ = std::move(record);
  }
  buffer_payload_ += text.size();
  if (buffer_.size() >= kFlushBytes) flush();
}

void LogWriter::write(Stream stream, std::string_view data) {
  if (!file_driver() || data.empty()) return;
  now_ = now_rfc3339_nano();  // one clock read per chunk: lines of a chunk arrived together
  std::string& partial = partial_[stream == Stream::stdout_stream ? 0 : 1];
  while (!data.empty()) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    size_t line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
    if (!nl) {
      partial.append(data);
      while (partial.size() >= kMaxLineBytes) {
        add_record(stream, std::string_view(partial).substr(0, kMaxLineBytes), true);
        partial.erase(0, kMaxLineBytes);
      }
      return;
    }
    std::string_view line = data.substr(0, line_end);
    if (!partial.empty()) {
      partial.append(line);
      line = partial;
    }
    while (line.size() > kMaxLineBytes) {
      add_record(stream, line.substr(0, kMaxLineBytes), true);
      line.remove_prefix(kMaxLineBytes);
    }
    add_record(stream, line, false);
    partial.clear();
    data.remove_prefix(line_end + 1);
  }
}

void LogWriter::flush() {
  if (buffer_.empty()) return;
  if (!fd_.valid()) {  // a failed rotation: try again, else drop and count
    if (auto reopened = open_file(false); !reopened) last_error_ = reopened.error().message;
  }
  std::string marker;
  if (dropped_unreported_) {
    std::string text = "ctr-shim: " + std::to_string(dropped_unreported_) +
                       " bytes of container output were not logged: " + last_error_;
    now_ = now_rfc3339_nano();
    format_record(marker, Stream::stderr_stream, text, false);
  }
  Status written = !fd_.valid()     ? Status(make_error(last_error_, EIO))
                   : marker.empty() ? Status()
                                    : write_all(fd_.get(), marker);
  if (written) written = write_all(fd_.get(), buffer_);
  if (written) {
    file_size_ += marker.size() + buffer_.size();
    dropped_unreported_ = 0;
  } else {
    // Cut back to the last whole record so readers never see half a line.
    if (fd_.valid() && ::ftruncate(fd_.get(), static_cast<off_t>(file_size_)) != 0) {
      struct stat st;
      if (::fstat(fd_.get(), &st) == 0) file_size_ = static_cast<uint64_t>(st.st_size);
    }
    dropped_total_ += buffer_payload_;
    dropped_unreported_ += buffer_payload_;
    if (fd_.valid()) last_error_ = std::strerror(written.error().code ? written.error().code : EIO);
  }
  buffer_.clear();
  buffer_payload_ = 0;
}

void LogWriter::rotate() {
  fd_.reset();
  for (unsigned i = max_files_ - 1; i >= 1; --i) {
    std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    (void)::rename(from.c_str(), (path_ + "." + std::to_string(i)).c_str());
  }
  if (auto opened = open_file(true); !opened) last_error_ = opened.error().message;
}

void LogWriter::end_stream(Stream stream) {
  std::string& partial = partial_[stream == Stream::stdout_stream ? 0 : 1];
  if (partial.empty() || !file_driver()) return;
  now_ = now_rfc3339_nano();
  add_record(stream, partial, true);
  partial.clear();
}

void LogWriter::finish() {
  end_stream(Stream::stdout_stream);
  end_stream(Stream::stderr_stream);
  flush();
  if (fd_.valid()) (void)::fdatasync(fd_.get());
}

}  // namespace ctr::shim
