// TarLayoutRecorder: a tar parser fed the stream in arbitrary chunks. It
// must see entries exactly as the unpack's reader (libarchive 3.x's tar
// reader) does, or a payload would be referenced under the wrong name:
//  - name: ustar prefix + "/" + name (magic "ustar", not GNU's "ustar  \0");
//    overridden by GNU 'L' long names and pax `path=`, the first of those in
//    the stream winning, with the body of the last 'L' / last 'x' (libarchive
//    applies the headers recursively and keeps one buffer of each kind);
//  - size: octal or base-256; pax `size=` overrides; symlinks, devices,
//    fifos and directories have no body (except with pax size=); a hard
//    link's size counts only in pax archives; a "regular" name ending in '/'
//    is a directory without body;
//  - 'g' global headers set nothing; 'V' has no body; the first zero block
//    ends the archive: whatever follows is trailing bytes.
// Anything else it does not recognise (bad checksum, 'M', an ambiguous
// ustar hard link) switches to storing the rest of the stream verbatim:
// always correct, only larger. The replay's digest check catches the rest.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>
#include <unordered_set>
#include <vector>

#include "image/tar_layout.h"
#include "image/tar_layout_internal.h"

namespace ctr::image {
namespace {

constexpr size_t kBlock = 512;
constexpr uint64_t kMaxSpecialBody = 1 << 20;  // libarchive refuses larger pax/long-name bodies

enum class Phase { header, extension, body, payload, padding, rest };
enum class Format { none, old, ustar, gnu, pax };

// libarchive's tar_atol: base-256 when the high bit is set, else octal after
// blanks, stopping at the first non-digit. nullopt for negative/overflow.
std::optional<uint64_t> tar_number(const char* field, size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(field);
  if (p[0] & 0x80) {
    if (p[0] & 0x40) return std::nullopt;  // negative
    uint64_t value = p[0] & 0x7f;
    for (size_t i = 1; i < size; ++i) {
      if (value >> 55) return std::nullopt;
      value = (value << 8) | p[i];
    }
    return value;
  }
  size_t i = 0;
  while (i < size && (p[i] == ' ' || p[i] == '\t')) ++i;
  if (i < size && p[i] == '-') return std::nullopt;
  uint64_t value = 0;
  for (; i < size && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (value >> 60) return std::nullopt;
    value = value * 8 + (p[i] - '0');
  }
  return value;
}

std::string field(const char* block, size_t offset, size_t size) {
  const char* start = block + offset;
  return std::string(start, strnlen(start, size));
}

bool valid_checksum(const char* block) {
  auto expected = tar_number(block + 148, 8);
  for (size_t i = 148; i < 156; ++i) {
    char c = block[i];
    if (c != ' ' && c != '\0' && (c < '0' || c > '7')) return false;
  }
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= 148 && i < 156;
    unsigned_sum += in_field ? 32 : static_cast<unsigned char>(block[i]);
    signed_sum += in_field ? 32 : static_cast<signed char>(block[i]);
  }
  return expected && (static_cast<int64_t>(*expected) == unsigned_sum || static_cast<int64_t>(*expected) == signed_sum);
}

bool one_of(char c, const char* set) {
  return c != '\0' && std::strchr(set, c) != nullptr;
}

bool all_zero(const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i)
    if (data[i] != 0) return false;
  return true;
}

struct PaxAttributes {
  std::optional<std::string> path;
  std::optional<uint64_t> size;
  bool sparse = false;
  bool malformed = false;
};

