#include <map>

#include "sandbox/ops/dir_cache.h"
#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/fs_primitives.h"
#include "sandbox/ops/patch_commit.h"
#include "sandbox/patch/matcher.h"
#include "sandbox/patch/patch_parser.h"

namespace cordon::ops {
namespace {

using patch::FileOp;
using patch::FilePatch;

// A mode requested by a diff ("new file mode 100755", "new mode 100644") means, as in git,
// only "executable or not"; the bits are then applied through the umask.
uint32_t GitMode(uint32_t requested) { return (requested & 0100) ? 0777 : 0666; }

// One path's state while the patch is computed: what is on disk, and what it will become.
struct PathState {
  ResolvedPath path;
  bool had_file = false;
  std::string original;
  uint32_t original_mode = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;

  bool exists = false;
  std::string content;
  uint32_t mode = 0666;
  bool exact_mode = false;
};

class Planner {
 public:
  Planner(const FsContext& ctx, DirCache& dirs, patch::PatchFormat format)
      : ctx_(ctx), dirs_(dirs), format_(format) {}

  // Computes the final state of every path the file patch touches.
  Status Plan(const FilePatch& fp, PatchFileReport* report) {
    report->path = fp.path;
    report->hunks = static_cast<uint32_t>(fp.hunks.size());
    switch (fp.op) {
      case FileOp::kAdd: {
        report->action = "add";
        report->hunks = 1;
        auto st = Load(fp.path);
        if (!st) return st.error();
        PathState& t = **st;
        if (t.exists && format_ == patch::PatchFormat::kUnified)
          return MakeError(ErrorKind::kConflict, fp.path + ": the patch creates it, but it already exists");
        if (fp.new_mode) SetFile(t, fp.add_content, GitMode(*fp.new_mode), false);
        else SetFile(t, fp.add_content, t.exists ? t.mode : 0666, t.exists && t.exact_mode);
        return OkStatus();
      }
      case FileOp::kDelete: {
        report->action = "delete";
        auto st = Load(fp.path);
        if (!st) return st.error();
        PathState& t = **st;
        if (!t.exists) return MakeError(ErrorKind::kNotFound, fp.path + ": the patch deletes it, but it does not exist");
        if (!fp.hunks.empty()) {
          auto rest = patch::ApplyHunks(fp, t.content, fp.path);
          if (!rest) return rest.error();
          if (!rest->empty())
            return MakeError(ErrorKind::kConflict, fp.path + ": the patch deletes it, but the file has lines the patch does not remove");
        }
        t.exists = false;
        return OkStatus();
      }
      case FileOp::kUpdate:
      case FileOp::kCopy: {
        const bool copy = fp.op == FileOp::kCopy;
        report->action = copy ? "add" : fp.move_to ? "move" : "update";
        if (copy) report->path = *fp.move_to;
        else if (fp.move_to) report->movedTo = *fp.move_to;
        auto src = Load(fp.path);
        if (!src) return src.error();
        PathState& s = **src;
        if (!s.exists) return MakeError(ErrorKind::kNotFound, fp.path + ": the patch changes it, but it does not exist");
        std::string updated = s.content;
        if (!fp.hunks.empty()) {
          auto r = patch::ApplyHunks(fp, s.content, fp.path);
          if (!r) return r.error();
          updated = std::move(r.value());
        }
        uint32_t mode = fp.new_mode ? GitMode(*fp.new_mode) : s.mode;
        bool exact = fp.new_mode ? false : s.exact_mode;
        if (!fp.move_to) {
          SetFile(s, std::move(updated), mode, exact);
          return OkStatus();
        }
        auto dst = Load(*fp.move_to);
        if (!dst) return dst.error();
        PathState& d = **dst;
        if (&d == &s) {
          SetFile(s, std::move(updated), mode, exact);
          return OkStatus();
        }
        if (d.exists && format_ != patch::PatchFormat::kCodex)
          return MakeError(ErrorKind::kConflict, *fp.move_to + ": the patch " + (copy ? "copies" : "moves") +
                                                     " a file there, but it already exists");
        if (!copy) s.exists = false;
        SetFile(d, std::move(updated), mode, exact);
        return OkStatus();
      }
    }
    return OkStatus();
  }

