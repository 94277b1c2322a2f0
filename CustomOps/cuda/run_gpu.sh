#!/usr/bin/env bash
# Builds the CUDA Fp6Linear GEMM and runs its checks and benchmark on the GPU machine, one step after another.
# Run from the repository root:  CustomOps/cuda/run_gpu.sh [steps...]
#   steps: build test sanitize bench bench-all explore floor ncu stalls   (default: build test sanitize bench)
#   floor: the M = 1 ceiling, a plain streaming read of each shape's FP6 bytes (tools/hbm_read_floor.cu)
# Logs and the report (gemm-<gpu>.md) go to $OUT (default /tmp/fp6-gpu-out); a short table is printed last.
# ORT headers: $ORT_HEADERS_DIR, else ./.ortheaders (copied from the npm package by the developer), else the npm cache.
set -uo pipefail
out=${OUT:-/tmp/fp6-gpu-out}
mkdir -p "$out"
root=$(pwd)
build=${FP6_BUILD_DIR:-/tmp/fp6-cuda-build}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(build test sanitize bench)
headers=${ORT_HEADERS_DIR:-}
[ -z "$headers" ] && [ -f "$root/.ortheaders/onnxruntime_c_api.h" ] && headers="$root/.ortheaders"
[ -z "$headers" ] && headers="$HOME/.cache/fp6-npm/com.github.asus4.onnxruntime-0.4.9/headers"
summary=()
note() { summary+=("$1"); echo "== $1"; }

{ nvidia-smi; nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu --format=csv;
  nvcc --version; cmake --version; nproc; } > "$out/probe.txt" 2>&1
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
note "gpu: $gpu; $(nvcc --version | grep release)"

for step in "${steps[@]}"; do
  case "$step" in
    build)
      t0=$(date +%s)
      if cmake -S "$root/CustomOps" -B "$build" -DCMAKE_BUILD_TYPE=Release -DORT_HEADERS_DIR="$headers" \
           -DFP6_CUDA_TOOLS=ON -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" > "$out/build.log" 2>&1 &&
         cmake --build "$build" -j"$(nproc)" >> "$out/build.log" 2>&1; then
        note "build (cmake, library + tools): ok in $(( $(date +%s) - t0 )) s"
      else
        note "build (cmake) FAILED, see build.log; building the tools with nvcc directly"
        mkdir -p "$build"
        flags=(-std=c++17 -O3 -gencode=arch=compute_80,code=sm_80 -gencode=arch=compute_90a,code=sm_90a
               -I"$root/CustomOps/include" -I"$root/CustomOps/cuda" -I"$root/CustomOps/cuda/tools")
        nvcc "${flags[@]}" -o "$build/fp6_gemm_test" "$root/CustomOps/cuda/tools/fp6_gemm_test.cu" \
          "$root/CustomOps/cuda/fp6_gemm.cu" "$root/CustomOps/src/fp6_format.cc" >> "$out/build.log" 2>&1 &&
        nvcc "${flags[@]}" -o "$build/fp6_gemm_bench" "$root/CustomOps/cuda/tools/fp6_gemm_bench.cu" \
          "$root/CustomOps/cuda/fp6_gemm.cu" -lcublas >> "$out/build.log" 2>&1 && note "build (nvcc): ok" || note "build (nvcc) FAILED"
      fi
      ;;
    test)
      timeout 300 "$build/fp6_gemm_test" > "$out/test.log" 2>&1
      note "test: rc=$? $(tail -1 "$out/test.log")"
      grep FAIL "$out/test.log" | head -5
      ;;
    sanitize)
      timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 "$build/fp6_gemm_test" --quick > "$out/sanitize.log" 2>&1
      note "compute-sanitizer memcheck (--quick): rc=$? $(grep -E 'ERROR SUMMARY' "$out/sanitize.log" | tail -1) $(grep -E 'passed' "$out/sanitize.log" | tail -1)"
      ;;
    ncu)
      sections=(--section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats
                --section SchedulerStats --section Occupancy --section LaunchStats --section ComputeWorkloadAnalysis)
      { timeout 150 ncu --clock-control none -k regex:DecodeKernel -c 1 "${sections[@]}" \
          "$build/fp6_gemm_bench" --shape=8192,28672 --ms=1 --md=/tmp/ncu1.md
        timeout 150 ncu --clock-control none -k regex:WgmmaKernel -c 1 "${sections[@]}" \
          "$build/fp6_gemm_bench" --shape=57344,8192 --ms=1024 --md=/tmp/ncu2.md; } > "$out/ncu.txt" 2>&1
      note "ncu: rc=$? $(grep -E 'DRAM Throughput|Compute \(SM\) Throughput' "$out/ncu.txt" | tr -s ' ' | tr '\n' ';')"
      ;;
    stalls)
      m='--metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__issue_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum,sm__warps_active.avg.per_cycle_active'
      { timeout 120 ncu --clock-control none -k regex:DecodeKernel -c 1 $m "$build/fp6_gemm_bench" --shape=57344,8192 --ms=1 --md=/tmp/s1.md
        timeout 120 ncu --clock-control none -k regex:DecodeKernel -c 1 $m "$build/fp6_gemm_bench" --shape=4096,4096 --ms=1 --md=/tmp/s2.md
        timeout 120 ncu --clock-control none -k regex:WgmmaKernel -c 1 $m "$build/fp6_gemm_bench" --shape=57344,8192 --ms=1024 --md=/tmp/s3.md
      } > "$out/stalls.txt" 2>&1
      note "stalls: rc=$?"
      ;;
    floor)
      mkdir -p "$build"
      nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -I"$root/CustomOps/include" -I"$root/CustomOps/cuda" \
        -o "$build/hbm_read_floor" "$root/CustomOps/cuda/tools/hbm_read_floor.cu" "$root/CustomOps/cuda/fp6_gemm.cu" \
        -lcublas > "$out/floor-build.log" 2>&1 && timeout 200 "$build/hbm_read_floor" > "$out/floor.md" 2>&1
      note "floor: rc=$? $(grep '^ceiling' "$out/floor.md")"
      ;;
    bench|bench-all|explore)
      args=()
      [ "$step" = bench-all ] && args+=(--all)
      [ "$step" = explore ] && args+=(--explore)
      timeout 520 "$build/fp6_gemm_bench" "${args[@]}" --md="$out/bench.md" > "$out/$step.log" 2>&1
      rc=$?
      tag=gpu; case "$gpu" in *H100*) tag=h100;; *H200*) tag=h200;; esac
      [ -f "$out/bench.md" ] && mv "$out/bench.md" "$out/gemm-$tag${args[0]:+-${args[0]#--}}.md"
      note "$step: rc=$rc $(grep '^summary' "$out/$step.log" | tail -1)"
      ;;
  esac
done
echo
echo "==================== summary"
printf '%s\n' "${summary[@]}"
