#include "sandbox/ops/patch_commit.h"

namespace cordon::ops {
namespace {

enum class Done {
  kNothing,
  kExchanged,        // old file now at tmp_name, new file at name
  kBackedUpReplace,  // old file at backup_name, new file at name (no atomic exchange: Windows, some filesystems)
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

bool SameInode(const OsHandle& dir, const std::string& name, const FileChange& c) {
  auto st = StatEntry(dir, name, c.path.abs);
  return st && st->has_value() && (*st)->dev == c.dev && (*st)->ino == c.ino;
}

Error Changed(const std::string& abs) {
  return MakeError(ErrorKind::kConflict, abs + " changed while the patch was being applied; nothing was changed");
}

// Commits one step; on failure the step itself is left undone (the caller undoes earlier ones).
Status CommitStep(Step& s) {
  const OsHandle& dir = *s.parent.dir;
  const std::string& name = s.parent.name;
  FileChange& c = *s.change;
  if (c.write && c.had_file) {
    auto ex = RenameEntry(dir, s.tmp_name, name, RenameMode::kExchange, "replacing " + c.path.abs);
    if (ex) {
      s.done = Done::kExchanged;
      if (!SameInode(dir, s.tmp_name, c)) return Changed(c.path.abs);
      return OkStatus();
    }
    if (ex.error().kind == ErrorKind::kNotFound) return Changed(c.path.abs);
    if (ex.error().kind != ErrorKind::kUnsupported) return ex.error();
    // No atomic exchange: move the old file aside, then the new one in.
    s.backup_name = TempName("bak");
    if (auto r = RenameEntry(dir, name, s.backup_name, RenameMode::kNoReplace, "moving aside " + c.path.abs); !r)
      return r.error().kind == ErrorKind::kNotFound ? Changed(c.path.abs) : r.error();
    if (auto r = RenameEntry(dir, s.tmp_name, name, RenameMode::kNoReplace, "replacing " + c.path.abs); !r) {
      (void)RenameEntry(dir, s.backup_name, name, RenameMode::kNoReplace, "restoring " + c.path.abs);
      return r.error();
    }
    s.done = Done::kBackedUpReplace;
    if (!SameInode(dir, s.backup_name, c)) return Changed(c.path.abs);
    return OkStatus();
  }
  if (c.write) {
    if (auto r = RenameEntry(dir, s.tmp_name, name, RenameMode::kNoReplace, "creating " + c.path.abs); !r) {
      if (r.error().kind == ErrorKind::kConflict)
        return MakeError(ErrorKind::kConflict, c.path.abs + " appeared while the patch was being applied; nothing was changed");
      return r.error();
    }
    s.done = Done::kAdded;
    return OkStatus();
  }
  s.backup_name = TempName("bak");
  if (auto r = RenameEntry(dir, name, s.backup_name, RenameMode::kNoReplace, "deleting " + c.path.abs); !r)
    return r.error().kind == ErrorKind::kNotFound ? Changed(c.path.abs) : r.error();
  s.done = Done::kDeleted;
  if (!SameInode(dir, s.backup_name, c)) return Changed(c.path.abs);
  return OkStatus();
}

// Reverses a committed step and removes its temp; best effort (each call is a single rename or
// removal of a name we created, in a directory we hold open).
void UndoStep(Step& s) {
  const OsHandle& dir = *s.parent.dir;
  const std::string& name = s.parent.name;
  switch (s.done) {
    case Done::kExchanged:
      (void)RenameEntry(dir, s.tmp_name, name, RenameMode::kExchange, "undo");
      break;
    case Done::kBackedUpReplace:
      (void)RenameEntry(dir, s.backup_name, name, RenameMode::kReplace, "undo");
      break;
    case Done::kAdded:
      (void)RenameEntry(dir, name, s.tmp_name, RenameMode::kReplace, "undo");
      break;
    case Done::kDeleted:
      (void)RenameEntry(dir, s.backup_name, name, RenameMode::kNoReplace, "undo");
      break;
    case Done::kNothing:
      break;
  }
  s.done = Done::kNothing;
  if (!s.tmp_name.empty()) RemoveEntry(dir, s.tmp_name);
}

}  // namespace

Status CommitChanges(const Policy& policy, DirCache& dirs, std::vector<FileChange>& changes,
                     const std::atomic<bool>* cancel, const ApplyPatchHooks* hooks) {
  std::vector<Step> steps(changes.size());
  std::vector<CreatedDir> created;
  auto abort_all = [&](Error e) -> Status {
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
      if (it->parent.dir) UndoStep(*it);
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
      auto tmp = CreateTempFile(*s.parent.dir, changes[i].content, changes[i].mode,
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
    if (s.done == Done::kExchanged) RemoveEntry(*s.parent.dir, s.tmp_name);
    if (!s.backup_name.empty()) RemoveEntry(*s.parent.dir, s.backup_name);
  }
  for (const FileChange& c : changes)
    if (!c.write) PruneEmptyParents(policy, c.path);
  return OkStatus();
}

}  // namespace cordon::ops
