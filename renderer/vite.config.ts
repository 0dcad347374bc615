/**
 * The renderer's build: Svelte 5 app → renderer/dist (relative asset paths, so the same build
 * loads from `wheelhouse serve`'s `/` and from the Electron shell's app:// origin).
 *   npx vite build --config renderer/vite.config.ts      (scripts/build-ui.sh does this)
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
});
