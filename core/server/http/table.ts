/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what
 * `kubectl get` shows: the columns and cell values of kube-apiserver's printers for each kind
 * (priority 1 columns appear with `-o wide`), a Name/Created At table for the others.
 */
import type { KubeObject } from '../../api/types.ts';
import { col, NAME, type Column, type Printer } from './table-util.ts';
import { PRINTERS_CORE } from './table-core.ts';
import { PRINTERS_WORKLOADS } from './table-workloads.ts';

export type { Column, Printer };
export { humanDuration, since } from './table-util.ts';

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: Column[];
  rows: Array<{ cells: unknown[]; object?: unknown }>;
}

const DEFAULT: Printer = {
  columns: [NAME(), { ...col('Created At', 'date'), description: 'CreationTimestamp of the object' }],
  row: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? '<unknown>'],
};

const PRINTERS: Record<string, Printer> = { ...PRINTERS_CORE, ...PRINTERS_WORKLOADS };

export function printerFor(kind: string): Printer {
  return Object.hasOwn(PRINTERS, kind) ? PRINTERS[kind]! : DEFAULT;
}

/** A Table of `objects` of one kind (a list, or one object, or one watch event). */
export function toTable(kind: string, objects: KubeObject[], listMeta: Table['metadata'], includeObject = 'Metadata', now = Date.now()): Table {
  const p = printerFor(kind);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: p.columns,
    rows: objects.map((o) => ({ cells: p.row(o, now), ...rowObject(o, includeObject) })),
  };
}

function rowObject(o: KubeObject, includeObject: string): { object?: unknown } {
  if (includeObject === 'None') return {};
  if (includeObject === 'Object') return { object: o };
  return { object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } };
}