// "LEN key=value\n" records, applied in order up to the first malformed one
// (as libarchive does).
PaxAttributes parse_pax(const std::string& body) {
  PaxAttributes out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t length = 0, p = pos;
    while (p < body.size() && body[p] >= '0' && body[p] <= '9' && length <= 999999)
      length = length * 10 + (body[p++] - '0');
    if (p >= body.size() || body[p] != ' ' || length < 1 || length > body.size() - pos ||
        body[pos + length - 1] != '\n') {
      out.malformed = true;
      return out;
    }
    std::string line = body.substr(p + 1, pos + length - 1 - (p + 1));
    pos += length;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      out.malformed = true;
      return out;
    }
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    value = value.substr(0, strnlen(value.c_str(), value.size()));
    if (key == "path") out.path = value;
    if (key.rfind("GNU.sparse", 0) == 0) out.sparse = true;
    if (key == "size") {
      size_t i = 0;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      uint64_t n = 0;
      for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) n = n * 10 + (value[i] - '0');
      out.size = n;
    }
  }
  return out;
}

// The path as the extractor writes it (split_entry_path): components joined
// by '/', "" for the layer root; nullopt where the extractor refuses it.
std::optional<std::string> normalize(const std::string& raw) {
  if (raw.empty() || raw[0] == '/') return std::nullopt;
  std::string out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    std::string part = raw.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

// The headers seen so far for the next entry.
struct Pending {
  std::vector<char> overrides;  // 'L' and 'x', in stream order
  std::string longname;         // of the last 'L'
  std::string pax;              // body of the last 'x'
  int longnames = 0, paxes = 0;
};

}  // namespace

struct TarLayoutRecorder::State {
  detail::LayoutWriter writer;
  TarLayoutStats stats;
  Phase phase = Phase::header;
  Format format = Format::none;
  std::string block;  // a header or extension block being gathered
  uint64_t left = 0;  // bytes left in the body, payload or padding
  Pending pending;
  char body_type = 0;  // of the special header whose body is being read
  uint64_t body_size = 0;
  std::string body;
  // The entry whose payload follows; with entry_ref, it is referenced.
  uint64_t entry_size = 0;
  std::optional<std::string> entry_ref;
  bool referencing = false;
  std::string padding;                         // of a referenced payload
  std::map<std::string, uint64_t> referenced;  // path -> size
  std::unordered_set<std::string> symlinks;    // of this layer
  std::string unusable;                        // why the layout cannot be kept

  Status verbatim(const char* data, size_t size) {
    stats.inline_bytes += size;
    return writer.verbatim(data, size);
  }
  Status on_block();
  Status on_entry(const char* header);
  void on_body_done();
  Status on_payload_done();
  void track(const std::string& path, char type, bool is_dir);
  void removed(const std::string& path, bool with_children);
  Status start_payload();
};

void TarLayoutRecorder::State::removed(const std::string& path, bool with_children) {
  if (!unusable.empty()) return;
  if (referenced.count(path)) {
    unusable = "`" + path + "` appears twice in the layer";
    return;
  }
  if (!with_children) return;
  std::string prefix = path.empty() ? "" : path + "/";
  auto it = referenced.lower_bound(prefix);
  if (it != referenced.end() && it->first.compare(0, prefix.size(), prefix) == 0)
    unusable = "`" + it->first + "` is removed by the later entry `" + path + "`";
}

// What the extractor will do to earlier files for this entry.
void TarLayoutRecorder::State::track(const std::string& path, char type, bool is_dir) {
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (unusable.empty() && symlinks.count(path.substr(0, slash)))
      unusable = "`" + path + "` is written through the symlink `" + path.substr(0, slash) + "` of the same layer";
  }
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string parent = path.size() > name.size() ? path.substr(0, path.size() - name.size()) : "";
  if (name.rfind(".wh.", 0) == 0) {
    std::string hidden = name.substr(4);
    if (name != ".wh..wh..opq" && hidden.rfind(".wh.", 0) != 0) removed(parent + hidden, true);
  } else if (is_dir) {
    removed(path, false);                   // a directory over a directory keeps it
  } else if (type != '3' && type != '4') {  // device nodes are skipped
    removed(path, true);
  }
  if (type == '2') symlinks.insert(path);
}

