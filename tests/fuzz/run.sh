#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.cpp with clang (libFuzzer + AddressSanitizer +
# UBSan) and runs each for a bounded time on its seed corpus (tests/fuzz/corpus/<target>, or
# corpus/<target without "fuzz_">). New inputs go to a scratch corpus under build/fuzz, never into
# the repository; a crash leaves its input in build/fuzz/ and fails the script.
# Only the core, cast and io sources are compiled (instrumented). A source that fails to compile
# or a target that fails to link is reported and makes the script fail at the end, after the
# other targets have run.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
dir=build/fuzz
mkdir -p "$dir/obj"
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude -Isrc)
objects=()
failed=()
running=0
compile() {  # src obj
  clang++ "${flags[@]}" -fsanitize=fuzzer-no-link -c "$1" -o "$2.tmp" && mv "$2.tmp" "$2" || rm -f "$2.tmp"
}
for src in src/core/*.cpp src/cast/*.cpp src/io/*.cpp; do
  obj="$dir/obj/$(echo "$src" | tr / _).o"
  objects+=("$obj")
  # Rebuild when the source or any header is newer than the object; two compilers at a time.
  if [ ! -f "$obj" ] || [ -n "$(find "$src" include src -newer "$obj" -name '*.[ch]pp' -o -newer "$obj" -name '*.inc' | head -1)" ]; then
    rm -f "$obj"
    compile "$src" "$obj" &
    running=$((running + 1))
    if [ $running -ge 2 ]; then wait -n || true; running=$((running - 1)); fi
  fi
done
wait || true
present=()
for obj in "${objects[@]}"; do
  if [ -f "$obj" ]; then present+=("$obj"); else failed+=("compile:$obj"); fi
done
# An archive, so each target links only the objects it uses.
rm -f "$dir/libreaders.a" && ar rcs "$dir/libreaders.a" "${present[@]}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
for t in "${targets[@]}"; do
  if ! clang++ "${flags[@]}" -fsanitize=fuzzer "tests/fuzz/$t.cpp" "$dir/libreaders.a" -lz -lpthread -o "$dir/$t"; then
    failed+=("link:$t")
    continue
  fi
  seeds=tests/fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=tests/fuzz/corpus/${t#fuzz_}
  mkdir -p "$dir/corpus-$t"
  echo "== $t: ${seconds}s"
  (cd "$dir" && TB_NUM_THREADS=2 "./$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "corpus-$t" "../../$seeds")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED to build: ${failed[*]}" >&2
  exit 1
fi
