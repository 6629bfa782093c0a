// Force-included (Windows build only) into sandbox/policy.cc, which resolves roots with POSIX
// realpath()/stat(). mingw has no realpath, and stat() cannot read policy-form paths
// ("/C:/ws"), so both are redirected to versions that convert the policy form, open the
// object and canonicalise it through the handle (GetFinalPathNameByHandleW).
#pragma once

#ifdef __cplusplus
#include <sys/stat.h>

#include <cstddef>

struct cordon_compat_stat {
  unsigned short st_mode = 0;
  long long st_size = 0;
};
// realpath(3): `resolved` must hold PATH_MAX bytes; fails with ENAMETOOLONG beyond that.
char* cordon_compat_realpath(const char* path, char* resolved);
int cordon_compat_stat(const char* path, struct cordon_compat_stat* out);

#define realpath cordon_compat_realpath
#define stat cordon_compat_stat
#endif
