// fnmatch(3) for the Windows build (mingw has none); the environment filter in
// sandbox/session.cc matches variable names against globs with it. Supports *, ? and
// [...] / [!...] sets; FNM_CASEFOLD folds ASCII case. Flags it does not know are ignored.
#pragma once

#define FNM_NOMATCH 1
#define FNM_NOESCAPE 0x01
#define FNM_PATHNAME 0x02
#define FNM_PERIOD 0x04
#define FNM_CASEFOLD 0x10

#ifdef __cplusplus
extern "C" {
#endif
int fnmatch(const char* pattern, const char* string, int flags);
#ifdef __cplusplus
}
#endif
