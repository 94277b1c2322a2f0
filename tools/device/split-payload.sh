#!/usr/bin/env bash
# Cuts the GPU payload (made by ../shared/device/payload.sh PUBLISH_DIR) into parts small enough to travel next to a
# working tree that holds the embedded model: each device call carries at most 64 MiB including the tree.
# Writes .device/part01 ... .device/partNN (ignored) and prints how many there are.
# Carry them one per call, back to back; the last call runs:  bash tools/device/assemble.sh && source .device/base/unpack.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
part_mib=${FP6_PART_MIB:-16}
rm -rf .device/part* .device/tmp && mkdir -p .device/tmp
# One stream: the CUDA EP (already xz) then a tar of the base files and the app.
cat .device/ep1/cudaep.part00 .device/ep2/cudaep.part01 .device/ep3/cudaep.part02 > .device/tmp/cudaep.xz
tar cf - -C .device base app | xz -T0 -1 > .device/tmp/rest.tar.xz
stat -c %s .device/tmp/cudaep.xz > .device/tmp/cudaep.size
cat .device/tmp/cudaep.xz .device/tmp/rest.tar.xz > .device/tmp/all.bin
split -b "${part_mib}m" -d -a 2 .device/tmp/all.bin .device/tmp/chunk
n=0
for chunk in .device/tmp/chunk*; do
  n=$((n + 1))
  dir=$(printf '.device/part%02d' "$n")
  mkdir -p "$dir" && mv "$chunk" "$dir/chunk"
done
cp .device/tmp/cudaep.size .device/part01/cudaep.size
rm -rf .device/tmp
echo "$n parts of at most ${part_mib} MiB: .device/part01 .. $(printf '.device/part%02d' "$n")"