// Inline payloads and their padding are one verbatim run; a referenced
// payload is skipped and its padding gathered, to be stored as one 'F' record.
Status TarLayoutRecorder::State::start_payload() {
  uint64_t pad = (kBlock - entry_size % kBlock) % kBlock;
  referencing = entry_ref.has_value() && entry_size > 0;
  if (referencing) {
    referenced[*entry_ref] = entry_size;
    left = entry_size;
    phase = Phase::payload;
  } else {
    left = entry_size + pad;
    phase = left ? Phase::payload : Phase::header;
  }
  return {};
}

Status TarLayoutRecorder::State::on_entry(const char* header) {
  bool gnu = std::memcmp(header + 257, "ustar  \0", 8) == 0;
  bool ustar = !gnu && std::memcmp(header + 257, "ustar", 5) == 0;
  if (gnu)
    format = Format::gnu;
  else if (ustar && format != Format::pax)
    format = Format::ustar;
  else if (!ustar)
    format = Format::old;
  char type = header[156];
  auto header_size = tar_number(header + 124, 12);
  if (!header_size || type == 'M' || (type == '1' && *header_size > 0 && format == Format::ustar)) {
    phase = Phase::rest;  // libarchive fails or guesses: keep the rest verbatim
    return {};
  }
  uint64_t size = *header_size;
  std::string name = field(header, 0, 100);
  if (ustar && header[345]) {
    std::string prefix = field(header, 345, 155);
    name = prefix + (prefix.back() == '/' ? "" : "/") + name;
  }
  bool regular = !one_of(type, "123456D") || (type == '1' && size > 0);
  if (type == '1' && format != Format::pax) size = 0;
  if (one_of(type, "23456")) size = 0;
  bool odd = pending.paxes > 1 || pending.longnames > 1 || type == 'S' || (gnu && header[386] != 0);
  PaxAttributes pax = pending.paxes ? parse_pax(pending.pax) : PaxAttributes{};
  odd = odd || pax.sparse || pax.malformed;
  if (pax.size) size = *pax.size;
  for (char kind : pending.overrides) {
    if (kind == 'L') {
      name = pending.longname;
      break;
    }
    if (kind == 'x' && pax.path) {
      name = *pax.path;
      break;
    }
  }
  bool is_dir = type == '5' || type == 'D' || (regular && !name.empty() && name.back() == '/');
  if (regular && is_dir) size = 0;
  pending = Pending{};
  std::optional<std::string> path = normalize(name);
  if (path) track(*path, type, is_dir);
  bool plain_file = type == '0' || type == '\0' || type == '7';
  std::string base = path ? path->substr(path->rfind('/') == std::string::npos ? 0 : path->rfind('/') + 1) : "";
  std::optional<std::string> ref;
  if (plain_file && !odd && !is_dir && path && !base.empty() && base.rfind(".wh.", 0) != 0) ref = path;
  entry_size = size;
  entry_ref = std::move(ref);
  if (gnu && header[482] != 0) {  // old GNU sparse map continues in extension blocks
    phase = Phase::extension;
    return {};
  }
  return start_payload();
}

void TarLayoutRecorder::State::on_body_done() {
  if (body_type == 'L') {
    pending.longname = body.substr(0, strnlen(body.c_str(), body.size()));
    pending.longnames++;
    pending.overrides.push_back('L');
  } else if (body_type == 'x' || body_type == 'X') {
    pending.pax = body;
    pending.paxes++;
    pending.overrides.push_back('x');
  }
  body.clear();
  phase = Phase::header;
}

Status TarLayoutRecorder::State::on_block() {
  const char* b = block.data();
  if (phase == Phase::extension) {  // GNU sparse extension: inline payload after the last one
    TRY(verbatim(b, kBlock));
    if (b[504] == 0) return start_payload();
    return {};
  }
  if (all_zero(b, kBlock) || !valid_checksum(b)) {  // end of archive (or damage)
    phase = Phase::rest;
    return verbatim(b, kBlock);
  }
  TRY(verbatim(b, kBlock));
  char type = b[156];
  if (type == 'V') return {};
  if (!one_of(type, "xXgALK")) return on_entry(b);
  if (type != 'L' && type != 'K') format = Format::pax;
  auto size = tar_number(b + 124, 12);
  if (!size || *size > kMaxSpecialBody) {
    phase = Phase::rest;
    return {};
  }
  body_type = type;
  body_size = *size;
  left = (*size + kBlock - 1) / kBlock * kBlock;
  phase = Phase::body;
  if (left == 0) on_body_done();
  return {};
}

