/**
 * JSON Patch (RFC 6902) over JSON Pointers (RFC 6901). The patch is applied to a copy and is
 * atomic: if any operation fails, a PatchError names it (index, op, path) and nothing changes.
 */
import { cloneJson, hasOwn, isObject, jsonEqual, setOwn } from './json.ts';

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** A patch (of any type) that cannot be applied. */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

/** `"/a~1b/0"` → `['a/b', '0']`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer "${pointer}": must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw new Error(`invalid JSON pointer "${pointer}": bad escape in "${t}"`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

type Container = unknown[] | Record<string, unknown>;

function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`"${token}" is not an array index`);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) throw new Error(`index ${i} is out of bounds (length ${length})`);
  return i;
}

/** The container holding the last token of `tokens`, and that token. */
function parentOf(doc: unknown, tokens: string[]): { parent: Container; key: string } {
  let node = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false)];
    else if (isObject(node) && hasOwn(node, t)) node = node[t];
    else throw new Error(`path does not exist (no "${tokens.slice(0, i + 1).join('/')}")`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new Error('path does not exist (parent is not an object or array)');
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, tokens: string[]): unknown {
  if (!tokens.length) return doc;
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent[arrayIndex(key, parent.length, false)];
  if (!hasOwn(parent, key)) throw new Error('path does not exist');
  return parent[key];
}

function removeAt(doc: unknown, tokens: string[]): unknown {
  if (!tokens.length) throw new Error('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(key, parent.length, false), 1)[0];
  if (!hasOwn(parent, key)) throw new Error('path does not exist');
  const old = parent[key];
  delete parent[key];
  return old;
}

/** Returns the new document (the root may be replaced). */
function addAt(doc: unknown, tokens: string[], value: unknown, replace: boolean): unknown {
  if (!tokens.length) return value;
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    if (replace) parent[arrayIndex(key, parent.length, false)] = value;
    else parent.splice(arrayIndex(key, parent.length, true), 0, value);
  } else {
    if (replace && !hasOwn(parent, key)) throw new Error('path does not exist');
    setOwn(parent, key, value);
  }
  return doc;
}

/** `doc` with `ops` applied, in order. `doc` itself is not modified. */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOp[]): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let out = cloneJson(doc);
  ops.forEach((op, i) => {
    const where = `JSON patch operation ${i} (${describeOp(op)})`;
    try {
      if (!isObject(op)) throw new Error('an operation must be an object');
      if (typeof op.path !== 'string') throw new Error('"path" must be a string');
      const path = parsePointer(op.path);
      switch (op.op) {
        case 'add':
        case 'replace':
          if (!('value' in op)) throw new Error('"value" is required');
          out = addAt(out, path, cloneJson(op.value), op.op === 'replace');
          break;
        case 'remove':
          removeAt(out, path);
          break;
        case 'test':
          if (!('value' in op)) throw new Error('"value" is required');
          if (!jsonEqual(getAt(out, path), op.value)) throw new Error(`test failed: the value is ${JSON.stringify(getAt(out, path))}`);
          break;
        case 'move':
        case 'copy': {
          if (typeof op.from !== 'string') throw new Error('"from" must be a string');
          const from = parsePointer(op.from);
          if (op.op === 'move') {
            if (op.from === op.path) break;
            if (path.length > from.length && from.every((t, j) => t === path[j])) throw new Error('cannot move a value into itself');
            const value = removeAt(out, from);
            out = addAt(out, path, value, false);
          } else {
            out = addAt(out, path, cloneJson(getAt(out, from)), false);
          }
          break;
        }
        default:
          throw new Error(`unknown op "${String((op as { op?: unknown }).op)}"`);
      }
    } catch (e) {
      throw new PatchError(`${where}: ${(e as Error).message}`);
    }
  });
  return out;
}

function describeOp(op: unknown): string {
  if (!isObject(op)) return String(op);
  const from = typeof op.from === 'string' ? ` from ${op.from}` : '';
  return `${String(op.op)} ${String(op.path)}${from}`;
}
