/**
 * API errors as Kubernetes `Status` objects: the reason and HTTP code Kubernetes uses, a message
 * that names the object and the field, and every cause listed.
 */
import type { Status, StatusCause } from './types.ts';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Invalid: 422,
  Expired: 410,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

export interface ErrorTarget {
  /** Kind, e.g. `Deployment`. */
  kind?: string;
  /** REST group, e.g. `apps` ('' for core). */
  group?: string;
  name?: string;
}

/** An error that carries a Kubernetes Status. Thrown by every layer; crosses IPC and HTTP as is. */
export class ApiError extends Error {
  readonly status: Status;
  constructor(reason: StatusReason, message: string, details?: Status['details']) {
    super(message);
    this.name = 'ApiError';
    this.status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code: CODES[reason],
      ...(details ? { details } : {}),
    };
  }
  get reason(): StatusReason {
    return this.status.reason as StatusReason;
  }
  get code(): number {
    return this.status.code!;
  }
  get causes(): StatusCause[] {
    return this.status.details?.causes ?? [];
  }
  /** Rebuild an ApiError from a Status that crossed a wire. */
  static fromStatus(s: Status): ApiError {
    const e = new ApiError((s.reason as StatusReason) ?? 'InternalError', s.message ?? 'unknown error', s.details);
    if (s.code) e.status.code = s.code;
    return e;
  }
}

export function isApiError(e: unknown, reason?: StatusReason): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}

function resourceName(t: ErrorTarget): string {
  return t.kind ? t.kind.toLowerCase() + 's' : 'resource';
}

function qualified(t: ErrorTarget, plural?: string): string {
  const p = plural ?? resourceName(t);
  return t.group ? `${p}.${t.group}` : p;
}

export function notFound(t: ErrorTarget, plural?: string): ApiError {
  return new ApiError('NotFound', `${qualified(t, plural)} "${t.name}" not found`, {
    name: t.name,
    group: t.group,
    kind: plural ?? resourceName(t),
  });
}

export function alreadyExists(t: ErrorTarget, plural?: string): ApiError {
  return new ApiError('AlreadyExists', `${qualified(t, plural)} "${t.name}" already exists`, {
    name: t.name,
    group: t.group,
    kind: plural ?? resourceName(t),
  });
}

export function conflict(t: ErrorTarget, why: string, plural?: string): ApiError {
  return new ApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(t, plural)} "${t.name}": ${why}`,
    { name: t.name, group: t.group, kind: plural ?? resourceName(t) },
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError('BadRequest', message);
}

export function gone(message: string): ApiError {
  return new ApiError('Expired', message);
}

/** One validation problem: the field path, what is wrong, and the Kubernetes cause type. */
export interface FieldError {
  field: string;
  /** FieldValueRequired, FieldValueInvalid, FieldValueDuplicate, FieldValueNotSupported, FieldValueForbidden, FieldValueTooLong */
  type: string;
  message: string;
}

export const Req = (field: string, message = 'Required value'): FieldError => ({
  field,
  type: 'FieldValueRequired',
  message,
});
export const Inv = (field: string, value: unknown, detail: string): FieldError => ({
  field,
  type: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
});
export const Dup = (field: string, value: unknown): FieldError => ({
  field,
  type: 'FieldValueDuplicate',
  message: `Duplicate value: ${JSON.stringify(value)}`,
});
export const NotSupported = (field: string, value: unknown, allowed: readonly string[]): FieldError => ({
  field,
  type: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
});
export const Forbidden = (field: string, detail: string): FieldError => ({
  field,
  type: 'FieldValueForbidden',
  message: `Forbidden: ${detail}`,
});
export const TooLong = (field: string, max: number): FieldError => ({
  field,
  type: 'FieldValueTooLong',
  message: `Too long: must have at most ${max} bytes`,
});

/**
 * `Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or
 * equal to 0, …]` — Kubernetes' wording, every cause listed.
 */
export function invalid(t: ErrorTarget, errors: FieldError[]): ApiError {
  const kindQ = t.group ? `${t.kind}.${t.group}` : t.kind;
  const parts = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError('Invalid', `${kindQ} "${t.name ?? ''}" is invalid: ${summary}`, {
    name: t.name,
    group: t.group,
    kind: t.kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}
