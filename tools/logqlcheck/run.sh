#!/bin/sh
# Install the pinned npm dependencies (npm ci, quietly, only when
# node_modules is missing or was installed from a different package.json /
# package-lock.json) and run check.mjs with the given arguments:
#   tools/logqlcheck/run.sh out
set -eu
here=$(cd "$(dirname "$0")" && pwd)
stamp="$here/node_modules/.logqlcheck-installed"
want=$(node -e '
  const h = require("crypto").createHash("sha256");
  for (const f of process.argv.slice(1)) h.update(require("fs").readFileSync(f));
  process.stdout.write(h.digest("hex"));
' "$here/package.json" "$here/package-lock.json")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --prefix "$here" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  printf '%s\n' "$want" > "$stamp"
fi
exec node "$here/check.mjs" "$@"
