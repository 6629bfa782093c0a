// cordon::ops::Sha256 for Windows, on the system's CNG (BCrypt) provider instead of libcrypto.
#include "sandbox/ops/sha256.h"

#include <windows.h>
#include <bcrypt.h>

#include <cstdio>
#include <cstdlib>

namespace cordon::ops {

struct Sha256::Impl {
  BCRYPT_HASH_HANDLE hash = nullptr;
};

namespace {

// One provider for the process; BCryptCreateHash on a shared algorithm handle is thread-safe.
BCRYPT_ALG_HANDLE Provider() {
  static BCRYPT_ALG_HANDLE alg = [] {
    BCRYPT_ALG_HANDLE h = nullptr;
    if (!BCRYPT_SUCCESS(::BCryptOpenAlgorithmProvider(&h, BCRYPT_SHA256_ALGORITHM, nullptr, 0)))
      std::abort();  // no SHA-256 in the OS: nothing sensible to return
    return h;
  }();
  return alg;
}

}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!BCRYPT_SUCCESS(::BCryptCreateHash(Provider(), &impl_->hash, nullptr, 0, nullptr, 0, 0)))
    std::abort();
}

Sha256::~Sha256() {
  if (impl_->hash != nullptr) ::BCryptDestroyHash(impl_->hash);
}

void Sha256::Update(std::string_view bytes) {
  while (!bytes.empty()) {
    ULONG n = bytes.size() > 0x40000000 ? 0x40000000 : static_cast<ULONG>(bytes.size());
    ::BCryptHashData(impl_->hash, reinterpret_cast<PUCHAR>(const_cast<char*>(bytes.data())), n, 0);
    bytes.remove_prefix(n);
  }
}

std::string Sha256::HexDigest() {
  unsigned char digest[32];
  ::BCryptFinishHash(impl_->hash, digest, sizeof(digest), 0);
  std::string hex(64, '0');
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.HexDigest();
}

}  // namespace cordon::ops