Status TarLayoutRecorder::State::on_payload_done() {
  if (!referencing) {
    phase = Phase::header;
    return {};
  }
  if (phase == Phase::payload) {
    left = (kBlock - entry_size % kBlock) % kBlock;
    phase = Phase::padding;
    padding.clear();
    if (left > 0) return {};
  }
  referencing = false;
  phase = Phase::header;
  stats.referenced_files++;
  stats.referenced_bytes += entry_size;
  bool zeros = all_zero(padding.data(), padding.size());
  TRY(writer.file(*entry_ref, entry_size, zeros));
  if (!zeros) TRY(verbatim(padding.data(), padding.size()));
  return {};
}

TarLayoutRecorder::TarLayoutRecorder(std::unique_ptr<State> state) : state_(std::move(state)) {}
TarLayoutRecorder::~TarLayoutRecorder() = default;
const TarLayoutStats& TarLayoutRecorder::stats() const {
  return state_->stats;
}

Result<std::unique_ptr<TarLayoutRecorder>> TarLayoutRecorder::create(const std::string& path) {
  TRY_ASSIGN(writer, detail::LayoutWriter::open(path));
  auto state = std::make_unique<State>();
  state->writer = std::move(writer);
  return std::unique_ptr<TarLayoutRecorder>(new TarLayoutRecorder(std::move(state)));
}

Status TarLayoutRecorder::feed(const void* data, size_t size) {
  State& s = *state_;
  const char* p = static_cast<const char*>(data);
  s.stats.stream_bytes += size;
  if (!s.unusable.empty()) return {};  // dropped at finish: stop writing
  while (size > 0) {
    if (s.phase == Phase::rest) return s.verbatim(p, size);
    if (s.phase == Phase::header || s.phase == Phase::extension) {
      size_t n = std::min(size, kBlock - s.block.size());
      s.block.append(p, n);
      p += n;
      size -= n;
      if (s.block.size() < kBlock) continue;
      Status done = s.on_block();
      s.block.clear();
      TRY(done);
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, s.left));
    if (s.phase == Phase::body) {
      if (s.body.size() < s.body_size) s.body.append(p, std::min<uint64_t>(n, s.body_size - s.body.size()));
      TRY(s.verbatim(p, n));
    } else if (s.phase == Phase::padding) {
      s.padding.append(p, n);
    } else if (!s.referencing) {
      TRY(s.verbatim(p, n));
    }
    p += n;
    size -= n;
    s.left -= n;
    if (s.left > 0) continue;
    if (s.phase == Phase::body)
      s.on_body_done();
    else
      TRY(s.on_payload_done());
  }
  return {};
}

Result<std::string> TarLayoutRecorder::finish(int diff_root) {
  State& s = *state_;
  if (s.unusable.empty() && s.phase != Phase::header && s.phase != Phase::rest)
    s.unusable = "the tar stream ends inside an entry";
  if (s.unusable.empty() && !s.block.empty()) TRY(s.verbatim(s.block.data(), s.block.size()));
  for (auto it = s.referenced.begin(); s.unusable.empty() && it != s.referenced.end(); ++it) {
    struct stat st {};
    if (::fstatat(diff_root, it->first.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) != it->second)
      s.unusable = "`" + it->first + "` is not in the unpacked layer as its tar entry says";
  }
  if (!s.unusable.empty()) {
    if (::unlink(s.writer.path().c_str()) != 0 && errno != ENOENT) return sys_error("remove `" + s.writer.path() + "`");
    return s.unusable;
  }
  TRY(s.writer.finish(s.stats.stream_bytes));
  return std::string();
}

}  // namespace ctr::image
