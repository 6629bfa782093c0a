#include "sandbox/patch/matcher.h"

#include <algorithm>
#include <array>
#include <optional>

#include "sandbox/patch/text_lines.h"

namespace cordon::patch {
namespace {

// The best partial match of a hunk's preimage, for the error message.
struct Closest {
  bool found = false;
  size_t pos = 0;         // 0-based line in the file
  size_t agree = 0;       // how many preimage lines match there (fuzzy)
  size_t first_diff = 0;  // index in the preimage of the first line that does not
};

Closest FindClosest(const std::vector<std::string>& lines, const std::vector<std::string>& pattern,
                    size_t expected) {
  Closest best;
  if (pattern.empty() || lines.empty()) return best;
  std::vector<std::string> norm_lines, norm_pat;
  norm_lines.reserve(lines.size());
  for (const auto& l : lines) norm_lines.push_back(NormalizeForFuzz(LineBody(l), Fuzz::kUnicode));
  for (const auto& l : pattern) norm_pat.push_back(NormalizeForFuzz(LineBody(l), Fuzz::kUnicode));
  // Bound the work on huge files: an error message does not justify quadratic time.
  const size_t budget = 50'000'000;
  size_t last = lines.size() > pattern.size() ? lines.size() - pattern.size() : 0;
  size_t lo = 0, hi = last;
  if ((last + 1) * pattern.size() > budget) {
    size_t half = budget / pattern.size() / 2;
    lo = expected > half ? expected - half : 0;
    hi = std::min(last, expected + half);
  }
  auto distance = [&](size_t p) { return p > expected ? p - expected : expected - p; };
  for (size_t p = lo; p <= hi; ++p) {
    size_t agree = 0, first_diff = pattern.size();
    for (size_t j = 0; j < pattern.size() && p + j < lines.size(); ++j) {
      if (norm_lines[p + j] == norm_pat[j]) {
        ++agree;
      } else if (first_diff == pattern.size()) {
        first_diff = j;
      }
    }
    if (p + pattern.size() > lines.size() && first_diff == pattern.size())
      first_diff = lines.size() - p;
    if (!best.found || agree > best.agree || (agree == best.agree && distance(p) < distance(best.pos))) {
      best = Closest{true, p, agree, first_diff};
    }
  }
  return best;
}

Error HunkError(const std::string& path, size_t index, size_t count, const Hunk& h,
                const std::string& what, const std::vector<std::string>& lines,
                const std::vector<std::string>& pattern, size_t expected) {
  std::string msg = path + ": hunk " + std::to_string(index + 1) + " of " + std::to_string(count);
  if (h.old_start > 0 || h.new_start > 0) {
    msg += " (@@ -" + std::to_string(h.old_start) + "," + std::to_string(h.old_lines.size()) +
           " +" + std::to_string(h.new_start) + "," + std::to_string(h.new_lines.size()) + " @@)";
  }
  msg += " does not apply: " + what;
  Closest c = FindClosest(lines, pattern, expected);
  if (!c.found || c.agree == 0) {
    msg += "; no similar lines found in the file";
    if (!pattern.empty()) msg += " (the patch expects \"" + Excerpt(pattern[0]) + "\")";
    return MakeError(ErrorKind::kConflict, msg);
  }
  msg += "; closest match at line " + std::to_string(c.pos + 1) + " (" + std::to_string(c.agree) +
         " of " + std::to_string(pattern.size()) + " lines agree)";
  if (c.first_diff < pattern.size()) {
    size_t at = c.pos + c.first_diff;
    msg += ": line " + std::to_string(at + 1) + " is ";
    msg += at < lines.size() ? "\"" + Excerpt(lines[at]) + "\"" : "past the end of the file";
    msg += ", the patch expects \"" + Excerpt(pattern[c.first_diff]) + "\"";
  }
  return MakeError(ErrorKind::kConflict, msg);
}

// Lines of the new region: context lines copied from the file at `pos`, added lines from the
// patch (re-terminated with `eol` unless `eol` is empty).
std::vector<std::string> Postimage(const std::vector<std::string>& lines, size_t pos,
                                   const Hunk& h, const std::string& eol) {
  std::vector<std::string> out;
  out.reserve(h.new_lines.size());
  for (size_t j = 0; j < h.new_lines.size(); ++j) {
    int from = j < h.new_from_old.size() ? h.new_from_old[j] : -1;
    if (from >= 0 && pos + from < lines.size()) {
      out.push_back(lines[pos + from]);
    } else if (eol.empty() || !HasTerminator(h.new_lines[j])) {
      out.push_back(eol.empty() ? h.new_lines[j] : std::string(LineBody(h.new_lines[j])));
    } else {
      out.push_back(std::string(LineBody(h.new_lines[j])) + eol);
    }
  }
  return out;
}

// A line without a terminator can only be the last one; if an edit put lines after it, it
// gets the file's line ending.
std::string JoinTerminated(std::vector<std::string>& lines, const std::string& eol) {
  for (size_t i = 0; i + 1 < lines.size(); ++i)
    if (!HasTerminator(lines[i])) lines[i] += eol;
  return JoinLines(lines);
}

// ---- unified (git apply) ----

bool SameLine(const std::string& a, const std::string& b, bool ignore_cr) {
  if (!ignore_cr) return a == b;
  return HasTerminator(a) == HasTerminator(b) && LineBody(a) == LineBody(b);
}

bool MatchUnifiedAt(const std::vector<std::string>& lines, const std::vector<char>& patched,
                    const Hunk& h, size_t pos, bool match_beginning, bool match_end, bool ignore_cr) {
  const auto& pre = h.old_lines;
  if (pos + pre.size() > lines.size()) return false;
  if (match_end && pos + pre.size() != lines.size()) return false;
  if (match_beginning && pos != 0) return false;
  for (size_t j = 0; j < pre.size(); ++j) {
    if (patched[pos + j] || !SameLine(lines[pos + j], pre[j], ignore_cr)) return false;
  }
  return true;
}

// git apply's find_pos: try `line`, then line+1, line-1, line+2, ... within the file.
std::optional<size_t> FindUnified(const std::vector<std::string>& lines,
                                  const std::vector<char>& patched, const Hunk& h, int64_t line,
                                  bool match_beginning, bool match_end, bool ignore_cr) {
  const int64_t n = static_cast<int64_t>(lines.size());
  const int64_t m = static_cast<int64_t>(h.old_lines.size());
  if (m > n) return std::nullopt;
  if (match_beginning) line = 0;
  else if (match_end) line = n - m;
  line = std::clamp<int64_t>(line, 0, n);
  int64_t back = line, fwd = line, cur = line;
  for (int64_t i = 0;; ++i) {
    if (MatchUnifiedAt(lines, patched, h, static_cast<size_t>(cur), match_beginning, match_end, ignore_cr))
      return static_cast<size_t>(cur);
    for (;;) {
      if (back == 0 && fwd == n) return std::nullopt;
      if (i & 1) {
        if (back == 0) { ++i; continue; }
        cur = --back;
      } else {
        if (fwd == n) { ++i; continue; }
        cur = ++fwd;
      }
      break;
    }
  }
}

Result<std::string> ApplyUnified(const FilePatch& file, std::string_view content,
                                 const std::string& path) {
  std::vector<std::string> lines = SplitLines(content);
  std::vector<char> patched(lines.size(), 0);
  const std::string crlf_eol = UsesCrlf(lines) ? "\r\n" : "\n";
  for (size_t k = 0; k < file.hunks.size(); ++k) {
    const Hunk& h = file.hunks[k];
    bool match_beginning = h.old_start <= 1;
    bool match_end = h.trailing_context == 0;
    int64_t line = h.new_start > 0 ? h.new_start - 1 : 0;
    bool ignore_cr = false;
    auto pos = FindUnified(lines, patched, h, line, match_beginning, match_end, false);
    if (!pos) {
      ignore_cr = true;
      pos = FindUnified(lines, patched, h, line, match_beginning, match_end, true);
    }
    if (!pos) {
      std::string what = "its context was not found at line " + std::to_string(line + 1) +
                         " or at any offset";
      if (match_beginning) what = "it must apply at the start of the file and does not";
      else if (match_end) what = "it must apply at the end of the file and does not";
      return HunkError(path, k, file.hunks.size(), h, what, lines, h.old_lines,
                       static_cast<size_t>(std::max<int64_t>(line, 0)));
    }
    std::vector<std::string> post = Postimage(lines, *pos, h, ignore_cr ? crlf_eol : "");
    const size_t post_size = post.size();
    lines.erase(lines.begin() + *pos, lines.begin() + *pos + h.old_lines.size());
    lines.insert(lines.begin() + *pos, std::make_move_iterator(post.begin()),
                 std::make_move_iterator(post.end()));
    patched.erase(patched.begin() + *pos, patched.begin() + *pos + h.old_lines.size());
    patched.insert(patched.begin() + *pos, post_size, 1);
  }
  return JoinTerminated(lines, crlf_eol);
}

// ---- codex ----

class CodexSeeker {
 public:
  explicit CodexSeeker(const std::vector<std::string>& lines) : lines_(lines) {}

