#!/bin/sh
# The image's entry point. Runs the command (default `showkeeper serve`; `showkeeper worker`
# for a download worker) as the user PUID:PGID (default 1000:1000), the convention of the
# images self-hosters already use, so that the files showkeeper writes in the library belong
# to the host user who owns the library.
#
# As root (the default) it
#   - gives the user "showkeeper" the uid PUID and the gid PGID,
#   - hands the data folder (/config) to them when it belongs to someone else,
#   - hands the library folder to them only when it is empty (just made by docker),
#   - applies UMASK (default 022; 002 makes files group-writable),
# then runs tini (PID 1: forwards SIGTERM, reaps ffmpeg and yt-dlp children) and the command
# as that user: nothing in the container keeps running as root.
# Started with --user, it runs the command as that user and changes nothing.
set -eu

say() { echo "showkeeper-entrypoint: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  exec tini -- "$@"
fi

PUID=${PUID:-1000}
PGID=${PGID:-1000}
case "$PUID" in '' | *[!0-9]*) say "PUID must be a number, not '$PUID'"; exit 1 ;; esac
case "$PGID" in '' | *[!0-9]*) say "PGID must be a number, not '$PGID'"; exit 1 ;; esac

if [ "$(id -g showkeeper)" != "$PGID" ]; then
  groupmod --non-unique --gid "$PGID" showkeeper
fi
if [ "$(id -u showkeeper)" != "$PUID" ]; then
  usermod --non-unique --uid "$PUID" --gid "$PGID" showkeeper 2>/dev/null
fi

data=${SHOWKEEPER_DATA_DIR:-/config}
mkdir -p "$data"
if [ "$(stat -c %u:%g "$data")" != "$PUID:$PGID" ]; then
  say "giving $data to $PUID:$PGID"
  chown -R "$PUID:$PGID" "$data"
fi

library=${SHOWKEEPER_LIBRARY_DIR:-}
if [ -n "$library" ] && [ -d "$library" ] \
  && [ "$(stat -c %u:%g "$library")" != "$PUID:$PGID" ] && [ -z "$(ls -A "$library")" ]; then
  chown "$PUID:$PGID" "$library"
fi

umask "${UMASK:-022}"
exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups -- tini -- "$@"
