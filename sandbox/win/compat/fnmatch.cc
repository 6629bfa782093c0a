#include "fnmatch.h"

namespace {

char Fold(char c, bool fold) { return (fold && c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Matches a [...] set at *p (just after '['); advances *p past ']'. Returns -1 on a malformed
// set, so the '[' is then taken literally.
int MatchSet(const char** p, char c, bool fold) {
  const char* s = *p;
  bool negate = (*s == '!' || *s == '^');
  if (negate) ++s;
  bool matched = false;
  bool first = true;
  while (*s != '\0' && (first || *s != ']')) {
    first = false;
    char lo = Fold(*s, fold);
    char hi = lo;
    if (s[1] == '-' && s[2] != '\0' && s[2] != ']') {
      hi = Fold(s[2], fold);
      s += 2;
    }
    if (lo <= c && c <= hi) matched = true;
    ++s;
  }
  if (*s != ']') return -1;
  *p = s + 1;
  return matched != negate ? 1 : 0;
}

bool Match(const char* p, const char* s, bool fold) {
  while (*p != '\0') {
    if (*p == '*') {
      while (*p == '*') ++p;
      if (*p == '\0') return true;
      for (; *s != '\0'; ++s)
        if (Match(p, s, fold)) return true;
      return false;
    }
    if (*s == '\0') return false;
    if (*p == '?') {
      ++p;
      ++s;
      continue;
    }
    if (*p == '[') {
      const char* q = p + 1;
      int r = MatchSet(&q, Fold(*s, fold), fold);
      if (r >= 0) {
        if (r == 0) return false;
        p = q;
        ++s;
        continue;
      }
    }
    if (Fold(*p, fold) != Fold(*s, fold)) return false;
    ++p;
    ++s;
  }
  return *s == '\0';
}

}  // namespace

extern "C" int fnmatch(const char* pattern, const char* string, int flags) {
  return Match(pattern, string, (flags & FNM_CASEFOLD) != 0) ? 0 : FNM_NOMATCH;
}
