// The real AclBackend: edits one object's DACL at a time. Owners, groups and SACLs are never
// requested or written (DACL_SECURITY_INFORMATION only), so taking ownership is impossible
// by construction. Inheritable ACEs propagate to existing children through the system's own
// inheritance on SetNamedSecurityInfoW, which is the one full walk; later runs skip it.
#include <windows.h>
// after windows.h
#include <aclapi.h>

#include "sandbox/win/acl_manager.h"
#include "sandbox/win/explicit_access.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

DWORD InheritFlags(const AceRecord& ace) {
  return ace.inherit ? (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE) : 0;
}

BYTE AceType(const AceRecord& ace) {
  return ace.kind == AceKind::kAllowWrite ? ACCESS_ALLOWED_ACE_TYPE : ACCESS_DENIED_ACE_TYPE;
}

struct Dacl {
  ScopedLocal<PSECURITY_DESCRIPTOR> sd;
  PACL acl = nullptr;
};

Result<Dacl> ReadDacl(const std::wstring& path, bool* missing) {
  Dacl d;
  *missing = false;
  DWORD err = ::GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                      &d.acl, nullptr, d.sd.receive());
  if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
    *missing = true;
    return d;
  }
  if (err != ERROR_SUCCESS) return WinError(ErrorKind::kInternal, "GetNamedSecurityInfoW", err);
  return d;
}

// One ACE's object, ready to edit: its Windows path, the SID the ACE names and the path's
// current DACL. `missing`: the path does not exist (and `dacl` is empty).
struct AceTarget {
  std::wstring path;
  OwnedSid sid;
  Dacl dacl;
  bool missing = false;
};

Result<AceTarget> ReadAceTarget(const AceRecord& ace) {
  auto path = FromPolicyPath(ace.path);
  if (!path) return path.error();
  auto sid = SidFromString(ace.sid);
  if (!sid) return sid.error();
  AceTarget target{std::move(path).value(), std::move(sid).value(), {}, false};
  auto dacl = ReadDacl(target.path, &target.missing);
  if (!dacl) return dacl.error();
  target.dacl = std::move(dacl).value();
  return target;
}

// Replaces the target's DACL with `acl` (the DACL only: owner, group and SACL untouched).
Status WriteDacl(AceTarget& target, PACL acl, const AceRecord& ace) {
  DWORD err = ::SetNamedSecurityInfoW(target.path.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                      nullptr, acl, nullptr);
  if (err != ERROR_SUCCESS) return WinError(ErrorKind::kInternal, "SetNamedSecurityInfoW(" + ace.path + ")", err);
  return OkStatus();
}

// Index of each explicit ACE equal to `ace` (type, flags, mask, SID).
std::vector<DWORD> Matching(PACL acl, const AceRecord& ace, const OwnedSid& sid) {
  std::vector<DWORD> out;
  if (acl == nullptr) return out;
  for (DWORD i = 0; i < acl->AceCount; ++i) {
    void* raw = nullptr;
    if (!::GetAce(acl, i, &raw)) continue;
    auto* header = static_cast<ACE_HEADER*>(raw);
    if (header->AceType != AceType(ace) || (header->AceFlags & INHERITED_ACE)) continue;
    if ((header->AceFlags & (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE)) != InheritFlags(ace)) continue;
    // ACCESS_ALLOWED_ACE and ACCESS_DENIED_ACE share one layout.
    auto* body = static_cast<ACCESS_ALLOWED_ACE*>(raw);
    if (body->Mask != ace.mask) continue;
    if (::EqualSid(reinterpret_cast<PSID>(&body->SidStart), sid.get())) out.push_back(i);
  }
  return out;
}

class Win32AclBackend : public AclBackend {
 public:
  Status AddAce(const AceRecord& ace) override {
    auto target = ReadAceTarget(ace);
    if (!target) return target.error();
    if (target->missing) return MakeError(ErrorKind::kNotFound, "no such path " + ace.path);
    EXPLICIT_ACCESS_W ea = SidAccess(target->sid, ace.mask,
                                     ace.kind == AceKind::kAllowWrite ? GRANT_ACCESS : DENY_ACCESS, InheritFlags(ace));
    ScopedLocal<PACL> merged;
    DWORD err = ::SetEntriesInAclW(1, &ea, target->dacl.acl, merged.receive());
    if (err != ERROR_SUCCESS) return WinError(ErrorKind::kInternal, "SetEntriesInAclW", err);
    return WriteDacl(*target, merged.get(), ace);
  }

  Status RemoveAce(const AceRecord& ace) override {
    auto target = ReadAceTarget(ace);
    if (!target) return target.error();
    const PACL original = target->dacl.acl;
    if (target->missing || original == nullptr) return OkStatus();
    auto hits = Matching(original, ace, target->sid);
    if (hits.empty()) return OkStatus();
    // Copy the DACL (the security descriptor owns the original) and delete from the end.
    ACL_SIZE_INFORMATION size{};
    ::GetAclInformation(original, &size, sizeof(size), AclSizeInformation);
    std::vector<BYTE> copy(size.AclBytesInUse + size.AclBytesFree);
    memcpy(copy.data(), original, size.AclBytesInUse);
    auto* acl = reinterpret_cast<PACL>(copy.data());
    acl->AclSize = static_cast<WORD>(copy.size());
    for (auto it = hits.rbegin(); it != hits.rend(); ++it) ::DeleteAce(acl, *it);
    return WriteDacl(*target, acl, ace);
  }

  Result<bool> HasAce(const AceRecord& ace) override {
    auto target = ReadAceTarget(ace);
    if (!target) return target.error();
    if (target->missing) return false;
    return !Matching(target->dacl.acl, ace, target->sid).empty();
  }
};

}  // namespace

std::unique_ptr<AclBackend> MakeWin32AclBackend() { return std::make_unique<Win32AclBackend>(); }

}  // namespace cordon::win
