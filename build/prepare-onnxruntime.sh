#!/usr/bin/env bash
# Makes ONNX Runtime 1.29.0 (CPU build, from the npm package com.github.asus4.onnxruntime@0.4.9) ready for the build:
# fetches the package into the cache and unpacks the C/C++ headers from its Android archive next to it.
# Prints nothing on success; the MSBuild and CMake sides compute the same cache paths themselves.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=$("$here/fetch-npm-package.sh" com.github.asus4.onnxruntime 0.4.9)
headers="$pkg/../headers"
if [ ! -f "$headers/onnxruntime_c_api.h" ]; then
  tmp=$(mktemp -d "$pkg/../.headers-XXXXXX")
  (cd "$tmp" && unzip -q -o "$pkg/Plugins/Android/onnxruntime.aar" 'headers/*')
  rm -rf "$headers"
  mv "$tmp/headers" "$headers"
  rm -rf "$tmp"
fi