  // Codex's seek_sequence: the first position >= start where `pattern` matches at the lowest
  // fuzz level that matches anywhere; with `eof`, the end of the file is tried first.
  std::optional<size_t> Seek(const std::vector<std::string>& pattern, size_t start, bool eof) {
    if (pattern.empty()) return start;
    if (pattern.size() > lines_.size()) return std::nullopt;
    const size_t last = lines_.size() - pattern.size();
    for (int level = 0; level < kFuzzLevels; ++level) {
      const auto& norm = Normalized(level);
      std::vector<std::string> pat;
      for (const auto& p : pattern) pat.push_back(NormalizeForFuzz(LineBody(p), Fuzz(level)));
      auto matches = [&](size_t pos) {
        for (size_t j = 0; j < pat.size(); ++j)
          if (norm[pos + j] != pat[j]) return false;
        return true;
      };
      if (eof && last >= start && matches(last)) return last;
      for (size_t pos = start; pos <= last; ++pos)
        if (matches(pos)) return pos;
    }
    return std::nullopt;
  }

 private:
  const std::vector<std::string>& Normalized(int level) {
    auto& cache = cache_[level];
    if (cache.size() != lines_.size()) {
      cache.clear();
      cache.reserve(lines_.size());
      for (const auto& l : lines_) cache.push_back(NormalizeForFuzz(LineBody(l), Fuzz(level)));
    }
    return cache;
  }

