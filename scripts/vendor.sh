#!/usr/bin/env bash
# Refresh the browser files showkeeper serves itself (no CDN, no node at run time):
# htmx from npm into src/showkeeper/web/static/vendor/ with its version and license.
# Run by `./dev.sh vendor`; needs npm and the npm registry once.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX_VERSION=${HTMX_VERSION:-2.0.11}
dest=src/showkeeper/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX_VERSION" >/dev/null && tar -xzf htmx.org-*.tgz)
mkdir -p "$dest"
cp "$work/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$work/package/LICENSE" "$dest/htmx.LICENSE"
printf 'htmx.org %s (npm), dist/htmx.min.js, BSD Zero Clause License (htmx.LICENSE)\n' \
  "$HTMX_VERSION" > "$dest/VERSIONS"
echo "vendored htmx.org $HTMX_VERSION into $dest"
