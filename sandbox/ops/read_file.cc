#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include "sandbox/base64.h"
#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/fs_primitives.h"
#include "sandbox/ops/sha256.h"

namespace cordon::ops {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kNoEnd = std::numeric_limits<uint64_t>::max();

// Length of a valid UTF-8 sequence at s[i] (1..4), or 0 when invalid or cut off.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t len;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) len = 2;
  else if (b >= 0xE0 && b <= 0xEF) len = 3;
  else if (b >= 0xF0 && b <= 0xF4) len = 4;
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b == 0xE0 && b1 < 0xA0) return 0;  // overlong
  if (b == 0xED && b1 > 0x9F) return 0;  // surrogates
  if (b == 0xF0 && b1 < 0x90) return 0;  // overlong
  if (b == 0xF4 && b1 > 0x8F) return 0;  // beyond U+10FFFF
  return len;
}

// The offset of the first invalid UTF-8 sequence, or s.size(). The common all-valid case is
// checked eight ASCII bytes at a time.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  for (;;) {
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) return n;
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return i;
    i += len;
  }
}

// Replaces every invalid UTF-8 sequence from `from` on by U+FFFD.
void ReplaceInvalidUtf8(std::string& s, size_t from) {
  if (from >= s.size()) return;
  std::string out(s, 0, from);
  out.reserve(s.size() + 16);
  for (size_t i = from; i < s.size();) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  s = std::move(out);
}

void SanitizeUtf8(std::string& s) { ReplaceInvalidUtf8(s, FirstInvalidUtf8(s)); }

// Collects lines [start, end] of a byte stream fed in chunks, up to `cap` bytes, cutting at a
// line boundary (or, when even the first line does not fit, inside it on a UTF-8 boundary).
class LineCollector {
 public:
  LineCollector(uint64_t start, uint64_t end, uint64_t cap) : start_(start), end_(end), cap_(cap) {}

  void Feed(std::string_view chunk) {
    size_t pos = 0;
    while (pos < chunk.size()) {
      const void* nl = std::memchr(chunk.data() + pos, '\n', chunk.size() - pos);
      size_t seg_end = nl ? static_cast<const char*>(nl) - chunk.data() + 1 : chunk.size();
      if (!full_ && line_ >= start_ && line_ <= end_) Take(chunk.substr(pos, seg_end - pos), nl != nullptr);
      if (nl) {
        ++newlines_;
        ++line_;
        cur_line_bytes_ = 0;
      }
      last_byte_newline_ = nl && seg_end == chunk.size();
      any_bytes_ = true;
      pos = seg_end;
    }
  }

  void Finish(ReadFileResult* out) {
    // A last line without '\n' that was taken whole counts as returned.
    if (!full_ && any_bytes_ && !last_byte_newline_ && line_ >= start_ && line_ <= end_ && cur_line_bytes_ > 0)
      last_line_ = line_;
    out->totalLines = newlines_ + (any_bytes_ && !last_byte_newline_ ? 1 : 0);
    out->startLine = start_;
    out->endLine = last_line_ >= start_ ? last_line_ : start_ - 1;
    out->truncated = full_;
    out->content = std::move(text_);
  }

 private:
  void Take(std::string_view seg, bool ends_line) {
    if (text_.size() + seg.size() <= cap_) {
      text_.append(seg);
      cur_line_bytes_ += seg.size();
      if (ends_line) last_line_ = line_;
      return;
    }
    full_ = true;
    if (last_line_ >= start_) {
      text_.resize(text_.size() - cur_line_bytes_);  // drop the partial line
      return;
    }
    // Not even the first line fits: return its head, cut on a character boundary.
    size_t room = static_cast<size_t>(cap_ - text_.size());
    while (room > 0 && room < seg.size() && (static_cast<unsigned char>(seg[room]) & 0xC0) == 0x80) --room;
    text_.append(seg.substr(0, room));
    last_line_ = line_;
  }

  const uint64_t start_, end_, cap_;
  uint64_t line_ = 1, newlines_ = 0, last_line_ = 0;
  size_t cur_line_bytes_ = 0;
  bool full_ = false, any_bytes_ = false, last_byte_newline_ = false;
  std::string text_;
};

