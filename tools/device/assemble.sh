#!/usr/bin/env bash
# On the GPU machine, after every .device/partNN has been carried: rebuilds the CUDA EP library and the base/app
# folders that ../shared/device/unpack.sh expects. Then: source .device/base/unpack.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
mkdir -p /tmp/fp6gpu/dotnet
if [ -d .device/base ] && [ -f /tmp/fp6gpu/ort/libonnxruntime_providers_cuda.so ]; then exit 0; fi
cat .device/part*/chunk > /tmp/fp6-all.bin
size=$(cat .device/part01/cudaep.size)
mkdir -p /tmp/fp6gpu/ort /tmp/fp6gpu/dotnet  # unpack.sh creates dotnet/ only when it unpacks the CUDA EP itself
head -c "$size" /tmp/fp6-all.bin | xz -d > /tmp/fp6gpu/ort/libonnxruntime_providers_cuda.so
tail -c +"$((size + 1))" /tmp/fp6-all.bin | xz -d | tar xf - -C .device
rm -f /tmp/fp6-all.bin
echo "assembled: $(ls .device)"
