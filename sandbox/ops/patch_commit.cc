// POSIX only (see path_resolver.cc).
#ifndef _WIN32
#include "sandbox/ops/patch_commit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/ops/file_io.h"

namespace cordon::ops {
namespace {

enum class Done {
  kNothing,
  kExchanged,        // old file now at tmp_name, new file at name
  kBackedUpReplace,  // old file at backup_name, new file at name (no RENAME_EXCHANGE support)
  kAdded,            // new file at name, nothing was there
  kDeleted,          // old file at backup_name
};

struct Step {
  FileChange* change = nullptr;
  DirCache::Parent parent;
  std::string tmp_name;     // staged new content (or, after an exchange, the old file)
  std::string backup_name;  // deletions and the no-exchange fallback
  Done done = Done::kNothing;
};

bool SameInode(int dir, const std::string& name, const FileChange& c) {
  struct stat st {};
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == c.dev &&
         st.st_ino == c.ino;
}

Error Changed(const std::string& abs) {
  return MakeError(ErrorKind::kConflict, abs + " changed while the patch was being applied; nothing was changed");
}

// Commits one step; on failure the step itself is left undone (the caller undoes earlier ones).
Status CommitStep(Step& s) {
  const int dir = s.parent.dir;
  const std::string& name = s.parent.name;
  FileChange& c = *s.change;
  if (c.write && c.had_file) {
    if (::renameat2(dir, s.tmp_name.c_str(), dir, name.c_str(), RENAME_EXCHANGE) == 0) {
      s.done = Done::kExchanged;
      if (!SameInode(dir, s.tmp_name, c)) return Changed(c.path.abs);
      return OkStatus();
    }
    if (errno == ENOENT) return Changed(c.path.abs);
    if (errno != EINVAL && errno != ENOSYS) return WriteError(errno, "replacing " + c.path.abs);
    // Filesystems without RENAME_EXCHANGE: move the old file aside, then the new one in.
    s.backup_name = TempName("bak");
    if (::renameat2(dir, name.c_str(), dir, s.backup_name.c_str(), RENAME_NOREPLACE) != 0)
      return errno == ENOENT ? Changed(c.path.abs) : WriteError(errno, "moving aside " + c.path.abs);
    if (::renameat2(dir, s.tmp_name.c_str(), dir, name.c_str(), RENAME_NOREPLACE) != 0) {
      int err = errno;
      ::renameat2(dir, s.backup_name.c_str(), dir, name.c_str(), RENAME_NOREPLACE);
      return WriteError(err, "replacing " + c.path.abs);
    }
    s.done = Done::kBackedUpReplace;
    if (!SameInode(dir, s.backup_name, c)) return Changed(c.path.abs);
    return OkStatus();
  }
  if (c.write) {
    if (::renameat2(dir, s.tmp_name.c_str(), dir, name.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST)
        return MakeError(ErrorKind::kConflict, c.path.abs + " appeared while the patch was being applied; nothing was changed");
      return WriteError(errno, "creating " + c.path.abs);
    }
    s.done = Done::kAdded;
    return OkStatus();
  }
  s.backup_name = TempName("bak");
  if (::renameat2(dir, name.c_str(), dir, s.backup_name.c_str(), RENAME_NOREPLACE) != 0)
    return errno == ENOENT ? Changed(c.path.abs) : WriteError(errno, "deleting " + c.path.abs);
  s.done = Done::kDeleted;
  if (!SameInode(dir, s.backup_name, c)) return Changed(c.path.abs);
  return OkStatus();
}

// Reverses a committed step and removes its temp; best effort (each call is a single rename or
// unlink on a name we created, in a directory we hold open).
void UndoStep(Step& s) {
  const int dir = s.parent.dir;
  const char* name = s.parent.name.c_str();
  switch (s.done) {
    case Done::kExchanged:
      ::renameat2(dir, s.tmp_name.c_str(), dir, name, RENAME_EXCHANGE);
      break;
    case Done::kBackedUpReplace:
      ::renameat(dir, s.backup_name.c_str(), dir, name);
      break;
    case Done::kAdded:
      ::renameat(dir, name, dir, s.tmp_name.c_str());
      break;
    case Done::kDeleted:
      ::renameat2(dir, s.backup_name.c_str(), dir, name, RENAME_NOREPLACE);
      break;
    case Done::kNothing:
      break;
  }
  s.done = Done::kNothing;
  if (!s.tmp_name.empty()) ::unlinkat(dir, s.tmp_name.c_str(), 0);
}

void RemoveCreatedDirs(std::vector<CreatedDir>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it)
    ::unlinkat(it->parent.get(), it->name.c_str(), AT_REMOVEDIR);
  created.clear();
}

// After a deletion, removes directories it left empty, from the deepest up, stopping at the
// root or the first non-empty one. Each directory is opened beneath the root again.
void PruneEmptyParents(const ResolvedPath& path) {
  auto root = OpenRoot(path.root);
  if (!root) return;
  std::string rel = path.rel;
  for (;;) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return;
    rel.resize(slash);  // the directory that held the entry
    size_t up = rel.rfind('/');
    std::string parent = up == std::string::npos ? "" : rel.substr(0, up);
    std::string name = up == std::string::npos ? rel : rel.substr(up + 1);
    auto fd = OpenBeneath(root->get(), parent, O_PATH | O_DIRECTORY, 0, path.abs);
    if (!fd || ::unlinkat(fd->get(), name.c_str(), AT_REMOVEDIR) != 0) return;
  }
}

}  // namespace

Status CommitChanges(const Policy& policy, DirCache& dirs, std::vector<FileChange>& changes,
                     const std::atomic<bool>* cancel, const ApplyPatchHooks* hooks) {
  (void)policy;
  std::vector<Step> steps(changes.size());
  std::vector<CreatedDir> created;
  auto abort_all = [&](Error e) -> Status {
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
      if (it->parent.dir >= 0) UndoStep(*it);
    RemoveCreatedDirs(created);
    return e;
  };

  // Stage: every parent directory opened (created for new files), every new content written.
  for (size_t i = 0; i < changes.size(); ++i) {
    Step& s = steps[i];
    s.change = &changes[i];
    auto parent = dirs.Get(changes[i].path, changes[i].write, &created);
    if (!parent) return abort_all(parent.error());
    s.parent = std::move(parent.value());
    if (changes[i].write) {
      auto tmp = CreateTempFile(s.parent.dir, changes[i].content, changes[i].mode,
                                changes[i].exact_mode, changes[i].path.abs);
      if (!tmp) return abort_all(tmp.error());
      s.tmp_name = std::move(tmp.value());
    }
  }
  if (cancel && cancel->load()) return abort_all(MakeError(ErrorKind::kCancelled, "patch/apply cancelled; nothing was changed"));

  // Commit: one rename per path; the first failure undoes everything before it.
  for (size_t i = 0; i < steps.size(); ++i) {
    if (hooks && hooks->before_commit_step) hooks->before_commit_step(i, steps.size(), changes[i].path.abs);
    if (auto st = CommitStep(steps[i]); !st) return abort_all(st.error());
  }

  // Done: drop the swapped-out old files and deletion backups.
  for (Step& s : steps) {
    const int dir = s.parent.dir;
    if (s.done == Done::kExchanged) ::unlinkat(dir, s.tmp_name.c_str(), 0);
    if (!s.backup_name.empty()) ::unlinkat(dir, s.backup_name.c_str(), 0);
  }
  for (const FileChange& c : changes)
    if (!c.write) PruneEmptyParents(c.path);
  return OkStatus();
}

}  // namespace cordon::ops
#endif  // _WIN32
