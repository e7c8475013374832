#!/usr/bin/env bash
# Proves the gate (scripts/contract.sh, what `make contract` runs) itself:
# it must fail on testdata/contract/breaking.yaml, naming both breaking
# changes, and pass on testdata/contract/additive.yaml. Both fixtures are
# variants of the v1.0.0 snapshot, which is therefore the base here.
set -euo pipefail
cd "$(dirname "$0")/.."

base=contract/openapi.v1.0.0.yaml
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
export GO="${GO:-go}"

if scripts/contract.sh --base "$base" testdata/contract/breaking.yaml >"$out" 2>&1; then
  echo "FAIL: the gate passed a breaking change:"; cat "$out"; fail=1
else
  for rule in response-required-property-removed request-parameter-became-required; do
    if ! grep -q "^error[[:space:]]*\[$rule\]" "$out"; then
      echo "FAIL: the gate failed on breaking.yaml, but did not report [$rule]:"; cat "$out"; fail=1
    fi
  done
  [ $fail = 1 ] || echo "ok: the gate refuses testdata/contract/breaking.yaml (2 breaking changes)"
fi

if scripts/contract.sh --base "$base" testdata/contract/additive.yaml >"$out" 2>&1; then
  echo "ok: the gate accepts testdata/contract/additive.yaml (202, 429, a new security scheme, a new property)"
else
  echo "FAIL: the gate refused an additive change:"; cat "$out"; fail=1
fi

if scripts/contract.sh --base "$base" testdata/contract/missing.yaml >"$out" 2>&1; then
  echo "FAIL: the gate passed with a missing spec file"; cat "$out"; fail=1
else
  echo "ok: the gate fails when a spec file is missing"
fi

# The newest v* tag wins over the snapshot: in a scratch repository whose
# tag v9.9.9 released breaking.yaml as openapi.yaml, the same file passes.
repo=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$repo"' EXIT
mkdir -p "$repo/scripts" "$repo/contract"
cp scripts/contract.sh "$repo/scripts/"
cp contract/openapi.v*.yaml "$repo/contract/"
cp testdata/contract/breaking.yaml "$repo/openapi.yaml"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=test -c user.email=test@example.com commit -qm release
git -C "$repo" tag v9.9.9
if (cd "$repo" && GO="${GO:-go}" scripts/contract.sh) >"$out" 2>&1 && grep -q "at tag v9.9.9" "$out"; then
  echo "ok: the gate compares against the newest v* tag when there is one"
else
  echo "FAIL: the gate did not use the newest v* tag as the base:"; cat "$out"; fail=1
fi

exit $fail
