#!/usr/bin/env bash
# Tests release/check-module.sh against a stand-in `jar` tool whose module description is larger than a
# pipe buffer, the case where `echo "$list" | grep -q ...` under pipefail used to fail at random (grep
# exits at its first match, echo then writes into a closed pipe and dies of SIGPIPE): every verdict must
# come out the same on every run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/jdk/bin"
# Exports: three real packages first (sorted before the rest), then enough filler to exceed 64 KiB.
cat > "$tmp/jdk/bin/jar" <<'JAR'
#!/usr/bin/env bash
case "$1" in
  --describe-module)
    echo "dev.moe jar:file:///x.jar!/module-info.class"
    for p in dev.moe.aa dev.moe.ab dev.moe.ac; do echo "exports $p"; done
    [ -n "${EXPORT_CLI:-}" ] && echo "exports dev.moe.cli"
    for i in $(seq 1 4000); do echo "exports dev.moe.zz.filler.package.number$i"; done
    echo "requires java.base" ;;
  --list)
    for p in aa ab ac ${EXTRA_PACKAGE:-}; do echo "dev/moe/$p/A.class"; done
    echo "dev/moe/cli/Main.class" ;;
esac
JAR
chmod +x "$tmp/jdk/bin/jar"
check() { bash "$here/release/check-module.sh" "$tmp/x.jar" "$tmp/jdk" >"$tmp/out" 2>&1; }
for run in 1 2 3 4 5; do
  check || { echo "test-check-module: run $run: a valid module was rejected:" >&2; head -n 3 "$tmp/out" >&2; exit 1; }
done
if EXTRA_PACKAGE=ad check; then
  echo "test-check-module: a package neither exported nor internal was accepted" >&2; exit 1
fi
grep -q "package dev.moe.ad is neither exported nor listed as internal" "$tmp/out"
if EXPORT_CLI=1 check; then
  echo "test-check-module: an exported internal package was accepted" >&2; exit 1
fi
grep -q "internal package dev.moe.cli is exported" "$tmp/out"
echo "test-check-module: ok"
