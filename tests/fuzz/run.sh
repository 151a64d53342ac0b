#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.cpp with clang (libFuzzer + AddressSanitizer +
# UBSan) and runs it, in one of two modes:
#
#   tests/fuzz/run.sh check [TARGET...]
#     Deterministic, what `make test` runs: each target replays its committed corpus
#     (tests/fuzz/corpus/<target>) and then makes a fixed number of runs (FUZZ_RUNS, default
#     per target below) from a fixed seed (FUZZ_SEED, default 1), one process, one library
#     thread, into a scratch corpus created afresh each time. The same commit always gives the
#     same result.
#
#   tests/fuzz/run.sh long [SECONDS=600] [TARGET...]
#     A campaign: each target in turn for SECONDS with a random seed, keeping its scratch corpus
#     (build/fuzz/long/corpus-<target>) from one campaign to the next. A crash, leak, timeout or
#     out-of-memory does not stop the campaign: each is saved in build/fuzz/long/finds/<target>/
#     and listed at the end, and the script fails. A find, once fixed, is committed into
#     tests/fuzz/corpus/<target>/ (and reproduced by a C++ test) so `check` replays it for good.
#
# Only the core, cast, interop, io and image sources are compiled (instrumented). A source that fails to compile
# or a target that fails to link is reported and makes the script fail at the end, after the
# other targets have run. Runs one fuzzer process at a time.
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-check}
shift || true
case "$mode" in
  check) ;;
  long)
    seconds=600
    if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
    ;;
  *) echo "usage: $0 check [TARGET...] | $0 long [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
dir=build/fuzz
mkdir -p "$dir/obj"
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude -Isrc)
objects=()
failed=()
running=0
compile() {  # src obj
  clang++ "${flags[@]}" -fsanitize=fuzzer-no-link -c "$1" -o "$2.tmp" && mv "$2.tmp" "$2" || rm -f "$2.tmp"
}
for src in src/core/*.cpp src/cast/*.cpp src/interop/*.cpp src/io/*.cpp src/io/*/*.cpp src/image/*.cpp; do
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

# Runs per target in `check` mode: about ten seconds each on one core, so the whole stage takes
# about a minute once built. The CSV reader and the archives (a file per input) are slower.
check_runs() {
  case "$1" in
    fuzz_csv | fuzz_zip | fuzz_npz_member) echo 40000 ;;
    fuzz_decode_image) echo 20000 ;;
    fuzz_npy_file) echo 100000 ;;
    *) echo 200000 ;;
  esac
}

common=(-timeout=60 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1)
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  no_aslr=(setarch "$(uname -m)" -R)
elif [ "$mode" = check ]; then
  echo "note: setarch -R is unavailable, so address-space randomisation stays on and runs may differ slightly" >&2
fi
finds=()
for t in "${targets[@]}"; do
  if ! clang++ "${flags[@]}" -fsanitize=fuzzer "tests/fuzz/$t.cpp" "$dir/libreaders.a" -lz -lbz2 -llzma -lzstd -ljpeg -lspng -lwebpdemux -lwebp -lcurl -lpthread -o "$dir/$t"; then
    failed+=("link:$t")
    continue
  fi
  seeds=tests/fuzz/corpus/$t
  mkdir -p "$seeds"
  if [ "$mode" = check ]; then
    runs=${FUZZ_RUNS:-$(check_runs "$t")}
    seed=${FUZZ_SEED:-1}
    scratch="$dir/check/corpus-$t"
    rm -rf "$scratch" && mkdir -p "$scratch" "$dir/check/finds"
    echo "== $t: corpus + $runs runs from seed $seed"
    # Two things besides the seed change what libFuzzer explores: -reload (it rereads the corpus
    # folder every second, a timing) and address-space randomisation (some coverage features
    # depend on addresses), so both are off here.
    (cd "$dir" && TB_NUM_THREADS=1 "${no_aslr[@]}" "./$t" -seed="$seed" -runs="$runs" -reload=0 "${common[@]}" \
      -artifact_prefix="check/finds/$t-" "check/corpus-$t" "../../$seeds") || failed+=("find:$t (see $dir/check/finds/)")
  else
    scratch="$dir/long/corpus-$t"
    out="$dir/long/finds/$t"
    mkdir -p "$scratch" "$out"
    touch "$dir/long/started-$t"
    echo "== $t: ${seconds}s, random seed ($(date -u +%H:%M:%S) UTC)"
    # -fork=1: one child process at a time, restarted after a find, so one campaign collects
    # every find instead of stopping at the first.
    (cd "$dir" && TB_NUM_THREADS=2 "./$t" -seed=0 -max_total_time="$seconds" "${common[@]}" -timeout=10 \
      -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -artifact_prefix="long/finds/$t/" \
      "long/corpus-$t" "../../$seeds")
    echo "== $t: done ($(date -u +%H:%M:%S) UTC)"
    while IFS= read -r f; do finds+=("$f"); done < <(find "$out" -type f -newer "$dir/long/started-$t")
  fi
done
if [ ${#finds[@]} -gt 0 ]; then
  echo "FINDS (reproduce: build/fuzz/<target> <file>):" >&2
  printf '  %s\n' "${finds[@]}" >&2
fi
if [ ${#failed[@]} -gt 0 ] || [ ${#finds[@]} -gt 0 ]; then
  [ ${#failed[@]} -gt 0 ] && echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
