#!/usr/bin/env bash
# Measures `fp6 convert` on a random Llama-3.2-1B-shaped bf16 checkpoint (1.24 B parameters, tied embeddings):
# wall time and peak resident memory (GNU time), for both targets. Writes docs/perf/convert.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-$(mktemp -d /tmp/fp6-convert-1b.XXXXXX)}
dotnet build -c Release Fp6.Cli >/dev/null
dotnet build -c Release examples/Fp6.Bench >/dev/null
[ -f "$work/ckpt/model.safetensors" ] || dotnet examples/Fp6.Bench/bin/Release/net10.0/Fp6.Bench.dll make-checkpoint "$work/ckpt" llama-1b
ckpt_mib=$(du -m "$work/ckpt/model.safetensors" | cut -f1)
out=docs/perf/convert.md
{
  echo "# fp6 convert: time and peak memory"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M') UTC on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM."
  echo "Checkpoint: random Llama-3.2-1B shape (hidden 2048, 16 layers, vocab 128256, tied embeddings), bf16, ${ckpt_mib} MiB."
  echo "Peak memory is GNU time's maximum resident set size (it includes pages of the memory-mapped checkpoint that were touched)."
  echo "Produced by \`tools/bench/convert-1b.sh\`."
  echo
  echo "| target | seconds | peak RSS MiB | peak / checkpoint | output MiB |"
  echo "| --- | --- | --- | --- | --- |"
} > "$out"
summary="summary:"
for target in cpu cuda; do
  rm -rf "$work/out-$target"
  /usr/bin/time -v -o "$work/time-$target.txt" dotnet Fp6.Cli/bin/Release/net10.0/fp6.dll convert "$work/ckpt" -o "$work/out-$target" --target $target 2> "$work/log-$target.txt" | tee -a "$work/log-$target.txt"
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time-$target.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time-$target.txt")
  outmib=$(du -sm "$work/out-$target" | cut -f1)
  ratio=$(awk -v r="$rss" -v c="$ckpt_mib" 'BEGIN {printf "%.2f", r/c}')
  echo "| $target | $secs | $rss | $ratio | $outmib |" >> "$out"
  summary="$summary ${target}_seconds=$secs ${target}_peak_rss_mib=$rss ${target}_peak_over_checkpoint=$ratio"
done
echo >> "$out"
echo "$summary" >> "$out"
cat "$out"
