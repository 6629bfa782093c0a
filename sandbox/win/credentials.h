// Storage for the elevated-mode sandbox users' passwords: each password is encrypted with
// DPAPI (CryptProtectData, bound to the current user, with cordon's entropy) and kept base64
// in a JSON file, so the file alone (a backup, another account) does not reveal them.
#pragma once

#include <string>

#include "sandbox/status.h"
#include "sandbox/win/sandbox_users.h"

namespace cordon::win {

struct StoredCredentials {
  int version = 1;
  SandboxCredential offline;
  SandboxCredential online;
};

Result<std::string> ProtectSecret(const std::string& plaintext);     // -> base64
Result<std::string> UnprotectSecret(const std::string& base64_blob);

// JSON with usernames in clear and passwords protected; see ProtectSecret.
Result<std::string> CredentialsToJson(const StoredCredentials& creds);
Result<StoredCredentials> CredentialsFromJson(const std::string& text);

}  // namespace cordon::win
