#!/bin/sh
# Drives cordon from shell the way a CI script would, with `cordon client`: start a process and
# stream its output until process/closed, apply a patch, and check the exit-code contract
# (JSON-RPC error -> non-zero, --keep-going -> zero) over a started server, --server and
# --connect unix:PATH.
# Usage: client_script_test.sh PATH/TO/cordon
set -eu
cordon=$1
ws=$(mktemp -d /tmp/cordon-client-test.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$ws"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export XDG_CONFIG_HOME="$ws/.xdg"  # no user config.toml leaks into the servers started here

# Concatenates the base64 data of every process/output notification on one stream.
stream_text() {  # file stream
  sed -n "s/.*\"method\":\"process\/output\",\"params\":{\"data\":\"\([^\"]*\)\".*\"stream\":\"$2\".*/\1/p" "$1" |
    while read -r chunk; do printf '%s' "$chunk" | base64 -d; done
}

printf 'hello\n' > "$ws/greeting.txt"

echo "== start a process, stream its output, wait for process/closed"
cat > "$ws/start.jsonl" <<'JSON'
# one request per line; jsonrpc and ids are filled in
{"method":"process/start","params":{"processId":"p1","argv":["sh","-c","echo one; echo two >&2; echo three; echo made > ./made.txt"]}}
JSON
"$cordon" client --workspace "$ws" --until process/closed "$ws/start.jsonl" > "$ws/start.out" ||
  fail "cordon client exited with $?: $(cat "$ws/start.out")"
cat "$ws/start.out"
grep -q '"id":1,"jsonrpc":"2.0","result":{"capabilities"' "$ws/start.out" || fail "no initialize reply with id 1"
grep -q '"id":2,"jsonrpc":"2.0","result":{"pid":[0-9]*,"processId":"p1"}' "$ws/start.out" || fail "no process/start reply with id 2"
[ "$(stream_text "$ws/start.out" stdout)" = "$(printf 'one\nthree')" ] || fail "stdout was: $(stream_text "$ws/start.out" stdout)"
[ "$(stream_text "$ws/start.out" stderr)" = "two" ] || fail "stderr was: $(stream_text "$ws/start.out" stderr)"
grep -q '"method":"process/exited".*"exitCode":0' "$ws/start.out" || fail "no process/exited with exit code 0"
tail -n 1 "$ws/start.out" | grep -q '"method":"process/closed"' || fail "process/closed is not the last message"
[ "$(cat "$ws/made.txt")" = made ] || fail "the command's write to the workspace is missing"

echo "== apply a patch"
printf '%s\n' '{"method":"patch/apply","params":{"patch":"*** Begin Patch\n*** Update File: greeting.txt\n@@\n-hello\n+hello, patched\n*** End Patch\n"}}' |
  "$cordon" client --workspace "$ws" > "$ws/patch.out" && rc=0 || rc=$?
cat "$ws/patch.out"
if grep -q '"code":-32601' "$ws/patch.out"; then
  echo "SKIP (patch step): patch/apply is not wired into this server yet (-32601)"
  [ "$rc" = 1 ] || fail "a -32601 reply should exit 1, got $rc"
else
  [ "$rc" = 0 ] || fail "patch/apply: client exited with $rc"
  grep -q '"id":2,"jsonrpc":"2.0","result":{"applied":true' "$ws/patch.out" || fail "no applied:true result"
  [ "$(cat "$ws/greeting.txt")" = "hello, patched" ] || fail "greeting.txt is: $(cat "$ws/greeting.txt")"
fi

echo "== a JSON-RPC error stops the script and fails the exit code; --keep-going goes on"
printf '%s\n' '{"method":"no/such"}' '{"method":"ping"}' > "$ws/err.jsonl"
"$cordon" client --workspace "$ws" "$ws/err.jsonl" > "$ws/err.out" && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "expected exit 1 after -32601, got $rc"
grep -q '"code":-32601' "$ws/err.out" || fail "the error reply is not printed"
grep -q '"id":3' "$ws/err.out" && fail "the request after the error was sent"
"$cordon" client --workspace "$ws" --keep-going "$ws/err.jsonl" > "$ws/keep.out" || fail "--keep-going exited $?"
grep -q '"id":3,"jsonrpc":"2.0","result":{}' "$ws/keep.out" || fail "--keep-going did not send the ping"

echo "== --no-initialize: the server refuses requests before initialize"
printf '%s\n' '{"method":"tools/list"}' | "$cordon" client --workspace "$ws" --no-initialize > "$ws/noinit.out" && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "expected exit 1, got $rc"
grep -q '"id":1,"jsonrpc":"2.0"' "$ws/noinit.out" && grep -q '"code":-32600' "$ws/noinit.out" || fail "expected -32600 for id 1"

echo "== --server with an explicit command line"
printf '%s\n' '{"method":"ping"}' | "$cordon" client --server "'$cordon' serve --workspace '$ws' --log-level warning" > "$ws/server.out" ||
  fail "--server: exit $?"
grep -q '"id":2,"jsonrpc":"2.0","result":{}' "$ws/server.out" || fail "--server: no ping reply"

echo "== --connect unix:PATH"
"$cordon" serve --workspace "$ws" --listen "unix:$ws/cordon.sock" --log-level warning &
server_pid=$!
i=0
while [ ! -S "$ws/cordon.sock" ]; do
  i=$((i + 1)); [ $i -lt 600 ] || fail "the socket never appeared"
  kill -0 "$server_pid" 2>/dev/null || fail "cordon serve --listen exited"
  sleep 0.1
done
printf '%s\n' '{"method":"exec","params":{"argv":["echo","over the socket"]}}' |
  "$cordon" client --connect "unix:$ws/cordon.sock" > "$ws/connect.out" || fail "--connect: exit $?"
grep -q '"stdout":"over the socket\\n"' "$ws/connect.out" || fail "--connect: $(cat "$ws/connect.out")"

echo "PASS"
