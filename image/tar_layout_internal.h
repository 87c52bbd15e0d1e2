// The layout file's encoding, shared by the recorder (tar_layout_record.cpp)
// and replay (tar_layout_replay.cpp). After the magic line, records:
//   'V' <varint n> <n bytes>          bytes of the stream, verbatim
//   'F' <varint size> <varint len> <path> <pad>
//                                      `size` bytes of the file diff/<path>;
//                                      pad 1: then zeros to the 512-byte block
//   'E' <varint total>                end; `total` = bytes of the whole stream
// Varints are LEB128 (7 bits a byte, low first). The whole is gzip'd.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/base/result.h"

struct archive;

namespace ctr::image::detail {

constexpr const char kLayoutMagic[] = "ctr-tar-layout 1\n";
constexpr char kRecordVerbatim = 'V';
constexpr char kRecordFile = 'F';
constexpr char kRecordEnd = 'E';

struct LayoutArchiveDeleter {
  void operator()(archive* a) const;
};
using LayoutArchive = std::unique_ptr<archive, LayoutArchiveDeleter>;

// Records -> gzip file. Verbatim bytes are gathered into larger records.
class LayoutWriter {
 public:
  static Result<LayoutWriter> open(const std::string& path);
  Status verbatim(const char* data, size_t size);
  Status file(const std::string& path, uint64_t size, bool zero_padded);
  Status finish(uint64_t total);  // writes 'E' and closes the file
  const std::string& path() const { return path_; }

 private:
  Status flush_verbatim();
  Status put(const std::string& bytes);
  LayoutArchive a_;
  std::string path_;
  std::string pending_;  // verbatim bytes not yet written as a record
};

// The reverse, for replay.
class LayoutReader {
 public:
  static Result<LayoutReader> open(const std::string& path);
  Result<char> byte();
  Result<uint64_t> varint();
  Status bytes(std::string& out, size_t size);

 private:
  Status fill();
  LayoutArchive a_;
  std::string path_;
  std::string buffer_;
  size_t pos_ = 0;
};

}  // namespace ctr::image::detail
