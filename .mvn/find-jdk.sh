# Sourced (POSIX sh) by ./mvnw and ./moe: exports JAVA_HOME pointing at a JDK >= 25.
# Looks at $JAVA_HOME, then /usr/lib/jvm/* style locations (newest first), then `java` on PATH.
# The default `java` on the machines this project targets is 17, and CI sets no JAVA_HOME.

moe_jdk_major() { # $1 = a JDK home; prints its feature version (e.g. 25) or nothing
  if [ -r "$1/release" ]; then
    sed -n '/^JAVA_VERSION=/{s/^JAVA_VERSION="\{0,1\}\([0-9][0-9]*\).*/\1/p;q;}' "$1/release"
  elif [ -x "$1/bin/java" ]; then
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java.specification.version = \([0-9][0-9]*\).*/\1/p'  # one such line; sed reads it all (no SIGPIPE)
  fi
}

moe_is_jdk() { # $1 = candidate home: a JDK (java + javac) of at least version MOE_MIN_JAVA
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  moe_v=$(moe_jdk_major "$1")
  [ -n "$moe_v" ] && [ "$moe_v" -ge "${MOE_MIN_JAVA:-25}" ]
}

moe_find_jdk() {
  if moe_is_jdk "${JAVA_HOME-}"; then return 0; fi
  case $- in *f*) moe_noglob=1; set +f ;; *) moe_noglob= ;; esac
  moe_list=$( (ls -d /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* 2>/dev/null || true) | sort -r -V)
  [ -z "$moe_noglob" ] || set -f
  for moe_c in $moe_list; do
    if moe_is_jdk "$moe_c"; then JAVA_HOME=$moe_c; export JAVA_HOME; return 0; fi
  done
  if command -v java >/dev/null 2>&1; then
    moe_c=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if moe_is_jdk "$moe_c"; then JAVA_HOME=$moe_c; export JAVA_HOME; return 0; fi
  fi
  echo "moe: no JDK >= ${MOE_MIN_JAVA:-25} found (looked at JAVA_HOME, /usr/lib/jvm, java on PATH); install one, e.g. Temurin 25" >&2
  return 1
}
