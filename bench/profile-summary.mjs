// Summarizes a V8 .cpuprofile: self time by function and by file, the top entries; with LAST,
// only the profile's last LAST seconds (the steady state after a start-up).
//   node bench/profile-summary.mjs FILE [N] [LAST]
import { readFileSync } from 'node:fs';

const [file, n = '25', last] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, 'utf8'));
const from = last ? p.endTime - Number(last) * 1e6 : p.startTime;
const dt = new Map();
let t = p.startTime;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i] ?? 0;
  if (t >= from) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const total = p.endTime - from;
const byFn = new Map();
const byFile = new Map();
for (const node of p.nodes) {
  const us = dt.get(node.id) ?? 0;
  if (!us) continue;
  const f = node.callFrame;
  const where = (f.url || '(native)').replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  const fn = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(2).padStart(6)} %  ${k}`);
};
console.log(`profile: ${(total / 1e6).toFixed(1)} s`);
show('self time by file', byFile);
show('self time by function', byFn);
