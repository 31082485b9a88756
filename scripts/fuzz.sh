#!/usr/bin/env bash
# Coverage-guided fuzzing of what reads untrusted bytes, run by `make fuzz` (see Docs/testing.md).
#   1. Builds dabba-fuzz in its own scratch folder with Swift's SanitizerCoverage instrumentation (the frontend's
#      -sanitize=fuzzer), AddressSanitizer (FUZZ_SANITIZE=address, the default: the parsers read through unsafe
#      pointers; FUZZ_SANITIZE=none for coverage only, about twice as fast) and libFuzzer's runtime linked in whole
#      (its no-main variant: dabba-fuzz has its own main and calls LLVMFuzzerRunDriver). The ordinary build never
#      sees these flags.
#   2. Runs each target for FUZZ_SECONDS under libFuzzer, starting from its seeds in Tests/Fixtures/fuzz/<target>/.
#      New coverage goes to $FUZZ_SCRATCH/corpus/<target>/ (the seeds stay as they are); a crash, a failed property,
#      a hang over FUZZ_TIMEOUT seconds (generous: the machine may be busy) or memory over FUZZ_RSS_MB is saved in $FUZZ_SCRATCH/crashes/ and fails the
#      run. Keep such an input as a regression: Tests/Fixtures/fuzz/<target>/regressions/<what-it-was>.
# Environment: FUZZ_SECONDS (60), FUZZ_TARGETS (all), FUZZ_SANITIZE (address or none), FUZZ_TIMEOUT (25),
# FUZZ_RSS_MB (2048), FUZZ_ARGS (more libFuzzer options), FUZZ_SCRATCH (.build-fuzz), SWIFT (swift), SWIFT_FLAGS.
set -euo pipefail

swift="${SWIFT:-swift}"
seconds="${FUZZ_SECONDS:-60}"
scratch="${FUZZ_SCRATCH:-.build-fuzz}"
timeout="${FUZZ_TIMEOUT:-25}"
rss="${FUZZ_RSS_MB:-2048}"
sanitize="${FUZZ_SANITIZE:-address}"
read -r -a extra <<<"${FUZZ_ARGS:-}"
read -r -a swift_flags <<<"${SWIFT_FLAGS:-}"

if [[ "$(uname -s)" != "Linux" ]]; then
    echo "error: make fuzz needs a Linux Swift toolchain (libFuzzer ships with the swift.org Linux toolchains)." >&2
    exit 1
fi
toolchain="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")"
runtime="$(find "$toolchain/lib" -name "libclang_rt.fuzzer_no_main-$(uname -m).a" 2>/dev/null | head -n 1)"
if [[ -z "$runtime" ]]; then
    echo "error: libFuzzer's runtime (libclang_rt.fuzzer_no_main-$(uname -m).a) is not in $toolchain/lib." >&2
    exit 1
fi

case "$sanitize" in
    address) instrument=(-Xswiftc -sanitize=address -Xswiftc -Xfrontend -Xswiftc -sanitize=address,fuzzer) ;;
    none) instrument=(-Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer) ;;
    *)
        echo "error: FUZZ_SANITIZE is 'address' or 'none', not '$sanitize'." >&2
        exit 1
        ;;
esac
# Swift's backtracer would take the crash signals libFuzzer needs to save the input. Leak checks are off: Swift's
# runtime keeps caches that LeakSanitizer would report at exit.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
# One build folder per instrumentation, so switching does not rebuild the other.
build="$scratch/build-$sanitize"

echo "fuzz: building dabba-fuzz (coverage, sanitizer: $sanitize, libFuzzer) in $build"
"$swift" build -c debug --product dabba-fuzz --scratch-path "$build" "${swift_flags[@]}" "${instrument[@]}" \
    -Xlinker --whole-archive -Xlinker "$runtime" -Xlinker --no-whole-archive -Xlinker -lstdc++ -Xlinker -lm
fuzzer="$("$swift" build -c debug --scratch-path "$build" "${swift_flags[@]}" --show-bin-path)/dabba-fuzz"

if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <("$fuzzer" --list | cut -d: -f1)
fi

failed=()
for target in "${targets[@]}"; do
    seeds="Tests/Fixtures/fuzz/$target"
    corpus="$scratch/corpus/$target"
    crashes="$scratch/crashes/$target"
    mkdir -p "$corpus" "$crashes" "$scratch/dictionaries"
    "$fuzzer" --dictionary "$target" >"$scratch/dictionaries/$target.dict"
    echo "fuzz: $target for ${seconds}s (seeds $seeds, corpus $corpus)"
    if ! "$fuzzer" "$target" -max_total_time="$seconds" -timeout="$timeout" \
        -rss_limit_mb="$rss" -dict="$scratch/dictionaries/$target.dict" -artifact_prefix="$crashes/" \
        -print_final_stats=1 "${extra[@]}" "$corpus" "$seeds" 2>"$scratch/$target.log"; then
        tail -n 40 "$scratch/$target.log" >&2
        failed+=("$target")
    else
        grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$scratch/$target.log" || true
    fi
done

if ((${#failed[@]} > 0)); then
    echo "fuzz: FAILED: ${failed[*]}; inputs in $scratch/crashes/<target>/ (reproduce: $fuzzer <target> <file>)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} target(s), ${seconds}s each: no crash, no failed property"
