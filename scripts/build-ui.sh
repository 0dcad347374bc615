#!/usr/bin/env bash
# Builds the desktop UI:
#   renderer/dist      the Svelte app (vite), served by `wheelhouse serve` and loaded by Electron
#   out/electron/     the Electron main process and preload, bundled (esbuild) with the core
# `bash scripts/build-ui.sh renderer` builds the renderer only.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"

echo "[build-ui] renderer → renderer/dist" >&2
npx vite build --config renderer/vite.config.ts --logLevel warn

if [ "$what" = "all" ] || [ "$what" = "electron" ]; then
  echo "[build-ui] electron → out/electron" >&2
  # main: ESM, Node platform; dockerode & co stay external (node_modules ships with the app).
  npx esbuild electron/main.ts --bundle --platform=node --format=esm --target=node20 \
    --outfile=out/electron/main.mjs --packages=external --sourcemap \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  # preload: sandboxed preloads cannot import modules: one CommonJS file, electron external.
  npx esbuild electron/preload.ts --bundle --platform=node --format=cjs --target=node20 \
    --outfile=out/electron/preload.cjs --external:electron
fi
echo "[build-ui] done" >&2
