#include "image/digest.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// EVP's first use initialises the library: it reads and parses
// /usr/lib/ssl/openssl.cnf and loads the default provider, about 0.9 ms per
// process. `ctr run` checks the image config's digest on every container
// start, so that was on its hot path. The low-level functions call the same
// SHA-NI/AVX block code (same throughput, measured on 256 MiB) with no
// library initialisation.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdlib>

namespace ctr::image {

namespace {

constexpr std::string_view kPrefix = "sha256:";
constexpr size_t kHexLength = 64;

std::string to_hex(const unsigned char* data, size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0x0f]);
  }
  return out;
}

}  // namespace

struct Sha256::State {
  SHA256_CTX ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  // Cannot fail (no allocation, no provider): a failure means a broken library.
  if (SHA256_Init(&state_->ctx) != 1) std::abort();
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
  if (size == 0) return;
  if (SHA256_Update(&state_->ctx, data, size) != 1) std::abort();
}

std::string Sha256::finish() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  if (SHA256_Final(md, &state_->ctx) != 1) std::abort();
  // Ready for reuse: a finished hasher starts over rather than failing.
  if (SHA256_Init(&state_->ctx) != 1) std::abort();
  return std::string(kPrefix) + to_hex(md, sizeof md);
}

std::string sha256_digest(std::string_view data) {
  Sha256 hasher;
  hasher.update(data.data(), data.size());
  return hasher.finish();
}

Status validate_digest(std::string_view digest) {
  auto bad = [&](const std::string& why) {
    return make_error("invalid digest \"" + std::string(digest) + "\": " + why, EINVAL);
  };
  if (digest.substr(0, kPrefix.size()) != kPrefix) {
    if (digest.find(':') != std::string_view::npos) return bad("unsupported algorithm (only sha256 is supported)");
    return bad("expected sha256:<64 hex digits>");
  }
  std::string_view hex = digest.substr(kPrefix.size());
  if (hex.size() != kHexLength) return bad("expected 64 hex digits after sha256:, got " + std::to_string(hex.size()));
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("expected lowercase hex digits");
  }
  return {};
}

std::string digest_hex(std::string_view digest) {
  size_t colon = digest.find(':');
  return std::string(colon == std::string_view::npos ? digest : digest.substr(colon + 1));
}

}  // namespace ctr::image
