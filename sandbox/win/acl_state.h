// The record of every ACE cordon has added to the file system, kept in a JSON state file so
// `cordon windows-cleanup` can remove exactly those ACEs (and nothing the user set), and so a
// new session applies only what changed since the last run instead of re-walking the tree.
// Each record is written before its ACE is applied: a crash leaves at most a record whose ACE
// is missing, which cleanup treats as already removed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon::win {

enum class AceKind { kAllowWrite, kDenyWrite };
const char* AceKindName(AceKind kind);

struct AceRecord {
  std::string path;  // policy form, canonical ("/C:/ws")
  std::string sid;   // "S-1-5-21-..."
  AceKind kind = AceKind::kAllowWrite;
  uint32_t mask = 0;
  bool inherit = true;  // OBJECT_INHERIT | CONTAINER_INHERIT

  bool operator==(const AceRecord& o) const {
    return path == o.path && sid == o.sid && kind == o.kind && mask == o.mask && inherit == o.inherit;
  }
};

struct AclState {
  int version = 1;
  std::vector<AceRecord> aces;
};

// A missing file is an empty state; a corrupt one is kInternal (never silently emptied, since
// that would orphan the ACEs it records).
Result<AclState> LoadAclState(const std::string& file);
// Atomic replace (temp file + MoveFileExW with MOVEFILE_REPLACE_EXISTING | WRITE_THROUGH).
Status SaveAclState(const std::string& file, const AclState& state);

std::string AclStateToJson(const AclState& state);
Result<AclState> AclStateFromJson(const std::string& text);

}  // namespace cordon::win
