#include "sandbox/patch/codex_parser.h"

#include "sandbox/patch/text_lines.h"

namespace cordon::patch {
namespace {

constexpr std::string_view kBegin = "*** Begin Patch";
constexpr std::string_view kEnd = "*** End Patch";
constexpr std::string_view kAdd = "*** Add File: ";
constexpr std::string_view kDelete = "*** Delete File: ";
constexpr std::string_view kUpdate = "*** Update File: ";
constexpr std::string_view kMove = "*** Move to: ";
constexpr std::string_view kEndOfFile = "*** End of File";

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "<<'EOF'", "<<\"EOF\"" or "<<EOF" opens a shell heredoc; returns its terminator word.
std::string_view HeredocWord(std::string_view line) {
  line = TrimWs(line);
  if (!StartsWith(line, "<<") || line.find(' ') != std::string_view::npos) return {};
  line.remove_prefix(2);
  if (line.size() >= 2 && (line.front() == '\'' || line.front() == '"') && line.back() == line.front())
    line = line.substr(1, line.size() - 2);
  return line;
}

// The patch as lines without terminators or CR, heredoc wrapper and surrounding blank lines
// removed; `first_line` is the 1-based number of lines[0] in the original text.
struct Body {
  std::vector<std::string_view> lines;
  int64_t first_line = 1;
};

Body Prepare(std::string_view text) {
  Body b;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    b.lines.push_back(line);
    start = end + 1;
  }
  while (!b.lines.empty() && TrimWs(b.lines.back()).empty()) b.lines.pop_back();
  size_t skip = 0;
  while (skip < b.lines.size() && TrimWs(b.lines[skip]).empty()) ++skip;
  if (skip < b.lines.size()) {
    std::string_view word = HeredocWord(b.lines[skip]);
    if (!word.empty()) {
      ++skip;
      if (b.lines.size() > skip && TrimWs(b.lines.back()) == word) b.lines.pop_back();
    }
  }
  b.lines.erase(b.lines.begin(), b.lines.begin() + skip);
  b.first_line += static_cast<int64_t>(skip);
  return b;
}

Error At(int64_t line, const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "codex patch, line " + std::to_string(line) + ": " + what);
}

class Parser {
 public:
  explicit Parser(Body body) : b_(std::move(body)) {}

  Result<PatchSet> Run() {
    PatchSet set;
    set.format = PatchFormat::kCodex;
    if (b_.lines.empty() || TrimWs(b_.lines[0]) != kBegin)
      return At(b_.first_line, "the first line must be \"*** Begin Patch\"");
    i_ = 1;
    for (;;) {
      while (i_ < b_.lines.size() && TrimWs(b_.lines[i_]).empty()) ++i_;
      if (i_ >= b_.lines.size())
        return At(LineNo(), "the patch ends without \"*** End Patch\" (truncated?)");
      std::string_view line = TrimWs(b_.lines[i_]);
      if (line == kEnd) {
        if (i_ + 1 != b_.lines.size()) return At(LineNo() + 1, "text after \"*** End Patch\"");
        break;
      }
      FilePatch fp;
      fp.mode = MatchMode::kCodex;
      fp.patch_line = LineNo();
      Status st = OkStatus();
      if (StartsWith(line, kAdd)) {
        st = ParseAdd(std::string(line.substr(kAdd.size())), &fp);
      } else if (StartsWith(line, kDelete)) {
        fp.op = FileOp::kDelete;
        fp.path = std::string(TrimWs(line.substr(kDelete.size())));
        ++i_;
      } else if (StartsWith(line, kUpdate)) {
        st = ParseUpdate(std::string(line.substr(kUpdate.size())), &fp);
      } else {
        std::string what = "\"";
        what += Excerpt(line);
        what += "\" is not a file header; expected \"*** Add File: \", \"*** Delete File: \", "
                "\"*** Update File: \" or \"*** End Patch\"";
        return At(LineNo(), what);
      }
      if (!st) return st.error();
      if (fp.path.empty()) return At(fp.patch_line, "the file path is empty");
      set.files.push_back(std::move(fp));
    }
    if (set.files.empty()) return At(b_.first_line, "the patch changes no file");
    return set;
  }

