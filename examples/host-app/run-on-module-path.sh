#!/usr/bin/env bash
# Runs the example with the release jar on the MODULE path (module dev.moe), the example itself on the
# class path: shows that the exported packages are all an application needs and that the native
# libraries load from a named module. Then checks that the internal packages stay closed: reflection on
# dev.moe.bindings from the class path must fail with IllegalAccessException.
# Usage (after ./mvnw -B install -DskipTests and the example's package): examples/host-app/run-on-module-path.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || exit 1
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
"$root/mvnw" -B -q -f "$here/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime
mp=$(cat "$cp_file")
apps=("$here"/target/host-app-*.jar)
app=${apps[0]}
java=("$JAVA_HOME/bin/java" --module-path "$mp" --add-modules dev.moe --enable-native-access=dev.moe)
"${java[@]}" -cp "$app" dev.moe.example.HostApp
probe=$(mktemp -d)
cat > "$probe/Probe.java" <<'JAVA'
public class Probe {
    public static void main(String[] args) throws Exception {
        Class<?> c = Class.forName("dev.moe.bindings.moe_h");
        try {
            c.getMethod("moe_abi_version").invoke(null);
            System.err.println("run-on-module-path: dev.moe.bindings is reachable from outside the module");
            System.exit(1);
        } catch (IllegalAccessException expected) {
            System.out.println("run-on-module-path: internal package closed: " + expected.getMessage());
        }
    }
}
JAVA
"${java[@]}" "$probe/Probe.java"
rm -rf "$probe"
