#!/usr/bin/env bash
# Builds target/gpu-bundle (git-ignored, at most 64 MiB): what benchmarks/gpu/run-all.sh needs on a GPU
# machine that has the driver but no JDK and no network:
#   rt.tar.gz    a jlinked Java 25 runtime (the modules below), unpacked to /tmp where it runs
#   lib/         the project's jars and test jars (libmoe_cuda.so for 80;89;90a inside the bindings jar)
#                and their test-scope dependencies
#   junit-platform-console-standalone-*.jar   the JUnit console launcher, from Maven Central
#   run-tests.sh the launcher over lib/*-tests.jar (benchmarks/gpu/run-tests.sh)
# Then, on the GPU machine: bash benchmarks/gpu/run-all.sh   (docs/gpu-validation.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/target/gpu-bundle
deps=$root/target/gpu-deps
# jdk.zipfs: without it the console launcher finds no tests inside jars; java.xml: logback's configuration
# and the launcher's XML reports; jdk.incubator.vector: the CPU kernels' Java twins.
modules=java.base,java.logging,java.management,java.naming,java.xml,jdk.unsupported,jdk.incubator.vector,jdk.zipfs
limit_mib=64
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || { echo "gpu-bundle: no JDK >= 25 found (set JAVA_HOME)" >&2; exit 1; }
cd "$root"
junit=$(sed -n 's:.*<junit.version>\(5\.[0-9.]*\)</junit.version>.*:\1:p' pom.xml)
[ -n "$junit" ] || { echo "gpu-bundle: no <junit.version> 5.x in pom.xml" >&2; exit 1; }
console=junit-platform-console-standalone-1.${junit#5.}.jar  # JUnit 5.x ships platform 1.x
dep_plugin=org.apache.maven.plugins:maven-dependency-plugin:3.11.0

echo "gpu-bundle: building the jars (CUDA library required)"
rm -rf "$deps"
./mvnw -B -q -DskipTests -Dmoe.cuda=ON -pl bindings,java-src -am package \
  "$dep_plugin:copy-dependencies" -DincludeScope=test -DoutputDirectory="$deps"

rm -rf "$out/lib"
mkdir -p "$out/lib"
if [ ! -s "$out/$console" ]; then
  echo "gpu-bundle: fetching $console"
  ./mvnw -B -q -N "$dep_plugin:copy" -Dartifact="org.junit.platform:junit-platform-console-standalone:1.${junit#5.}" \
    -DoutputDirectory="$out"
fi
shopt -s nullglob
for jar in bindings/target/*.jar java-src/target/*.jar "$deps"/*.jar; do
  case "$(basename "$jar")" in
    # the console launcher brings its own JUnit (a second copy could only disagree with it); the shaded CLI
    # jar repeats the classes of the others
    junit-*|opentest4j-*|apiguardian-*|*-sources.jar|*-javadoc.jar|original-*.jar|*-cli.jar) ;;
    *) cp -p "$jar" "$out/lib/" ;;
  esac
done
tests=("$out"/lib/*-tests.jar)
[ ${#tests[@]} -gt 0 ] || { echo "gpu-bundle: no *-tests.jar was built" >&2; exit 1; }
unzip -l "$out"/lib/moe-bindings-*[0-9T].jar | grep -q 'libmoe_cuda.so' \
  || { echo "gpu-bundle: the bindings jar holds no libmoe_cuda.so (is nvcc installed?)" >&2; exit 1; }

stamp="$("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1) $modules"
if [ ! -s "$out/rt.tar.gz" ] || [ "$(cat "$out/rt.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "gpu-bundle: jlinking a runtime from $JAVA_HOME"
  tmp=$(mktemp -d)
  "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress zip-0 --output "$tmp/rt"
  tar -czf "$out/rt.tar.gz" -C "$tmp" rt
  rm -rf "$tmp"
  echo "$stamp" > "$out/rt.stamp"
fi
cp benchmarks/gpu/run-tests.sh "$out/run-tests.sh"
echo "$console" > "$out/console.txt"
{
  echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (uncommitted changes)')"
  echo "nvcc release $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "archs $(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:STRING=//p' bindings/target/native-build/CMakeCache.txt)"
} > "$out/build-info.txt"

mib=$(( ($(du -sk "$out" | cut -f1) + 1023) / 1024 ))
echo "gpu-bundle: $out is $mib MiB (runtime $(du -sh "$out/rt.tar.gz" | cut -f1), lib $(du -sh "$out/lib" | cut -f1))"
[ "$mib" -le "$limit_mib" ] || { echo "gpu-bundle: over $limit_mib MiB, the most a device call carries" >&2; exit 1; }
