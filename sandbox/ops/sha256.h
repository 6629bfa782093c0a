// SHA-256 for file identities on the wire (readFile, writeFile's expectedSha256, metadata).
// Backed by libcrypto, which uses the CPU's SHA extensions where present.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cordon::ops {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Lowercase hex of the digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view bytes);

}  // namespace cordon::ops
