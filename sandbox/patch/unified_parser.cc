#include "sandbox/patch/unified_parser.h"

#include <charconv>

#include "sandbox/patch/text_lines.h"

namespace cordon::patch {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view TrimEnd(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

Error At(size_t index, const std::string& what, ErrorKind kind = ErrorKind::kInvalidArgument) {
  return MakeError(kind, "unified diff, line " + std::to_string(index + 1) + ": " + what);
}

// git's C-style quoting of unusual names: "a/caf\303\251 \"x\"".
std::optional<std::string> Unquote(std::string_view s, size_t* consumed) {
  if (s.empty() || s[0] != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      if (consumed) *consumed = i + 1;
      return out;
    }
    if (c != '\\') { out += c; continue; }
    if (++i >= s.size()) return std::nullopt;
    c = s[i];
    switch (c) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '0': case '1': case '2': case '3': {
        if (i + 2 >= s.size()) return std::nullopt;
        int v = 0;
        for (int k = 0; k < 3; ++k) {
          char d = s[i + k];
          if (d < '0' || d > '7') return std::nullopt;
          v = v * 8 + (d - '0');
        }
        out += static_cast<char>(v);
        i += 2;
        break;
      }
      default: out += c;
    }
  }
  return std::nullopt;
}

// Drops the first path component ("a/src/x.c" -> "src/x.c"), as git apply's default -p1 does.
std::string StripOne(const std::string& name) {
  size_t slash = name.find('/');
  if (slash == std::string::npos) return name;
  size_t rest = slash;
  while (rest < name.size() && name[rest] == '/') ++rest;
  return name.substr(rest);
}

// A name from a "---"/"+++" line: quoted or up to a tab (diff's timestamp follows the tab).
struct NameLine {
  std::string name;
  bool dev_null = false;
  bool epoch = false;  // diff -N marks a missing side with a 1970 timestamp
};

std::optional<NameLine> ParseNameLine(std::string_view rest) {
  NameLine out;
  std::string_view stamp;
  rest = TrimEnd(rest);
  if (!rest.empty() && rest[0] == '"') {
    size_t used = 0;
    auto name = Unquote(rest, &used);
    if (!name) return std::nullopt;
    out.name = *name;
    stamp = rest.substr(used);
  } else {
    size_t tab = rest.find('\t');
    out.name = std::string(TrimEnd(rest.substr(0, tab)));
    if (tab != std::string_view::npos) stamp = rest.substr(tab + 1);
  }
  while (!stamp.empty() && (stamp[0] == '\t' || stamp[0] == ' ')) stamp.remove_prefix(1);
  out.dev_null = out.name == "/dev/null";
  out.epoch = StartsWith(stamp, "1970-01-01 ") || StartsWith(stamp, "1969-12-31 ");
  if (out.name.empty()) return std::nullopt;
  return out;
}

// The name on a "diff --git a/x b/x" line when no other header names the file (mode-only
// changes, empty new files): the split where both halves name the same path after -p1.
std::optional<std::string> GitHeaderName(std::string_view rest) {
  rest = TrimEnd(rest);
  if (!rest.empty() && rest[0] == '"') {
    size_t used = 0;
    auto first = Unquote(rest, &used);
    if (!first) return std::nullopt;
    return StripOne(*first);
  }
  for (size_t sp = rest.find(' '); sp != std::string_view::npos; sp = rest.find(' ', sp + 1)) {
    std::string left = StripOne(std::string(rest.substr(0, sp)));
    std::string_view right_raw = rest.substr(sp + 1);
    std::string right = right_raw.size() && right_raw[0] == '"'
                            ? StripOne(Unquote(right_raw, nullptr).value_or(""))
                            : StripOne(std::string(right_raw));
    if (left == right && !left.empty()) return left;
  }
  return std::nullopt;
}

