// SIDs the sandbox is built from. The per-workspace capability SID is derived
// deterministically from the canonical workspace path, so every session on the same
// workspace (and `cordon windows-cleanup` later) names the same SID without storing a
// secret, while ACEs granted for workspace A never let a sandbox started in B write to A.
#pragma once

#include <windows.h>

#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon::win {

// A SID held by value (a copy of the variable-length SID bytes).
class OwnedSid {
 public:
  OwnedSid() = default;
  explicit OwnedSid(PSID sid);
  PSID get() const { return bytes_.empty() ? nullptr : const_cast<BYTE*>(bytes_.data()); }
  bool empty() const { return bytes_.empty(); }
  std::string ToString() const;
  bool operator==(const OwnedSid& other) const { return bytes_ == other.bytes_; }

 private:
  std::vector<BYTE> bytes_;
};

Result<OwnedSid> SidFromString(const std::string& text);

// "S-1-5-21-a-b-c-d", the four sub-authorities taken from SHA-256 over a versioned prefix and
// the ASCII-lower-cased policy-form path (NTFS compares names case-insensitively, so "C:/WS"
// and "c:/ws" are one workspace). Pure: no OS state involved.
std::string WorkspaceCapabilitySidString(const std::string& canonical_policy_path);
Result<OwnedSid> WorkspaceCapabilitySid(const std::string& canonical_policy_path);

OwnedSid WorldSid();  // Everyone, S-1-1-0
// The logon SID (S-1-5-5-x-y) of `token`, found through SE_GROUP_LOGON_ID. kNotFound when the
// token has none (Wine's default token, service tokens).
Result<OwnedSid> LogonSid(HANDLE token);
Result<OwnedSid> TokenUserSid(HANDLE token);

}  // namespace cordon::win