  std::vector<FileChange> Changes() {
    std::vector<FileChange> out;
    for (auto& [abs, s] : states_) {
      const bool mode_changed = s.exact_mode ? (s.mode & 07777) != (s.original_mode & 07777)
                                             : ((s.mode & 0100) != 0) != ((s.original_mode & 0100) != 0);
      bool changed = s.exists != s.had_file || (s.exists && (s.content != s.original || mode_changed));
      if (!changed) continue;
      FileChange c;
      c.path = s.path;
      c.had_file = s.had_file;
      c.dev = s.dev;
      c.ino = s.ino;
      c.write = s.exists;
      c.content = std::move(s.content);
      c.mode = s.mode;
      c.exact_mode = s.exact_mode;
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  static void SetFile(PathState& t, std::string content, uint32_t mode, bool exact) {
    t.exists = true;
    t.content = std::move(content);
    t.mode = mode;
    t.exact_mode = exact;
  }

  // The planned state of a path, loading it from disk on first use.
  Result<PathState*> Load(const std::string& request) {
    auto path = ResolvePath(*ctx_.policy, request, Access::kWrite);
    if (!path) return path.error();
    auto it = states_.find(path->abs);
    if (it != states_.end()) return &it->second;
    PathState s;
    s.path = *path;
    auto parent = dirs_.Get(*path, false, nullptr);
    if (!parent && parent.error().kind != ErrorKind::kNotFound) return parent.error();
    if (parent) {
      auto st = StatEntry(*parent->dir, parent->name, request);
      if (!st) return st.error();
      if (st->has_value()) {
        const EntryInfo& info = **st;
        if (info.type == EntryType::kDir) return MakeError(ErrorKind::kInvalidArgument, request + " is a directory");
        if (info.type == EntryType::kSymlink)
          return MakeError(ErrorKind::kInvalidArgument, request + " is a symlink; patch the file it points to instead");
        if (info.type != EntryType::kFile) return MakeError(ErrorKind::kInvalidArgument, request + " is not a regular file");
        auto content = ReadEntry(*parent->dir, parent->name, ctx_.limits.max_patch_file_bytes, request);
        if (!content) return content.error();
        s.had_file = s.exists = true;
        s.original = s.content = std::move(content.value());
        s.original_mode = s.mode = info.mode;
        s.exact_mode = true;
        s.dev = info.dev;
        s.ino = info.ino;
      }
    }
    return &states_.emplace(path->abs, std::move(s)).first->second;
  }

  const FsContext& ctx_;
  DirCache& dirs_;
  patch::PatchFormat format_;
  std::map<std::string, PathState> states_;
};

}  // namespace

Result<ApplyPatchResult> ApplyPatch(const FsContext& ctx, const ApplyPatchParams& params,
                                    const ApplyPatchHooks* hooks) {
  auto format = patch::ParsePatchFormat(params.format);
  if (!format) return format.error();
  auto set = patch::ParsePatch(params.patch, *format);
  if (!set) return set.error();

  DirCache dirs(*ctx.policy);
  Planner planner(ctx, dirs, set->format);
  ApplyPatchResult result;
  for (const FilePatch& fp : set->files) {
    if (ctx.Cancelled()) return MakeError(ErrorKind::kCancelled, "patch/apply cancelled; nothing was changed");
    PatchFileReport report;
    if (auto st = planner.Plan(fp, &report); !st) return st.error();
    result.files.push_back(std::move(report));
  }
  if (params.dryRun) return result;
  std::vector<FileChange> changes = planner.Changes();
  if (auto st = CommitChanges(*ctx.policy, dirs, changes, ctx.cancel, hooks); !st) return st.error();
  result.applied = true;
  return result;
}

}  // namespace cordon::ops
