#!/usr/bin/env bash
# Cross-builds cordon for Windows in build-win/ (mingw-w64) and runs the Windows tests under
# Wine. Installs the toolchain and Wine when missing (needs root). Prints, last,
#   windows: N passed, N failed, N skipped
# and exits non-zero when a test failed or the build broke.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${CORDON_WIN_BUILD:-$root/build-win}
jobs=${CORDON_JOBS:-2}
log() { echo "run.sh: $*" >&2; }
fail() { log "$*"; echo "windows: 0 passed, 1 failed, 0 skipped"; exit 1; }

# 1. Toolchain, Wine and the header-only libraries the cross build stages.
packages=(g++-mingw-w64-x86-64-posix wine wine64 cmake make googletest nlohmann-json3-dev
          libasio-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    fail "missing packages: ${missing[*]} - run as root or: sudo apt-get install --no-install-recommends ${missing[*]}"
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 ||
    fail "apt-get install failed"
fi

# 2. Wine prefix: private to the build tree, crash debugger disabled (a crashing child must
# exit with its exception code at once instead of winedbg holding its pipes open).
export WINEPREFIX=${WINEPREFIX:-$build/wineprefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
mkdir -p "$build"
if [[ ! -f $WINEPREFIX/.cordon-ready ]]; then
  log "creating Wine prefix $WINEPREFIX"
  wine wineboot --init >/dev/null 2>&1 || fail "wineboot failed"
  wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger \
    /t REG_SZ /d false /f >/dev/null 2>&1 || fail "could not disable the Wine crash debugger"
  wineserver -w
  touch "$WINEPREFIX/.cordon-ready"
fi

# 3. Cross build.
# -O1: these binaries are for checking behaviour under Wine, and -O3 costs a quarter more
# compile time in a stage that must stay short.
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DCORDON_WERROR=ON >"$build/configure.log" 2>&1 ||
  { tail -30 "$build/configure.log" >&2; fail "configure failed (see $build/configure.log)"; }
targets=(win_tests win_test_helper cordon cordon-runner)
[[ -n ${CORDON_WIN_EXTRA_TARGETS:-} ]] && targets+=($CORDON_WIN_EXTRA_TARGETS)
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/build.log" 2>&1 ||
  { grep -E "error|Error" "$build/build.log" | head -40 >&2; fail "build failed (see $build/build.log)"; }

# 4. Tests under a persistent wineserver (0.05 s per process start instead of 1.5 s).
wineserver -p >/dev/null 2>&1 </dev/null &
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
# A Unix symlink inside a workspace pointing outside it: Wine presents it as a link, so the
# path guard's canonicalisation through the handle is exercised on a real escape.
fix="$build/fixtures"
rm -rf "$fix" && mkdir -p "$fix/ws" "$fix/outside" && ln -s ../outside "$fix/ws/escape"
export CORDON_WIN_LINK_FIXTURE="Z:${fix//\//\\}\\ws;Z:${fix//\//\\}\\ws\\escape"
out="$build/win_tests.out"
# Output goes to a file, not a pipe: Wine's background services inherit the descriptors and
# would keep a pipe open after the tests end.
timeout 240 wine "$build/tests/win/win_tests.exe" --gtest_color=no "$@" >"$out" 2>&1
rc=$?
cat "$out"

count() { grep -E "^\[  $1 *\] [0-9]+ test" "$out" | tail -1 | sed -E 's/^[^]]*\] ([0-9]+).*/\1/'; }
passed=$(count PASSED); skipped=$(count SKIPPED); failed=$(count FAILED)
passed=${passed:-0}; skipped=${skipped:-0}; failed=${failed:-0}
if [[ $rc != 0 && $failed == 0 ]]; then failed=1; log "test binary exited with $rc"; fi
echo "windows: $passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
