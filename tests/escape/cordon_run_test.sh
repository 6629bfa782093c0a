#!/usr/bin/env bash
# `cordon run` end to end: writing /etc fails with the command's own clear message and a
# non-zero status, writing the workspace succeeds and the file is there afterwards.
set -uo pipefail
cordon=$1 build_dir=$2
ws=$(mktemp -d "$build_dir/cordon-run-ws.XXXXXX")
trap 'rm -rf "$ws"' EXIT
cd "$ws"
fail() { echo "FAIL: $*"; exit 1; }

err=$("$cordon" run -- sh -c 'echo hi > /etc/cordon-run-x' 2>&1 >/dev/null)
rc=$?
[[ $rc != 0 ]] || fail "writing /etc succeeded"
[[ ! -e /etc/cordon-run-x ]] || { rm -f /etc/cordon-run-x; fail "/etc/cordon-run-x exists on the host"; }
grep -Eq '/etc/cordon-run-x: (Read-only file system|Permission denied)' <<<"$err" ||
  fail "no clear message for the denied write (rc $rc): $err"
echo "denied as expected (rc $rc): $err"

out=$("$cordon" run -- sh -c 'echo hi > ./x && cat ./x' 2>&1)
rc=$?
[[ $rc == 0 ]] || fail "writing the workspace failed (rc $rc): $out"
[[ $(cat "$ws/x" 2>/dev/null) == hi ]] || fail "./x not written in the workspace: $out"
echo "workspace write ok"
