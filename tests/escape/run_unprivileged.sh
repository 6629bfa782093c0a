#!/usr/bin/env bash
# Runs the whole escape suite as uid/gid 65534 (setpriv), the way an unprivileged user runs the
# server: binaries copied where that user can read them, a workspace base it owns outside /tmp
# (sessions replace /tmp with a private one), and a root-owned setuid copy of the probe for the
# setuid case. Needs root to set this up; exits 77 (skipped) otherwise.
set -euo pipefail
test_bin=$1 probe=$2 worker=$3 build_dir=$4
[[ $(id -u) == 0 ]] || { echo "not root: cannot switch to an unprivileged user"; exit 77; }
command -v setpriv >/dev/null || { echo "no setpriv(1)"; exit 77; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

bins=$(mktemp -d /tmp/cordon-escape-bin.XXXXXX)
base=""
cleanup() { rm -rf "$bins"; [[ -n $base ]] && rm -rf "$base"; }
trap cleanup EXIT
cp "$test_bin" "$bins/escape_test"
cp "$probe" "$bins/cordon-escape-probe"
cp "$worker" "$bins/cordon-worker"
chmod 0755 "$bins" "$bins"/*

# The base must be outside /tmp, /var/tmp and /run, and reachable by 65534.
for cand in "$build_dir" /var/cache /opt /srv; do
  [[ -d $cand ]] || continue
  b=$(mktemp -d "$cand/cordon-escape-nobody.XXXXXX") || continue
  chown 65534:65534 "$b"
  if as_nobody test -w "$b"; then base=$b; break; fi
  rm -rf "$b"
done
[[ -n $base ]] || { echo "no directory outside /tmp that uid 65534 can reach"; exit 77; }
mkdir "$base/suid"
cp "$probe" "$base/suid/cordon-escape-probe-suid"
chown root:root "$base/suid/cordon-escape-probe-suid"
chmod 04755 "$base/suid/cordon-escape-probe-suid"

cd "$base"
as_nobody env -i PATH=/usr/bin:/bin HOME="$base" \
  CORDON_ESCAPE_BASE="$base" CORDON_ESCAPE_PROBE="$bins/cordon-escape-probe" \
  CORDON_WORKER="$bins/cordon-worker" CORDON_ESCAPE_SUID_PROBE="$base/suid/cordon-escape-probe-suid" \
  ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
  "$bins/escape_test" --gtest_brief=1
