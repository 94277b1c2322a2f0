#!/usr/bin/env bash
# Fetches one npm package into a cache outside the repository and prints the folder of its contents.
# Usage: build/fetch-npm-package.sh NAME VERSION
# The cache is $FP6_NPM_CACHE, or ~/.cache/fp6-npm. Nothing fetched here is ever committed.
# A lock and an atomic rename keep parallel builds from seeing a half-extracted package.
set -euo pipefail
name=$1
version=$2
cache=${FP6_NPM_CACHE:-$HOME/.cache/fp6-npm}
dir="$cache/$name-$version"
if [ -d "$dir/package" ]; then
  echo "$dir/package"
  exit 0
fi
mkdir -p "$cache" "$(dirname "$dir")"
# Scoped names (@scope/name) contain a slash: the lock file name must not.
exec 9>"$cache/.lock-${name//\//_}-$version"
flock 9
if [ ! -d "$dir/package" ]; then
  tmp=$(mktemp -d "$cache/.tmp-XXXXXX")
  echo "fetching $name@$version from the npm registry into $cache (one time)" >&2
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>&1 && tar xzf ./*.tgz && rm -f ./*.tgz)
  mkdir -p "$dir"
  mv "$tmp/package" "$dir/package"
  rm -rf "$tmp"
fi
echo "$dir/package"