std::optional<uint32_t> ParseMode(std::string_view s) {
  s = TrimEnd(s);
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 8);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool ParseRange(std::string_view s, int64_t* start, int64_t* count) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *start);
  if (ec != std::errc() || *start < 0) return false;
  *count = 1;
  if (p != s.data() + s.size()) {
    if (*p != ',') return false;
    auto [q, ec2] = std::from_chars(p + 1, s.data() + s.size(), *count);
    if (ec2 != std::errc() || q != s.data() + s.size() || *count < 0) return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view text) {
    lines_ = SplitLines(text);
    if (!lines_.empty() && !HasTerminator(lines_.back())) lines_.back() += '\n';
  }

  Result<PatchSet> Run() {
    PatchSet set;
    set.format = PatchFormat::kUnified;
    while (i_ < lines_.size()) {
      std::string_view l = lines_[i_];
      Result<FilePatch> fp = Error{};
      if (StartsWith(l, "diff --git ")) {
        fp = ParseGit();
      } else if (StartsWith(l, "--- ") && i_ + 1 < lines_.size() && StartsWith(lines_[i_ + 1], "+++ ")) {
        fp = ParseTraditional();
      } else if (StartsWith(l, "Binary files ") || StartsWith(l, "GIT binary patch")) {
        return At(i_, "binary patches are not supported: " + Excerpt(l), ErrorKind::kUnsupported);
      } else {
        ++i_;  // text between file sections (commit message, "diff -ruN" lines, "Only in")
        continue;
      }
      if (!fp) return fp.error();
      set.files.push_back(std::move(fp.value()));
    }
    if (set.files.empty()) return At(0, "no file changes found in the diff");
    return set;
  }

 private:
  Result<FilePatch> ParseGit() {
    FilePatch fp;
    fp.patch_line = static_cast<int64_t>(i_ + 1);
    const size_t header = i_;
    std::string_view rest = std::string_view(lines_[i_]).substr(11);
    ++i_;
    bool is_new = false, is_delete = false;
    std::optional<std::string> rename_from, rename_to, copy_from, copy_to;
    std::optional<uint32_t> old_mode, new_mode;
    for (; i_ < lines_.size(); ++i_) {
      std::string_view l = TrimEnd(lines_[i_]);
      auto value = [&](std::string_view key) { return l.substr(key.size()); };
      auto name = [&](std::string_view key) -> std::string {
        std::string_view v = value(key);
        if (!v.empty() && v[0] == '"') return Unquote(v, nullptr).value_or(std::string(v));
        return std::string(v);
      };
      if (StartsWith(l, "old mode ")) old_mode = ParseMode(value("old mode "));
      else if (StartsWith(l, "new mode ")) new_mode = ParseMode(value("new mode "));
      else if (StartsWith(l, "deleted file mode ")) { is_delete = true; old_mode = ParseMode(value("deleted file mode ")); }
      else if (StartsWith(l, "new file mode ")) { is_new = true; new_mode = ParseMode(value("new file mode ")); }
      else if (StartsWith(l, "rename from ")) rename_from = name("rename from ");
      else if (StartsWith(l, "rename to ")) rename_to = name("rename to ");
      else if (StartsWith(l, "rename old ")) rename_from = name("rename old ");
      else if (StartsWith(l, "rename new ")) rename_to = name("rename new ");
      else if (StartsWith(l, "copy from ")) copy_from = name("copy from ");
      else if (StartsWith(l, "copy to ")) copy_to = name("copy to ");
      else if (StartsWith(l, "similarity index ") || StartsWith(l, "dissimilarity index ") ||
               StartsWith(l, "index ")) continue;
      else if (StartsWith(l, "GIT binary patch") || StartsWith(l, "Binary files "))
        return At(i_, "binary patches are not supported (" + Excerpt(rest) + ")", ErrorKind::kUnsupported);
      else break;
    }
    for (auto mode : {old_mode, new_mode}) {
      if (!mode) continue;
      uint32_t type = *mode & 0170000;
      if (type != 0100000 && type != 0)
        return At(header, "only regular files can be patched; symlink and submodule entries are "
                          "not supported (" + Excerpt(rest) + ")", ErrorKind::kUnsupported);
    }
    std::optional<NameLine> old_name, new_name;
    if (i_ + 1 < lines_.size() && StartsWith(lines_[i_], "--- ") && StartsWith(lines_[i_ + 1], "+++ ")) {
      old_name = ParseNameLine(std::string_view(lines_[i_]).substr(4));
      new_name = ParseNameLine(std::string_view(lines_[i_ + 1]).substr(4));
      if (!old_name || !new_name) return At(i_, "malformed ---/+++ file names");
      i_ += 2;
    }
    std::string name;
    if (new_name && !new_name->dev_null) name = StripOne(new_name->name);
    else if (old_name && !old_name->dev_null) name = StripOne(old_name->name);
    else if (auto n = GitHeaderName(rest)) name = *n;
    if (is_new) fp.op = FileOp::kAdd;
    else if (is_delete) fp.op = FileOp::kDelete;
    if (copy_from && copy_to) {
      fp.op = FileOp::kCopy;
      fp.path = *copy_from;
      fp.move_to = *copy_to;
    } else if (rename_from && rename_to) {
      fp.path = *rename_from;
      fp.move_to = *rename_to;
    } else {
      if (name.empty()) return At(header, "cannot tell which file this section changes");
      fp.path = name;
    }
    if (new_mode) fp.new_mode = *new_mode & 07777;
    if (auto st = ParseHunks(&fp); !st) return st.error();
    if (fp.hunks.empty() && !is_new && !is_delete && !fp.move_to && !new_mode)
      return At(header, "a file section with no change");
    return Finish(std::move(fp), header);
  }

  Result<FilePatch> ParseTraditional() {
    FilePatch fp;
    const size_t header = i_;
    fp.patch_line = static_cast<int64_t>(i_ + 1);
    auto old_name = ParseNameLine(std::string_view(lines_[i_]).substr(4));
    auto new_name = ParseNameLine(std::string_view(lines_[i_ + 1]).substr(4));
    if (!old_name || !new_name) return At(i_, "malformed ---/+++ file names");
    i_ += 2;
    if (old_name->dev_null || (!new_name->dev_null && old_name->epoch && !new_name->epoch)) {
      fp.op = FileOp::kAdd;
      fp.path = StripOne(new_name->name);
    } else if (new_name->dev_null || new_name->epoch) {
      fp.op = FileOp::kDelete;
      fp.path = StripOne(old_name->name);
    } else {
      fp.path = StripOne(new_name->name);
    }
    if (auto st = ParseHunks(&fp); !st) return st.error();
    if (fp.hunks.empty()) return At(header, "a file section without hunks");
    return Finish(std::move(fp), header);
  }

  // A created file's content is its single hunk's postimage.
  Result<FilePatch> Finish(FilePatch fp, size_t header) {
    if (fp.op != FileOp::kAdd) return fp;
    for (const auto& h : fp.hunks) {
      if (!h.old_lines.empty()) return At(header, "a new file's hunk removes lines from " + fp.path);
      fp.add_content += JoinLines(h.new_lines);
    }
    fp.hunks.clear();
    return fp;
  }

  Status ParseHunks(FilePatch* fp) {
    while (i_ < lines_.size() && StartsWith(lines_[i_], "@@ ")) {
      auto st = ParseHunk(fp);
      if (!st) return st;
    }
    return OkStatus();
  }

  Status ParseHunk(FilePatch* fp) {
    const size_t header = i_;
    std::string_view l = lines_[i_];
    size_t end = l.find(" @@", 3);
    if (!StartsWith(l, "@@ -") || end == std::string_view::npos)
      return At(i_, "malformed hunk header \"" + Excerpt(l) + "\"");
    std::string_view ranges = l.substr(4, end - 4);
    size_t plus = ranges.find(" +");
    Hunk h;
    int64_t old_count = 0, new_count = 0;
    if (plus == std::string_view::npos || !ParseRange(ranges.substr(0, plus), &h.old_start, &old_count) ||
        !ParseRange(ranges.substr(plus + 2), &h.new_start, &new_count))
      return At(i_, "malformed hunk header \"" + Excerpt(l) + "\"");
    h.patch_line = static_cast<int64_t>(i_ + 1);
    ++i_;
    int64_t old_left = old_count, new_left = new_count;
    char last_kind = 0;
    bool seen_change = false;
    int trailing = 0;
    while (old_left > 0 || new_left > 0 || (i_ < lines_.size() && lines_[i_][0] == '\\')) {
      if (i_ >= lines_.size())
        return At(header, "hunk is truncated: the diff ends " + std::to_string(old_left) +
                              " old and " + std::to_string(new_left) + " new lines early (" + fp->path + ")");
      const std::string& line = lines_[i_];
      char kind = line[0];
      if (line == "\n" || line == "\r\n") kind = 'E';  // an empty context line with its space lost
      if (kind == '\\') {
        // "\ No newline at end of file" applies to the line before it.
        if (last_kind == 0) return At(i_, "\"\\\" marker before any hunk line");
        auto strip = [](std::string& s) { if (HasTerminator(s)) s.pop_back(); };
        if (last_kind != '+') strip(h.old_lines.back());
        if (last_kind != '-') strip(h.new_lines.back());
        ++i_;
        last_kind = 0;
        continue;
      }
      std::string text = kind == 'E' ? line : line.substr(1);
      if (kind == ' ' || kind == 'E') {
        if (old_left <= 0 || new_left <= 0) return CorruptHunk(header, fp->path);
        --old_left, --new_left;
        if (!seen_change) ++h.leading_context;
        ++trailing;
        h.old_lines.push_back(text);
        h.new_from_old.push_back(static_cast<int>(h.old_lines.size()) - 1);
        h.new_lines.push_back(std::move(text));
        kind = ' ';
      } else if (kind == '-') {
        if (old_left-- <= 0) return CorruptHunk(header, fp->path);
        h.old_lines.push_back(std::move(text));
        seen_change = true, trailing = 0;
      } else if (kind == '+') {
        if (new_left-- <= 0) return CorruptHunk(header, fp->path);
        h.new_from_old.push_back(-1);
        h.new_lines.push_back(std::move(text));
        seen_change = true, trailing = 0;
      } else {
        return At(i_, "hunk is truncated or corrupt: expected " + std::to_string(old_left) +
                          " more old and " + std::to_string(new_left) + " more new lines (" + fp->path + ")");
      }
      last_kind = kind;
      ++i_;
    }
    h.trailing_context = seen_change ? trailing : 0;
    fp->hunks.push_back(std::move(h));
    return OkStatus();
  }

  Status CorruptHunk(size_t header, const std::string& path) {
    return At(header, "hunk has more lines than its header counts (" + path + ")");
  }

  std::vector<std::string> lines_;
  size_t i_ = 0;
};

}  // namespace

bool LooksLikeUnifiedDiff(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (StartsWith(line, "diff --git ")) return true;
    if (StartsWith(line, "--- ") && nl != std::string_view::npos && StartsWith(text.substr(nl + 1), "+++ "))
      return true;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return false;
}

Result<PatchSet> ParseUnifiedDiff(std::string_view text) { return Parser(text).Run(); }

}  // namespace cordon::patch
