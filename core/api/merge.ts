/**
 * The merges the API and `kubectl apply` need, over plain JSON:
 *
 *  - JSON merge patch, RFC 7386 (`jsonMergePatch`, `createJsonMergePatch`)
 *  - JSON patch, RFC 6902 (`applyJsonPatch`)
 *  - strategic merge patch for the built-in kinds (`strategicMergePatch`)
 *  - kubectl apply's three-way merge (`threeWayMerge`)
 *
 * The list merge keys of the built-in kinds are in one table: merge/strategies.ts.
 * Every function returns a new value and leaves its inputs alone; failures are PatchErrors.
 */
export { jsonMergePatch, createJsonMergePatch } from './merge/json-merge-patch.ts';
export { applyJsonPatch, parsePointer, PatchError, type JsonPatchOp } from './merge/json-patch.ts';
export { strategicMergePatch } from './merge/strategic-merge-patch.ts';
export { threeWayMerge, type ThreeWayResult } from './merge/three-way.ts';
export { PATCH_STRATEGIES, strategiesFor, type Strategy } from './merge/strategies.ts';
export { jsonEqual, cloneJson, isObject } from './merge/json.ts';
