/**
 * /openapi/v2 as protobuf (gnostic's openapi_v2.Document), which kubectl 1.27–1.29 fetch for
 * `kubectl apply` (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
 * Only what those clients read is encoded: definitions with their types, properties, items,
 * additionalProperties, $ref, description, required and the x-kubernetes-* extensions (as
 * YAML, as kube-apiserver stores them).
 */
import { stringify } from 'yaml';
import type { Schema } from './openapi-schema.ts';

export const PROTO_OPENAPI_V2 = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const bytesField = (field: number, b: Buffer) => Buffer.concat([tag(field, 2), varint(b.length), b]);
const strField = (field: number, s: string) => bytesField(field, Buffer.from(s, 'utf8'));
const boolField = (field: number, v: boolean) => Buffer.concat([tag(field, 0), varint(v ? 1 : 0)]);

/** gnostic Schema fields: _ref 1, format 2, description 4, required 19, additional_properties 21, type 22, items 23, all_of 24, properties 25, vendor_extension 31. */
function schema(s: Schema): Buffer {
  const parts: Buffer[] = [];
  let ref = s.$ref as string | undefined;
  let allOf = s.allOf as Schema[] | undefined;
  if (!ref && allOf?.length === 1 && allOf[0]!.$ref) {
    ref = allOf[0]!.$ref; // v2 clients read `$ref` beside a description, not allOf
    allOf = undefined;
  }
  if (ref) parts.push(strField(1, ref));
  if (s.format) parts.push(strField(2, s.format));
  if (s.description) parts.push(strField(4, s.description));
  for (const r of (s.required as string[]) ?? []) parts.push(strField(19, r));
  if (s.additionalProperties && typeof s.additionalProperties === 'object') parts.push(bytesField(21, bytesField(1, schema(s.additionalProperties))));
  else if (typeof s.additionalProperties === 'boolean') parts.push(bytesField(21, boolField(2, s.additionalProperties)));
  if (s.type) parts.push(bytesField(22, strField(1, s.type)));
  if (s.items) parts.push(bytesField(23, bytesField(1, schema(s.items))));
  for (const a of allOf ?? []) parts.push(bytesField(24, schema(a)));
  if (s.properties) {
    const props = Object.entries(s.properties as Record<string, Schema>).map(([k, v]) => bytesField(1, Buffer.concat([strField(1, k), bytesField(2, schema(v))])));
    parts.push(bytesField(25, Buffer.concat(props)));
  }
  for (const [k, v] of Object.entries(s)) {
    if (!k.startsWith('x-')) continue;
    const any = strField(2, stringify(v)); // Any.yaml
    parts.push(bytesField(31, Buffer.concat([strField(1, k), bytesField(2, any)])));
  }
  return Buffer.concat(parts);
}

/** Document: swagger 1, info 2 (title 1, version 2), paths 8, definitions 9 (NamedSchema 1: name 1, value 2). */
export function encodeOpenApiV2(defs: Record<string, Schema>, version: string): Buffer {
  const named = Object.entries(defs).map(([name, s]) => bytesField(1, Buffer.concat([strField(1, name), bytesField(2, schema(s))])));
  return Buffer.concat([
    strField(1, '2.0'),
    bytesField(2, Buffer.concat([strField(1, 'Kubernetes'), strField(2, version)])),
    bytesField(8, Buffer.alloc(0)),
    bytesField(9, Buffer.concat(named)),
  ]);
}
