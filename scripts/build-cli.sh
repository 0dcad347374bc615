#!/usr/bin/env bash
# Bundles the `wheelhouse` command (core/cli.ts and the whole core) into out/cli/wheelhouse.mjs
# with esbuild: one ESM file, node_modules external. It starts in about 0.6 s where running the
# TypeScript through tsx takes 2–3 s; bin/wheelhouse.js runs it when it is newer than the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[build-cli] core/cli.ts → out/cli/wheelhouse.mjs" >&2
npx esbuild core/cli.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile=out/cli/wheelhouse.mjs --packages=external --sourcemap --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
