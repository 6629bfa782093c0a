#include "sandbox/win/credentials.h"

#include <windows.h>
// after windows.h
#include <dpapi.h>
#include <wincrypt.h>

#include <nlohmann/json.hpp>

#include "sandbox/base64.h"

namespace cordon::win {

namespace {

// Fixed per-application entropy: another program running as the same user must also know it
// to call CryptUnprotectData on our blobs (a speed bump, not a boundary).
DATA_BLOB Entropy() {
  static const char kEntropy[] = "cordon sandbox credentials v1";
  return DATA_BLOB{sizeof(kEntropy) - 1, reinterpret_cast<BYTE*>(const_cast<char*>(kEntropy))};
}

}  // namespace

Result<std::string> ProtectSecret(const std::string& plaintext) {
  DATA_BLOB in{static_cast<DWORD>(plaintext.size()), reinterpret_cast<BYTE*>(const_cast<char*>(plaintext.data()))};
  DATA_BLOB entropy = Entropy();
  DATA_BLOB out{};
  if (!::CryptProtectData(&in, L"cordon", &entropy, nullptr, nullptr, CRYPTPROTECT_UI_FORBIDDEN, &out))
    return MakeError(ErrorKind::kInternal, "CryptProtectData failed: " + std::to_string(::GetLastError()));
  std::string blob(reinterpret_cast<char*>(out.pbData), out.cbData);
  ::LocalFree(out.pbData);
  return Base64Encode(blob);
}

Result<std::string> UnprotectSecret(const std::string& base64_blob) {
  auto blob = Base64Decode(base64_blob);
  if (!blob) return MakeError(ErrorKind::kInternal, "credential blob is not base64");
  DATA_BLOB in{static_cast<DWORD>(blob->size()), reinterpret_cast<BYTE*>(blob->data())};
  DATA_BLOB entropy = Entropy();
  DATA_BLOB out{};
  if (!::CryptUnprotectData(&in, nullptr, &entropy, nullptr, nullptr, CRYPTPROTECT_UI_FORBIDDEN, &out))
    return MakeError(ErrorKind::kInternal, "CryptUnprotectData failed: " + std::to_string(::GetLastError()));
  std::string plain(reinterpret_cast<char*>(out.pbData), out.cbData);
  SecureZeroMemory(out.pbData, out.cbData);
  ::LocalFree(out.pbData);
  return plain;
}

Result<std::string> CredentialsToJson(const StoredCredentials& creds) {
  nlohmann::json doc = {{"version", creds.version}};
  for (auto [key, cred] : {std::pair<const char*, const SandboxCredential*>{"offline", &creds.offline},
                           {"online", &creds.online}}) {
    auto blob = ProtectSecret(cred->password);
    if (!blob) return blob.error();
    doc[key] = {{"username", cred->username}, {"password_dpapi", *blob}};
  }
  return doc.dump(2) + "\n";
}

Result<StoredCredentials> CredentialsFromJson(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return MakeError(ErrorKind::kInternal, "credentials are not JSON");
  StoredCredentials creds;
  try {
    creds.version = doc.at("version").get<int>();
    for (auto [key, cred] : {std::pair<const char*, SandboxCredential*>{"offline", &creds.offline},
                             {"online", &creds.online}}) {
      cred->username = doc.at(key).at("username").get<std::string>();
      auto plain = UnprotectSecret(doc.at(key).at("password_dpapi").get<std::string>());
      if (!plain) return plain.error();
      cred->password = *plain;
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kInternal, std::string("credentials: ") + e.what());
  }
  return creds;
}

}  // namespace cordon::win
