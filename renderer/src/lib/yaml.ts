/** Objects as YAML for the eye: server bookkeeping (managedFields) left out. */
import { stringify } from 'yaml';

export function toYaml(obj: unknown, opts: { dropManaged?: boolean } = {}): string {
  if (obj === undefined || obj === null) return '';
  let o = obj as Record<string, any>;
  if (opts.dropManaged !== false && o?.metadata?.managedFields) {
    o = { ...o, metadata: { ...o.metadata } };
    delete o.metadata.managedFields;
  }
  return stringify(o, { lineWidth: 0, aliasDuplicateObjects: false });
}
