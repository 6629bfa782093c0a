#include "sandbox/patch/text_lines.h"

#include <cstring>

namespace cordon::patch {

std::vector<std::string> SplitLines(std::string_view content) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < content.size()) {
    const void* nl = std::memchr(content.data() + start, '\n', content.size() - start);
    size_t end = nl ? static_cast<const char*>(nl) - content.data() + 1 : content.size();
    lines.emplace_back(content.substr(start, end - start));
    start = end;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  size_t total = 0;
  for (const auto& l : lines) total += l.size();
  std::string out;
  out.reserve(total);
  for (const auto& l : lines) out += l;
  return out;
}

bool UsesCrlf(const std::vector<std::string>& lines) {
  bool any = false;
  for (const auto& l : lines) {
    if (!HasTerminator(l)) continue;
    if (l.size() < 2 || l[l.size() - 2] != '\r') return false;
    any = true;
  }
  return any;
}

std::string_view LineBody(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view TrimEnd(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimEnd(s);
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 for an invalid sequence.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  char32_t v = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 0x2) return 0;
    v = (v << 6) | (c & 0x3F);
  }
  *cp = v;
  return len;
}

// The ASCII stand-in for typographic punctuation a model may produce instead of the file's
// plain characters (or the other way round); 0 when the code point has none.
char FoldToAscii(char32_t cp) {
  switch (cp) {
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212:
      return '-';
    case 0x2018: case 0x2019: case 0x201A: case 0x201B:
      return '\'';
    case 0x201C: case 0x201D: case 0x201E: case 0x201F:
      return '"';
    case 0x00A0: case 0x2002: case 0x2003: case 0x2004: case 0x2005: case 0x2006: case 0x2007:
    case 0x2008: case 0x2009: case 0x200A: case 0x202F: case 0x205F: case 0x3000:
      return ' ';
    default:
      return 0;
  }
}

}  // namespace

std::string NormalizeForFuzz(std::string_view body, Fuzz level) {
  switch (level) {
    case Fuzz::kExact: return std::string(body);
    case Fuzz::kTrimEnd: return std::string(TrimEnd(body));
    case Fuzz::kTrim: return std::string(Trim(body));
    case Fuzz::kUnicode: break;
  }
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size();) {
    char32_t cp = 0;
    size_t len = DecodeUtf8(body, i, &cp);
    if (len == 0) {
      out += body[i++];
      continue;
    }
    char folded = len > 1 ? FoldToAscii(cp) : 0;
    if (folded) out += folded; else out.append(body.substr(i, len));
    i += len;
  }
  return std::string(Trim(out));
}

std::string Excerpt(std::string_view text, size_t max) {
  text = LineBody(text);
  if (text.size() <= max) return std::string(text);
  // Cut on a UTF-8 boundary so the message stays valid text.
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return std::string(text.substr(0, max)) + "...";
}

}  // namespace cordon::patch
