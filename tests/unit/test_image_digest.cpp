#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "image/digest.h"

using namespace ctr::image;
using ::testing::HasSubstr;

namespace {

constexpr char kEmpty[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string pattern_mib() {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 31) % 251);
  return data;
}

}  // namespace

TEST(ImageDigest, KnownVectors) {
  EXPECT_EQ(sha256_digest(""), kEmpty);
  EXPECT_EQ(sha256_digest("abc"), kAbc);
  EXPECT_EQ(sha256_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_digest(std::string(1000000, 'a')),
            "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ImageDigest, StreamingInOddChunksMatchesOneShot) {
  const std::string data = pattern_mib();
  // Value from Python's hashlib over the same bytes.
  const std::string expected = "sha256:3617860390ce98fe34c1bb89382ea7122d3b6890069e30a078892492ba0c774d";
  EXPECT_EQ(sha256_digest(data), expected);
  Sha256 hasher;
  size_t chunk = 1;
  for (size_t pos = 0; pos < data.size();) {
    size_t n = std::min(chunk, data.size() - pos);
    hasher.update(data.data() + pos, n);
    pos += n;
    chunk = chunk * 7 % 65521 + 13;  // odd, varying sizes that straddle SHA's 64-byte blocks
  }
  hasher.update(nullptr, 0);
  EXPECT_EQ(hasher.finish(), expected);
}

TEST(ImageDigest, FinishResetsAndMoveKeepsState) {
  Sha256 first;
  first.update("ab", 2);
  Sha256 moved = std::move(first);
  moved.update("c", 1);
  EXPECT_EQ(moved.finish(), kAbc);
  EXPECT_EQ(moved.finish(), kEmpty);  // a finished hasher starts over
}

TEST(ImageDigest, ValidateAcceptsOnlyLowercaseSha256) {
  EXPECT_TRUE(validate_digest(kAbc));
  auto upper = validate_digest("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().code, EINVAL);
  EXPECT_THAT(upper.error().message, HasSubstr("sha256:BA78"));
  EXPECT_FALSE(validate_digest("sha256:abc"));
  EXPECT_FALSE(validate_digest(""));
  EXPECT_FALSE(validate_digest("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  auto sha512 = validate_digest("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_FALSE(sha512);
  EXPECT_THAT(sha512.error().message, HasSubstr("only sha256"));
  EXPECT_FALSE(validate_digest("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/"));
}

TEST(ImageDigest, HexIsTheEncodedPart) {
  EXPECT_EQ(digest_hex(kAbc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest_hex("abcdef"), "abcdef");
}
