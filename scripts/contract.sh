#!/usr/bin/env bash
# The breaking-change gate (`make contract`): oasdiff between the last
# released contract and NEW (default: openapi.yaml); it fails on any change
# oasdiff rates ERR (breaking). Additive changes (new responses, new optional
# security schemes, parameters or properties) pass.
#
# Usage: scripts/contract.sh [--base FILE] [NEW]
# The base, unless --base names one: openapi.yaml at the newest `v*` tag, or,
# when there is no such tag, the newest committed snapshot contract/openapi.v*.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."

OASDIFF="${GO:-go} run github.com/oasdiff/oasdiff@v1.37.0"

base="" base_name=""
if [ "${1:-}" = "--base" ]; then
  base="${2:?--base needs a file}" base_name="$2"
  shift 2
fi
new="${1:-openapi.yaml}"
[ $# -le 1 ] || { echo "usage: $0 [--base FILE] [NEW]" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$base" ]; then
  tag=$(git tag --list 'v*' --sort=-version:refname | head -n 1)
  if [ -n "$tag" ]; then
    base="$tmp/openapi.$tag.yaml" base_name="openapi.yaml at tag $tag"
    git show "$tag:openapi.yaml" >"$base"
  else
    base=$(find contract -maxdepth 1 -name 'openapi.v*.yaml' | sort -V | tail -n 1)
    base_name="$base (snapshot; no v* tag yet)"
  fi
fi
for f in "$base" "$new"; do
  [ -n "$f" ] && [ -s "$f" ] || { echo "contract: missing or empty spec: '${f}'" >&2; exit 2; }
done

echo "contract: $new against the last released contract, $base_name"
# Without --fail-on ERR oasdiff exits 0 even on breaking changes.
$OASDIFF breaking --fail-on ERR "$base" "$new"
