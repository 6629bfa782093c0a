// The platform layer under the file operations: path resolution, handle-based open/read,
// directory listing, temp files and renames. read_file.cc, read_directory.cc, metadata.cc,
// write_file.cc, apply_patch.cc and patch_commit.cc use only this header, so they are the same
// code on every platform; fs_primitives_posix.cc (openat2 beneath a root fd, /proc re-check,
// renameat2) and win/fs_primitives_win.cc (CreateFileW, then GetFinalPathNameByHandleW checked
// against the policy before any read or write) implement it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon::ops {

enum class Access { kRead, kWrite };

struct ResolvedPath {
  std::string abs;   // absolute path (POSIX: lexically normalised; Windows: canonical "/C:/ws/a")
  std::string root;  // the (longest) root of the scope that contains it
  std::string rel;   // below root, '/'-separated; "" for the root itself
};

// Scopes: readable = workspace roots + writable roots, minus read_deny; writable = writable
// roots minus protected and read-denied paths. The request is absolute or relative to the first
// workspace root; ".." and (Windows) special spellings are kPolicyDenied, as is anything
// outside the scope of `access`.
Result<ResolvedPath> ResolvePath(const Policy& policy, const std::string& request, Access access);

// An open file or directory: an fd on POSIX, a HANDLE on Windows. Move-only; closes on
// destruction (reset() is per platform).
class OsHandle {
 public:
  static constexpr intptr_t kInvalid = -1;  // -1 fd, INVALID_HANDLE_VALUE
  OsHandle() = default;
  explicit OsHandle(intptr_t h) : h_(h) {}
  ~OsHandle() { reset(); }
  OsHandle(OsHandle&& o) noexcept : h_(o.release()) {}
  OsHandle& operator=(OsHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = o.release();
    }
    return *this;
  }
  OsHandle(const OsHandle&) = delete;
  OsHandle& operator=(const OsHandle&) = delete;

  explicit operator bool() const { return h_ != kInvalid; }
  intptr_t get() const { return h_; }
  intptr_t release() {
    intptr_t h = h_;
    h_ = kInvalid;
    return h;
  }
  void reset();

 private:
  intptr_t h_ = kInvalid;
};

enum class EntryType { kFile, kDir, kSymlink, kOther };
const char* EntryTypeName(EntryType type);  // "file" | "dir" | "symlink" | "other"

struct EntryInfo {
  EntryType type = EntryType::kOther;
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits; Windows synthesises them (0644 / 0444 read-only, 0755 dirs)
  int64_t mtime_ms = 0;
  uint64_t dev = 0;  // identity: st_dev/st_ino, or volume serial/file index on Windows
  uint64_t ino = 0;
};

enum class OpenMode {
  kRead,          // a regular file to read; a final symlink is followed (and the result checked)
  kReadNoFollow,  // as kRead, but a final symlink is refused
  kDirectory,     // a directory to list; anything else is kInvalidArgument "is not a directory"
  kEntry,         // the entry itself, not read; a final symlink is described, not followed
};

// Opens a resolved path and checks where the opened object really is against the policy
// (kPolicyDenied when it is outside the readable scope or read-denied). kNotFound when missing.
Result<OsHandle> OpenResolved(const Policy& policy, const ResolvedPath& path, OpenMode mode);

Result<EntryInfo> StatHandle(const OsHandle& h, const std::string& display);
// Up to `n` bytes; 0 at end of file.
Result<size_t> ReadSome(const OsHandle& h, char* buf, size_t n, const std::string& display);
Status Rewind(const OsHandle& h, const std::string& display);

struct ListedEntry {
  std::string name;
  EntryInfo info;  // the entry itself (links not followed)
};
// The entries of a directory opened with kDirectory (no "." or ".."; unsorted).
Result<std::vector<ListedEntry>> ListDirectory(const OsHandle& dir, const std::string& display);
// Subdirectory `name` of `dir`, never through a link; `abs` is its path for the policy check.
Result<OsHandle> OpenSubdirectory(const Policy& policy, const OsHandle& dir, const std::string& name,
                                  const std::string& abs);

// ---- writing: everything below happens inside one held-open parent directory ----

// The directory that holds a path to be written, and the entry name in it.
struct ParentDir {
  OsHandle dir;
  std::string name;  // a single component, never "", "." or ".."
};
// A directory created by OpenParent (rollback removes it).
struct CreatedDir {
  OsHandle parent;
  std::string name;
};
// Opens the parent of a writable path and checks where it really is; with `create_parents`,
// missing directories are created one by one and recorded in `created`.
Result<ParentDir> OpenParent(const Policy& policy, const ResolvedPath& path, bool create_parents,
                             std::vector<CreatedDir>* created = nullptr);
// Where an open directory really is ("" when the platform cannot tell), and the write check of
// `leaf` inside it (protected / read-denied / outside the writable roots -> kPolicyDenied).
std::string RealPathOf(const OsHandle& dir);
Status CheckWritableEntry(const Policy& policy, const std::string& real_dir, const std::string& leaf,
                          const std::string& display);

// `name` in `dir`, not following a link; nullopt when it does not exist.
Result<std::optional<EntryInfo>> StatEntry(const OsHandle& dir, const std::string& name, const std::string& display);
// Reads regular file `name` in `dir` (a link is refused); more than max_bytes is kLimitExceeded.
Result<std::string> ReadEntry(const OsHandle& dir, const std::string& name, uint64_t max_bytes,
                              const std::string& display);
// A fresh, unguessable name for a temp or backup entry: ".cordon-<hex>.<suffix>".
std::string TempName(const char* suffix);
// Creates a temp file in `dir` holding `content`; `mode` applied exactly when `exact_mode`,
// else through the umask (ignored on Windows). Returns its name; on failure nothing is left.
Result<std::string> CreateTempFile(const OsHandle& dir, std::string_view content, uint32_t mode, bool exact_mode,
                                   const std::string& display);

enum class RenameMode {
  kReplace,    // atomically replaces an existing `to` (a link there is replaced, not followed)
  kNoReplace,  // kConflict when `to` exists
  kExchange,   // swaps both names atomically; kUnsupported where the platform cannot
};
// Renames within `dir`. A missing `from` is kNotFound; other failures are mapped as
// WriteError does (full disk -> kLimitExceeded, access -> kPolicyDenied).
Status RenameEntry(const OsHandle& dir, const std::string& from, const std::string& to, RenameMode mode,
                   const std::string& what);
// Best effort removals of names the operation itself created.
void RemoveEntry(const OsHandle& dir, const std::string& name);
void RemoveCreatedDirs(std::vector<CreatedDir>& created);  // deepest first; clears the list
// After a deletion, removes the directories it left empty, up to (not including) the root.
void PruneEmptyParents(const Policy& policy, const ResolvedPath& path);

}  // namespace cordon::ops
