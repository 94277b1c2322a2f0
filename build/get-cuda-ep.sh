#!/usr/bin/env bash
# On demand only (180 MB): fetches the ONNX Runtime 1.29.0 CUDA execution provider built for CUDA 13
# (npm com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9) and prints the path of libonnxruntime_providers_cuda.so.
# Use it with Fp6EngineOptions / `--cuda-ep <path>`; the library is registered as a plugin EP at run time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=$("$here/fetch-npm-package.sh" com.github.asus4.onnxruntime.linux-x64-gpu 0.4.9)
echo "$pkg/Plugins/Linux/x64/libonnxruntime_providers_cuda.so"