 private:
  int64_t LineNo() const { return b_.first_line + static_cast<int64_t>(i_); }
  bool AtMarker() const {
    std::string_view t = TrimWs(b_.lines[i_]);
    return StartsWith(t, "*** ") && t != kEndOfFile;
  }

  Status ParseAdd(std::string path, FilePatch* fp) {
    fp->op = FileOp::kAdd;
    fp->path = std::string(TrimWs(path));
    ++i_;
    while (i_ < b_.lines.size() && !b_.lines[i_].empty() && b_.lines[i_][0] == '+') {
      fp->add_content.append(b_.lines[i_].substr(1));
      fp->add_content += '\n';
      ++i_;
    }
    if (i_ < b_.lines.size() && !TrimWs(b_.lines[i_]).empty() && !AtMarker())
      return At(LineNo(), "every line of an added file must start with '+'");
    return OkStatus();
  }

  Status ParseUpdate(std::string path, FilePatch* fp) {
    fp->op = FileOp::kUpdate;
    fp->path = std::string(TrimWs(path));
    ++i_;
    if (i_ < b_.lines.size() && StartsWith(TrimWs(b_.lines[i_]), kMove)) {
      fp->move_to = std::string(TrimWs(TrimWs(b_.lines[i_]).substr(kMove.size())));
      if (fp->move_to->empty()) return At(LineNo(), "the \"*** Move to:\" path is empty");
      ++i_;
    }
    Hunk h;
    bool open = false;  // a hunk has been started (by "@@" or by a first change line)
    auto close = [&]() {
      if (open) fp->hunks.push_back(std::move(h));
      h = Hunk{};
      open = false;
    };
    while (i_ < b_.lines.size()) {
      std::string_view raw = b_.lines[i_];
      std::string_view t = TrimWs(raw);
      if (AtMarker()) break;
      if (t == kEndOfFile) {
        if (!open) return At(LineNo(), "\"*** End of File\" outside a hunk");
        h.at_end_of_file = true;
        close();
        ++i_;
        continue;
      }
      if (StartsWith(t, "@@") && (raw.empty() || raw[0] == '@')) {
        bool has_changes = !h.old_lines.empty() || !h.new_lines.empty();
        if (has_changes) close();
        if (!open) { h.patch_line = LineNo(); open = true; }
        std::string_view anchor = TrimWs(t.substr(2));
        if (!anchor.empty()) h.anchors.emplace_back(anchor);
        ++i_;
        continue;
      }
      char kind = raw.empty() ? ' ' : raw[0];
      if (kind != ' ' && kind != '-' && kind != '+') {
        return At(LineNo(), "unexpected line \"" + Excerpt(raw) +
                                "\" in an update hunk; every line must start with ' ' (context), "
                                "'-' (removed) or '+' (added)");
      }
      if (!open) {
        if (!fp->hunks.empty()) return At(LineNo(), "a hunk after \"*** End of File\" needs \"@@\"");
        h.patch_line = LineNo();
        open = true;
      }
      std::string text = std::string(raw.empty() ? raw : raw.substr(1)) + "\n";
      if (kind != '+') h.old_lines.push_back(text);
      if (kind != '-') {
        h.new_from_old.push_back(kind == ' ' ? static_cast<int>(h.old_lines.size()) - 1 : -1);
        h.new_lines.push_back(std::move(text));
      }
      ++i_;
    }
    close();
    for (const auto& hunk : fp->hunks) {
      if (hunk.old_lines.empty() && hunk.new_lines.empty())
        return At(hunk.patch_line, "a hunk with no lines");
    }
    if (fp->hunks.empty() && !fp->move_to)
      return At(fp->patch_line, "the update of \"" + fp->path + "\" has no hunks");
    return OkStatus();
  }

  Body b_;
  size_t i_ = 0;
};

}  // namespace

bool LooksLikeCodexPatch(std::string_view text) {
  Body b = Prepare(text);
  return !b.lines.empty() && TrimWs(b.lines[0]) == kBegin;
}

Result<PatchSet> ParseCodexPatch(std::string_view text) { return Parser(Prepare(text)).Run(); }

}  // namespace cordon::patch