  const std::vector<std::string>& lines_;
  std::array<std::vector<std::string>, kFuzzLevels> cache_;
};

// A copy of `h` without its last preimage line (and the last postimage line if it is empty):
// models often end a hunk with a blank context line the file does not have.
Hunk WithoutTrailingBlank(const Hunk& h) {
  Hunk out = h;
  const int removed = static_cast<int>(out.old_lines.size()) - 1;
  out.old_lines.pop_back();
  if (!out.new_lines.empty() && LineBody(out.new_lines.back()).empty()) {
    out.new_lines.pop_back();
    out.new_from_old.pop_back();
  }
  for (int& from : out.new_from_old)
    if (from == removed) from = -1;
  return out;
}

struct Replacement {
  size_t pos;
  size_t old_count;
  std::vector<std::string> lines;
};

Result<std::string> ApplyCodex(const FilePatch& file, std::string_view content,
                               const std::string& path) {
  std::vector<std::string> lines = SplitLines(content);
  const std::string eol = UsesCrlf(lines) ? "\r\n" : "\n";
  CodexSeeker seeker(lines);
  std::vector<Replacement> replacements;
  size_t index = 0;
  for (size_t k = 0; k < file.hunks.size(); ++k) {
    const Hunk* h = &file.hunks[k];
    for (const auto& anchor : h->anchors) {
      auto found = seeker.Seek({anchor}, index, false);
      if (!found) {
        return HunkError(path, k, file.hunks.size(), *h,
                         "the context line \"@@ " + Excerpt(anchor) + "\" was not found after line " +
                             std::to_string(index),
                         lines, {anchor}, index);
      }
      index = *found + 1;
    }
    if (h->old_lines.empty()) {
      // Pure addition: after the anchor when there is one, else at the end of the file.
      size_t at = h->anchors.empty() ? lines.size() : index;
      replacements.push_back({at, 0, Postimage(lines, at, *h, eol)});
      index = at;
      continue;
    }
    auto found = seeker.Seek(h->old_lines, index, h->at_end_of_file);
    Hunk trimmed;
    if (!found && LineBody(h->old_lines.back()).empty() && h->old_lines.size() > 1) {
      trimmed = WithoutTrailingBlank(*h);
      found = seeker.Seek(trimmed.old_lines, index, h->at_end_of_file);
      if (found) h = &trimmed;
    }
    if (!found) {
      return HunkError(path, k, file.hunks.size(), *h,
                       "the expected lines were not found after line " + std::to_string(index), lines,
                       h->old_lines, index);
    }
    replacements.push_back({*found, h->old_lines.size(), Postimage(lines, *found, *h, eol)});
    index = *found + h->old_lines.size();
  }
  // Positions only move forward, so applying from the back keeps earlier positions valid.
  for (auto it = replacements.rbegin(); it != replacements.rend(); ++it) {
    lines.erase(lines.begin() + it->pos, lines.begin() + it->pos + it->old_count);
    lines.insert(lines.begin() + it->pos, std::make_move_iterator(it->lines.begin()),
                 std::make_move_iterator(it->lines.end()));
  }
  return JoinTerminated(lines, eol);
}

}  // namespace

Result<std::string> ApplyHunks(const FilePatch& file, std::string_view content,
                               const std::string& display_path) {
  return file.mode == MatchMode::kCodex ? ApplyCodex(file, content, display_path)
                                        : ApplyUnified(file, content, display_path);
}

}  // namespace cordon::patch
