#!/bin/sh
# Runs one Windows executable under Wine with cordon's test defaults: a private prefix in the
# build tree, no debug chatter, no Mono/Gecko prompts. Used as CMAKE_CROSSCOMPILING_EMULATOR.
here=$(cd "$(dirname "$0")/../.." && pwd)
: "${WINEPREFIX:=$here/build-win/wineprefix}"
: "${WINEDEBUG:=-all}"
WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export WINEPREFIX WINEDEBUG WINEDLLOVERRIDES
exec wine "$@"
