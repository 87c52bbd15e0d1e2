// sha256 digests ("sha256:<64 hex>"), computed streaming with OpenSSL's
// libcrypto (hardware SHA extensions: much faster than code we would write).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/base/result.h"

namespace ctr::image {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, size_t size);
  std::string finish();  // "sha256:<hex>"

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_digest(std::string_view data);
// "sha256:<64 lowercase hex>" only; errors name the text.
Status validate_digest(std::string_view digest);
// "sha256:abc..." -> "abc..." (the encoded part), for file names.
std::string digest_hex(std::string_view digest);

}  // namespace ctr::image
