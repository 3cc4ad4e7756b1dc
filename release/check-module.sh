#!/usr/bin/env bash
# Checks the release jar's module descriptor (run by the release build at verify): every package of the
# jar is either exported (the public API) or one of the internal ones, no internal one is exported, and
# nothing of the tests' library (libmoe_testkit) is in the jar.
# Usage: release/check-module.sh JAR [JDK_HOME]
set -euo pipefail
jar_file=$1
jdk=${2:-${JAVA_HOME:-}}
jar_tool=${jdk:+$jdk/bin/}jar
internal="dev.moe.bindings dev.moe.cli dev.moe.math dev.moe.nativecall"  # keep in step with module-info.java
# (Here-strings, not "echo | grep -q": under pipefail, grep -q exiting early can fail the pipeline with SIGPIPE.)
desc=$("$jar_tool" --describe-module --file "$jar_file")
# Here-strings, not `echo "$x" | grep -q`: under pipefail that pipeline fails at random when grep exits at
# its first match while echo is still writing (SIGPIPE).
grep -q '^dev.moe ' <<<"$desc" || { echo "check-module: $jar_file has no module dev.moe:"; echo "$desc"; exit 1; } >&2
exported=$(sed -n 's/^exports \(.*\)$/\1/p' <<<"$desc" | sort)
listing=$("$jar_tool" --list --file "$jar_file")
packages=$(sed -n 's|^\(dev/moe/.*\)/[^/]*\.class$|\1|p' <<<"$listing" | tr / . | sort -u)
fail=0
for p in $internal; do
  if grep -qxF -- "$p" <<<"$exported"; then echo "check-module: internal package $p is exported" >&2; fail=1; fi
done
for p in $packages; do
  if ! grep -qxF -- "$p" <<<"$exported" && [[ " $internal " != *" $p "* ]]; then
    echo "check-module: package $p is neither exported nor listed as internal" >&2; fail=1
  fi
done
if grep -q 'testkit' <<<"$listing"; then
  echo "check-module: $jar_file holds test code (the testkit)" >&2; fail=1
fi
[ "$fail" = 0 ] && echo "check-module: $(wc -l <<<"$exported") packages exported, internal ones hidden: $internal"
exit "$fail"
