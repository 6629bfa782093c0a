#include "sandbox/win/acl_manager.h"

#include <windows.h>

#include <algorithm>
#include <filesystem>

#include "sandbox/win/path_form.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

uint32_t AllowWriteMask() {
  return FILE_GENERIC_READ | FILE_GENERIC_WRITE | FILE_GENERIC_EXECUTE | DELETE | FILE_DELETE_CHILD;
}

uint32_t DenyWriteMask() {
  return FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES | DELETE |
         FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER;
}

std::vector<AceRecord> PlanAces(const Policy& policy, const std::string& capability_sid) {
  std::vector<AceRecord> out;
  if (policy.mode() != SandboxMode::kWorkspaceWrite) return out;
  for (const auto& root : policy.writable_roots())
    out.push_back(AceRecord{root, capability_sid, AceKind::kAllowWrite, AllowWriteMask(), true});
  for (const auto& path : policy.protected_paths()) {
    // A protected path that does not exist yet cannot carry an ACE; creating it is refused
    // by the path guard and, on Windows, covered by the parent's inheritable allow only.
    auto wide = FromPolicyPath(path);
    if (!wide || ::GetFileAttributesW(wide->c_str()) == INVALID_FILE_ATTRIBUTES) continue;
    out.push_back(AceRecord{path, capability_sid, AceKind::kDenyWrite, DenyWriteMask(), true});
  }
  return out;
}

namespace {

// Serialises state-file read-modify-write across cordon processes of this user session.
class StateLock {
 public:
  StateLock() : mutex_(::CreateMutexW(nullptr, FALSE, L"Local\\cordon-acl-state")) {
    if (mutex_) ::WaitForSingleObject(mutex_.get(), INFINITE);
  }
  ~StateLock() {
    if (mutex_) ::ReleaseMutex(mutex_.get());
  }

 private:
  ScopedHandle mutex_;
};

bool Contains(const std::vector<AceRecord>& list, const AceRecord& r) {
  return std::find(list.begin(), list.end(), r) != list.end();
}

}  // namespace

AclManager::AclManager(std::string state_file, AclBackend* backend)
    : state_file_(std::move(state_file)), backend_(backend) {}

Result<AclApplyReport> AclManager::Apply(const std::string& sid, const std::vector<AceRecord>& desired) {
  for (const auto& d : desired)
    if (d.sid != sid) return MakeError(ErrorKind::kInternal, "ACE for " + d.sid + " in a plan for " + sid);
  StateLock lock;
  auto loaded = LoadAclState(state_file_);
  if (!loaded) return loaded.error();
  AclState state = std::move(loaded).value();
  AclApplyReport report;

  // Stale: recorded for this SID, no longer wanted. Removed first so a moved protected path
  // never leaves a deny behind.
  std::vector<AceRecord> keep;
  for (const auto& r : state.aces) {
    if (r.sid != sid || Contains(desired, r)) {
      keep.push_back(r);
      continue;
    }
    if (auto st = backend_->RemoveAce(r); !st) {
      keep.push_back(r);
      state.aces = keep;
      (void)SaveAclState(state_file_, state);
      return st.error();
    }
    ++report.removed;
  }
  state.aces = keep;

  for (const auto& d : desired) {
    if (Contains(state.aces, d)) {
      // Recorded: trust the record unless the ACE is observably gone (directory recreated).
      auto present = backend_->HasAce(d);
      if (present.ok() && !*present) {
        if (auto st = backend_->AddAce(d); !st) return st.error();
        ++report.repaired;
      } else {
        ++report.unchanged;
      }
      continue;
    }
    state.aces.push_back(d);  // record first: a crash must not leave an unrecorded ACE
    if (auto st = SaveAclState(state_file_, state); !st) return st.error();
    if (auto st = backend_->AddAce(d); !st) return st.error();
    ++report.added;
  }
  if (auto st = SaveAclState(state_file_, state); !st) return st.error();
  return report;
}

Result<int> AclManager::Cleanup(const std::string& sid) {
  StateLock lock;
  auto loaded = LoadAclState(state_file_);
  if (!loaded) return loaded.error();
  AclState state = std::move(loaded).value();
  std::vector<AceRecord> failed_records;
  std::string failures;
  int removed = 0;
  // Reverse order: the last change is undone first.
  for (auto it = state.aces.rbegin(); it != state.aces.rend(); ++it) {
    if (!sid.empty() && it->sid != sid) {
      failed_records.insert(failed_records.begin(), *it);
      continue;
    }
    if (auto st = backend_->RemoveAce(*it); !st) {
      failed_records.insert(failed_records.begin(), *it);
      failures += (failures.empty() ? "" : "; ") + st.error().detail;
      continue;
    }
    ++removed;
  }
  state.aces = failed_records;
  if (auto st = SaveAclState(state_file_, state); !st) return st.error();
  if (!failures.empty()) return MakeError(ErrorKind::kInternal, "windows-cleanup: " + failures);
  return removed;
}

}  // namespace cordon::win