// The common case - a whole text file that fits the cap - without the line collector: read
// straight into the result, hash on a second thread while lines are counted and UTF-8 checked.
// nullopt when the file grew past the cap while being read (the caller falls back).
std::optional<Result<ReadFileResult>> ReadWholeText(const FsContext& ctx, const OsHandle& fd, uint64_t size,
                                                     uint64_t cap, const std::string& display) {
  ReadFileResult out;
  std::string& text = out.content;
  text.resize(static_cast<size_t>(size) + 1);
  size_t have = 0;
  for (;;) {
    if (ctx.Cancelled()) return Result<ReadFileResult>(MakeError(ErrorKind::kCancelled, "fs/readFile cancelled"));
    if (have == text.size()) {
      if (text.size() > cap) return std::nullopt;
      text.resize(text.size() * 2);
    }
    auto n = ReadSome(fd, text.data() + have, std::min<size_t>(text.size() - have, 8u << 20), display);
    if (!n) return Result<ReadFileResult>(n.error());
    if (*n == 0) break;
    have += *n;
  }
  text.resize(have);
  if (have > cap) return std::nullopt;
  std::string digest;
  std::thread hasher([&] {
    Sha256 hash;
    hash.Update(text);
    digest = hash.HexDigest();
  });
  uint64_t newlines = 0;
  for (const char* p = text.data(); (p = static_cast<const char*>(std::memchr(p, '\n', text.data() + have - p)));) {
    ++newlines;
    ++p;
  }
  const size_t invalid = FirstInvalidUtf8(text);
  hasher.join();
  out.sha256 = std::move(digest);
  out.size = have;
  out.totalLines = newlines + (have > 0 && text.back() != '\n' ? 1 : 0);
  out.startLine = 1;
  out.endLine = out.totalLines;
  out.encoding = Encoding::kUtf8;
  ReplaceInvalidUtf8(text, invalid);
  return Result<ReadFileResult>(std::move(out));
}

}  // namespace

Result<ReadFileResult> ReadFile(const FsContext& ctx, const ReadFileParams& params) {
  auto path = ResolvePath(*ctx.policy, params.path, Access::kRead);
  if (!path) return path.error();
  auto fd = OpenResolved(*ctx.policy, *path, OpenMode::kRead);
  if (!fd) return fd.error();
  auto st = StatHandle(*fd, path->abs);
  if (!st) return st.error();
  if (st->type == EntryType::kDir)
    return MakeError(ErrorKind::kInvalidArgument, path->abs + " is a directory; use fs/readDirectory");
  if (st->type != EntryType::kFile) return MakeError(ErrorKind::kInvalidArgument, path->abs + " is not a regular file");

  const uint64_t cap = ctx.limits.max_read_bytes;
  const bool utf8 = params.encoding == Encoding::kUtf8;
  if (utf8 && params.offset.value_or(1) <= 1 && !params.limit && st->size <= cap) {
    if (auto whole = ReadWholeText(ctx, *fd, st->size, cap, path->abs)) return std::move(*whole);
    if (auto r = Rewind(*fd, path->abs); !r) return r.error();
  }
  uint64_t first = params.offset.value_or(utf8 ? 1 : 0);
  if (utf8 && first == 0) first = 1;
  uint64_t last = kNoEnd;
  if (params.limit) last = *params.limit == 0 ? first - 1 : first + *params.limit - 1;
  if (last < first - 1) last = kNoEnd;  // overflow of first + limit

  LineCollector lines(first, utf8 ? last : 0, utf8 ? cap : 0);
  std::string bytes;  // base64 mode: the requested byte range
  uint64_t want = params.limit.value_or(kNoEnd);
  bool bytes_truncated = false;
  Sha256 hash;
  std::string buf(kChunk, '\0');
  uint64_t offset = 0;
  for (;;) {
    if (ctx.Cancelled()) return MakeError(ErrorKind::kCancelled, "fs/readFile cancelled");
    auto n = ReadSome(*fd, buf.data(), buf.size(), path->abs);
    if (!n) return n.error();
    if (*n == 0) break;
    std::string_view chunk(buf.data(), *n);
    hash.Update(chunk);
    if (utf8) {
      lines.Feed(chunk);
    } else {
      lines.Feed(chunk);  // for totalLines
      uint64_t lo = std::max(offset, first), hi = offset + chunk.size();
      if (want != kNoEnd && first + want < hi) hi = first + want;
      if (lo < hi) {
        uint64_t take = hi - lo;
        if (bytes.size() + take > cap) {
          take = cap - bytes.size();
          bytes_truncated = true;
        }
        bytes.append(chunk.substr(static_cast<size_t>(lo - offset), static_cast<size_t>(take)));
      }
    }
    offset += chunk.size();
  }

  ReadFileResult out;
  out.encoding = params.encoding;
  out.size = offset;
  out.sha256 = hash.HexDigest();
  lines.Finish(&out);
  if (utf8) {
    SanitizeUtf8(out.content);
  } else {
    out.content = Base64Encode(bytes);
    out.startLine = out.endLine = 0;
    out.truncated = bytes_truncated;
  }
  return out;
}

}  // namespace cordon::ops
