#!/usr/bin/env bash
# Builds the GPU test bundle described in ../shared/gpu/README.md: the project's jars and test jars
# (with libmoe_cuda.so for archs 80;89;90a inside the bindings jar), their test-scope dependencies, a
# jlinked Java 25 runtime and run-tests.sh, in target/gpu-bundle (git-ignored). Then, on the GPU machine
# (device tool, carry ["target/gpu-bundle"]):
#   nvidia-smi; bash target/gpu-bundle/run-tests.sh --include-tag gpu
# Usage: .ci/gpu-bundle.sh [PACK_SH]   (default ../shared/gpu/pack.sh next to this checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pack=${1:-$root/../shared/gpu/pack.sh}
[ -f "$pack" ] || { echo "gpu-bundle: $pack not found (pass the path to shared/gpu/pack.sh)" >&2; exit 2; }
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || exit 1
cd "$root"
./mvnw -B -q -DskipTests -Dmoe.cuda=ON -pl bindings,java-src -am package \
  org.apache.maven.plugins:maven-dependency-plugin:3.11.0:copy-dependencies \
  -DincludeScope=test -DoutputDirectory="$root/target/gpu-deps"
# The runtime travels as rt.tar.gz (the device tool carries at most 64 MiB with the working tree).
RT_ARCHIVE=${RT_ARCHIVE:-1} MVN="$root/mvnw" bash "$pack" target/gpu-bundle --jars 'bindings/target/*.jar' 'java-src/target/moe-routing-*[0-9T].jar' \
  'java-src/target/*-tests.jar' target/gpu-deps
