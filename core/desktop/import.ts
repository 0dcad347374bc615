/**
 * yaml.preview and yaml.apply: what a dropped file (or the deploy form, or an edited object)
 * would do and then doing it, all or nothing.
 *
 * The preview reports every problem of every document (syntax, field validation, the API's dry
 * run) with its file, document and line, and for every valid document what would happen
 * (created / configured / unchanged) with the object before and after, cleaned for a diff
 * (server-set metadata and status dropped; Secret values masked). Apply runs `applyManifests`
 * (validate → dry-run everything → write) and refuses when any problem remains.
 */
import { applyManifests, type ApplyResult } from '../api/apply.ts';
import type { KubeObject } from '../api/types.ts';
import { validateObject } from '../api/validation/index.ts';
import { ImportError, parseManifests, validateImport, type ImportProblem, type ParsedDocument } from '../api/yaml-import.ts';
import { DesktopError, type ImportArgs, type ImportObject, type ImportPreview } from '../desktop-api.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';
import { maskSecretForDiff } from './sanitize.ts';

const FIELD_MANAGER = 'wheelhouse-ui';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SERVER_SET = ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink'] as const;

/** An object as a diff should show it: what the user wrote and controllers keep, not bookkeeping. */
export function cleanForDiff(obj: KubeObject, other?: KubeObject): KubeObject {
  let out: KubeObject = { ...obj, metadata: { ...obj.metadata } };
  if (obj.kind === 'Secret') out = maskSecretForDiff(out, other);
  for (const f of SERVER_SET) delete out.metadata[f];
  if (out.metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const a = { ...out.metadata.annotations };
    delete a[LAST_APPLIED];
    if (Object.keys(a).length) out.metadata.annotations = a;
    else delete out.metadata.annotations;
  }
  delete out.status;
  return out;
}

function parseAll(args: ImportArgs): { docs: ParsedDocument[]; problems: ImportProblem[] } {
  const docs: ParsedDocument[] = [];
  const problems: ImportProblem[] = [];
  for (const f of args.files) {
    try {
      const parsed = parseManifests(f.text, f.name);
      if (!parsed.length) problems.push({ file: f.name, document: 0, line: 0, column: 0, message: 'no objects in this file' });
      docs.push(...parsed);
    } catch (e) {
      if (e instanceof ImportError) problems.push(...e.problems);
      else throw e;
    }
  }
  return { docs, problems };
}

function toObject(r: ApplyResult): ImportObject {
  const action = r.action === 'failed' ? 'created' : r.action;
  let diff: ImportObject['diff'];
  if (r.diff) {
    diff = {
      ...(r.diff.before ? { before: cleanForDiff(r.diff.before, r.diff.after) } : {}),
      after: cleanForDiff(r.diff.after, r.diff.before),
    };
  }
  return {
    file: r.file,
    document: r.document,
    line: 0,
    object: r.object,
    kind: r.kind,
    apiVersion: r.apiVersion,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    name: r.name,
    action,
    ...(diff ? { diff } : {}),
  };
}

const docKey = (file: string, document: number) => `${file}\u0000${document}`;

async function preview(s: DesktopSession, args: ImportArgs): Promise<ImportPreview> {
  const { docs, problems } = parseAll(args);
  const opts = { dryRun: true, validate: validateObject, fieldManager: FIELD_MANAGER, namespace: args.namespace };
  problems.push(...validateImport(docs, validateObject, { namespace: args.namespace }));
  const bad = new Set(problems.map((p) => docKey(p.file, p.document)));
  const valid = docs.filter((d) => !bad.has(docKey(d.file, d.index)));
  let results: ApplyResult[] = [];
  if (valid.length) {
    try {
      results = await applyManifests(s.client, valid, opts);
    } catch (e) {
      if (!(e instanceof ImportError)) throw e;
      // Some dry run was refused: find out per document which ones pass on their own.
      for (const d of valid) {
        try {
          results.push(...(await applyManifests(s.client, [d], opts)));
        } catch (e2) {
          if (!(e2 instanceof ImportError)) throw e2;
          problems.push(...e2.problems);
        }
      }
    }
  }
  const lineOf = new Map(docs.map((d) => [docKey(d.file, d.index) + d.object.metadata?.name, d.line]));
  const objects = results.map((r) => ({ ...toObject(r), line: lineOf.get(docKey(r.file, r.document) + r.name) ?? 0 }));
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.document - b.document || a.line - b.line);
  return { ok: problems.length === 0 && docs.length > 0, objects, problems: dedupe(problems), applied: false };
}

function dedupe(problems: ImportProblem[]): ImportProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = JSON.stringify(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const importHandlers: HandlerMap<'yaml.preview' | 'yaml.apply'> = {
  'yaml.preview': preview,

  async 'yaml.apply'(s, args) {
    const { docs, problems } = parseAll(args);
    if (problems.length) throw new ImportError(problems);
    if (!docs.length) throw new DesktopError('ImportFailed', 'nothing to import: the files hold no objects', { problems: [] });
    const results = await applyManifests(s.client, docs, { validate: validateObject, fieldManager: FIELD_MANAGER, namespace: args.namespace });
    const lineOf = new Map(docs.map((d) => [docKey(d.file, d.index) + d.object.metadata?.name, d.line]));
    return {
      ok: true,
      objects: results.map((r) => ({ ...toObject(r), line: lineOf.get(docKey(r.file, r.document) + r.name) ?? 0 })),
      problems: [],
      applied: true,
    };
  },
};
