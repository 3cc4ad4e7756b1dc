# Sourced (bash) by ./moe: builds the command-line jar on first use or when a source changed, one
# build at a time, showing its steps.
#
# What it builds: the native CPU library, the Java library and the CLI jar. The CUDA library is built
# only when `nvidia-smi -L` lists a GPU, and then only for that GPU's architecture: without a GPU it
# could not run, and nvcc compiling three architectures takes minutes on a small machine. MOE_CUDA=ON
# or AUTO in the environment builds it anyway (for 80;89;90a). `./mvnw -B verify` (tests, CI) always
# builds and tests the CUDA library where nvcc exists.
#
# Locking: every ./moe takes $root/target/.moe-build.lock shared while it looks at the jar, and
# exclusive while it builds, so two first uses never build in one directory at once, and no command
# starts on a jar that a build is still writing. The lock is released before the CLI runs.

moe_find_jar() {
  local jars=("$root"/java-src/target/moe-routing-*-cli.jar)
  [ -e "${jars[0]}" ] && printf '%s\n' "${jars[0]}"
  return 0
}

# Prints a source newer than the jar (or nothing); a missing jar needs no such file to be rebuilt.
moe_find_stale() {
  [ -n "$1" ] || return 0
  find "$root/native" "$root/cmake" "$root/bindings/src/main" "$root/java-src/src/main" "$root/pom.xml" \
    "$root/bindings/pom.xml" "$root/java-src/pom.xml" -newer "$1" -type f -print -quit 2>/dev/null || true
}

moe_jar_is_current() {
  jar=$(moe_find_jar)
  [ -n "$jar" ] && [ -z "$(moe_find_stale "$jar")" ]
}

# $1 = -s or -x; waits for the lock on fd 9, saying why when it has to wait.
moe_lock() {
  flock "$1" -w 2 9 && return 0
  local start=$SECONDS
  echo "moe: another ./moe is building the project; waiting for it to finish..." >&2
  flock "$1" 9
  echo "moe: done waiting ($((SECONDS - start + 2)) s)" >&2
}

# Sets moe_cuda_flags (Maven -D flags), moe_cuda_note (what the build does about CUDA, in words) and
# moe_cuda_arch (the architectures it builds the CUDA library for, if it does).
moe_choose_cuda() {
  moe_cuda_arch=""
  if [ -n "${MOE_CUDA:-}" ]; then
    moe_cuda_flags=(-Dmoe.cuda="$MOE_CUDA")
    moe_cuda_note="CUDA library: MOE_CUDA=$MOE_CUDA (architectures 80;89;90a)"
    return
  fi
  local gpus="" cap=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    gpus=$(nvidia-smi -L 2>/dev/null || true)
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null || true)
  fi
  if [[ "$gpus" != *GPU* ]]; then
    moe_cuda_flags=(-Dmoe.cuda=OFF)
    moe_cuda_note="no GPU visible, so no CUDA library; ./mvnw -B verify builds and tests it"
    return
  fi
  local archs
  case "${cap%%$'\n'*}" in  # the first GPU's compute capability
    8.9) archs=89 ;;
    8.*) archs=80 ;;         # sm_80 code runs on every 8.x GPU
    9.0) archs=90a ;;        # the wgmma kernels need the sm_90a target
    *) archs="80;89;90a" ;;  # others run the PTX of these
  esac
  moe_cuda_arch=$archs
  moe_cuda_flags=(-Dmoe.cuda=AUTO "-Dmoe.cuda.archs=$archs")
  moe_cuda_note="CUDA library for this machine's GPU (architecture $archs)"
}

# Reads Maven's output and prints the build's steps (with a percentage for the native compile on a terminal).
moe_progress() {
  local line step="" t0=$SECONDS tty=""
  [ -t 2 ] && tty=1
  moe_step() {
    [ -n "$tty" ] && [ -n "$step" ] && printf '\n' >&2
    step=$1
    printf 'moe: [%s at %2d s] %s' "$1" $((SECONDS - t0)) "$2" >&2
    [ -n "$tty" ] || printf '\n' >&2
  }
  while IFS= read -r line; do
    case "$line" in
      *"(cmake-configure) @ moe-bindings"*) moe_step 1/4 "configuring the native build (CMake)" ;;
      *"(cmake-build) @ moe-bindings"*) moe_step 2/4 "compiling the native library (C++${moe_cuda_arch:+, CUDA for $moe_cuda_arch})" ;;
      *"(default-compile) @ moe-bindings"*) moe_step 3/4 "compiling the Java bindings, library and CLI" ;;
      *"shade"*"@ moe-routing"*) moe_step 4/4 "packaging the command-line jar" ;;
      "["*"%] Building"*)
        if [ -n "$tty" ]; then
          local pct=${line#[}
          printf '\rmoe: [2/4 at %2d s] compiling the native library: %s\033[K' $((SECONDS - t0)) "${pct%%]*}" >&2
        fi ;;
    esac
  done
  [ -n "$tty" ] && [ -n "$step" ] && printf '\n' >&2
  return 0
}

moe_build() {
  local log start=$SECONDS
  log=$(mktemp "${TMPDIR:-/tmp}/moe-build.XXXXXX")
  moe_choose_cuda
  echo "moe: building the command-line jar (first use or sources changed); $moe_cuda_note" >&2
  # maven.test.skip: the tests are not compiled either (`./mvnw -B verify` builds and runs them);
  # enforcer.skip: this script has already found a JDK >= 25, and the wrapper pins Maven;
  # maven.source.skip: no sources jars (`./mvnw install` makes them).
  if ! (cd "$root" && ./mvnw -B -Dmaven.test.skip=true -Denforcer.skip=true -Dmaven.source.skip=true "${moe_cuda_flags[@]}" \
      -pl java-src -am package 2>&1) \
      | tee "$log" | moe_progress; then
    tail -n 40 "$log" >&2
    echo "moe: build failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
  jar=$(moe_find_jar)
  # Maven leaves a jar whose inputs did not change untouched (e.g. after a native-only edit): mark it
  # current so the next run does not rebuild again.
  touch "$jar"
  echo "moe: built in $((SECONDS - start)) s" >&2
}

# Leaves the current jar in $jar, building it first if needed; holds no lock afterwards.
moe_ensure_jar() {
  # Without flock, or where the lock file cannot be made (a read-only checkout with its jar built), no lock.
  if ! command -v flock >/dev/null 2>&1 || ! { mkdir -p "$root/target" && exec 9>>"$root/target/.moe-build.lock"; } 2>/dev/null; then
    moe_jar_is_current || moe_build
    return
  fi
  moe_lock -s
  if ! moe_jar_is_current; then
    moe_lock -x  # converting drops the shared lock first, so two upgrading commands cannot deadlock
    if moe_jar_is_current; then
      echo "moe: another ./moe built the project meanwhile; using its jar" >&2
    else
      moe_build
    fi
  fi
  exec 9>&-  # release the lock before the long-running JVM could inherit it
}
