/**
 * Structured logs: one JSON line per event, with object keys as fields. Never pass secret values.
 * WHEELHOUSE_LOG=debug|info|warn|error|silent (default info; tests default to warn).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function threshold(): number {
  const env = (process.env.WHEELHOUSE_LOG ?? (process.env.VITEST ? 'warn' : 'info')) as Level | 'silent';
  return ORDER[env] ?? ORDER.info;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold()) return;
  const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields });
  process.stderr.write(line + '\n'); // stdout is left to commands' own output
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
