/**
 * The import in progress: files dropped anywhere on the window (or picked), their preview (what
 * each object would become, per-document problems), then the apply.
 */
import type { ImportPreview, ManifestFile } from '../../../core/desktop-api.ts';
import { api } from './api.ts';
import { go } from './router.svelte.ts';

export const importState = $state<{
  files: ManifestFile[];
  namespace: string;
  preview: ImportPreview | null;
  busy: boolean;
  error: string;
  /** Where the import came from (files, the deploy form, an edited object). */
  source: string;
}>({ files: [], namespace: '', preview: null, busy: false, error: '', source: '' });

const TEXT_EXT = /\.(ya?ml|json)$/i;

export async function readFiles(list: FileList | File[]): Promise<ManifestFile[]> {
  const files = [...list];
  const out: ManifestFile[] = [];
  for (const f of files) {
    if (!TEXT_EXT.test(f.name) && f.type && !f.type.startsWith('text/') && !f.type.includes('yaml') && !f.type.includes('json')) continue;
    out.push({ name: f.name, text: await f.text() });
  }
  return out;
}

export async function previewImport(): Promise<void> {
  importState.busy = true;
  importState.error = '';
  try {
    importState.preview = await api.call('yaml.preview', { files: importState.files, ...(importState.namespace ? { namespace: importState.namespace } : {}) });
  } catch (e) {
    importState.preview = null;
    importState.error = (e as Error).message;
  } finally {
    importState.busy = false;
  }
}

export async function startImport(files: ManifestFile[], source = 'files'): Promise<void> {
  importState.files = files;
  importState.source = source;
  importState.preview = null;
  go('import');
  await previewImport();
}
