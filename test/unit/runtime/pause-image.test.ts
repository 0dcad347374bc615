import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pauseArchFor, pauseElf } from '../../../core/runtime/docker/pause-elf.ts';
import { pauseBuildContext } from '../../../core/runtime/docker/pause-image.ts';
import { tar } from '../../../core/runtime/docker/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'wh-pause-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pause ELF', () => {
  it.each([
    ['x86_64', 62],
    ['aarch64', 183],
  ] as const)('%s: a static ELF64 executable with one R+X PT_LOAD and the entry point after the headers', (arch, machine) => {
    const elf = pauseElf(arch);
    expect(elf.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(elf[4]).toBe(2); // 64-bit
    expect(elf[5]).toBe(1); // little endian
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC
    expect(elf.readUInt16LE(18)).toBe(machine);
    expect(elf.readBigUInt64LE(24)).toBe(0x400000n + 120n); // entry
    expect(elf.readUInt16LE(56)).toBe(1); // one program header
    expect(elf.readUInt32LE(64)).toBe(1); // PT_LOAD
    expect(elf.readUInt32LE(68)).toBe(5); // R+X
    expect(elf.readBigUInt64LE(64 + 32)).toBe(BigInt(elf.length)); // filesz covers the file
    expect(elf.length).toBeLessThan(400);
  });

  it('aarch64: the instruction words (checked against llvm-mc) are as expected', () => {
    const code = pauseElf('aarch64').subarray(120);
    const words = Array.from({ length: 22 }, (_, i) => code.readUInt32LE(i * 4));
    expect(words.slice(0, 6)).toEqual([0xd28001e0 /* mov x0,#15 */, 0x100002a1 /* adr x1,#84 */, 0xd2800002, 0xd2800103 /* mov x3,#8 */, 0xd28010c8 /* mov x8,#134 */, 0xd4000001 /* svc #0 */]);
    expect(words[18]).toBe(0x17fffff9); // b #-28 (back to the ppoll loop)
    expect(words.slice(19, 22)).toEqual([0xd2800000, 0xd2800bc8 /* mov x8,#94 exit_group */, 0xd4000001]);
  });

  it('maps engine architectures', () => {
    expect(pauseArchFor('amd64')).toBe('x86_64');
    expect(pauseArchFor('arm64')).toBe('aarch64');
    expect(() => pauseArchFor('s390x')).toThrow(/no pause binary for the engine's architecture "s390x"/);
  });

  it.runIf(process.arch === 'x64' && process.platform === 'linux')('x86_64: runs until SIGTERM, then exits 0; ignores SIGCHLD', async () => {
    const file = join(dir, 'pause');
    writeFileSync(file, pauseElf('x86_64'));
    chmodSync(file, 0o755);
    const child = spawn(file, [], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    expect(child.exitCode).toBeNull(); // still waiting
    const status = spawnSync('cat', [`/proc/${child.pid}/status`]).stdout.toString();
    const sigIgn = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
    const sigCgt = BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
    expect((sigIgn >> 16n) & 1n).toBe(1n); // SIGCHLD (17) ignored: the kernel reaps zombies
    expect((sigCgt >> 14n) & 1n).toBe(1n); // SIGTERM (15) caught
    expect((sigCgt >> 1n) & 1n).toBe(1n); // SIGINT (2) caught
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

describe('tar writer and build context', () => {
  it('writes a ustar archive that tar(1) reads', () => {
    const archive = tar([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: 'bin/tool', data: Buffer.from([1, 2, 3]), mode: 0o755 },
      { name: `${'d'.repeat(120)}/file.txt`, data: 'long path' },
    ]);
    expect(archive.length % 512).toBe(0);
    expect(archive.subarray(257, 263).toString('binary')).toBe('ustar\u0000');
    const file = join(dir, 'a.tar');
    writeFileSync(file, archive);
    const list = spawnSync('tar', ['-tvf', file]);
    if (list.error) return; // no tar(1) here: the header checks above stand
    const lines = list.stdout.toString().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^-rw-r--r-- root\/root\s+13 .* Dockerfile$/);
    expect(lines[1]).toMatch(/^-rwxr-xr-x root\/root\s+3 .* bin\/tool$/);
    expect(lines[2]).toMatch(/d{120}\/file\.txt$/);
    expect(spawnSync('tar', ['-xOf', file, 'Dockerfile']).stdout.toString()).toBe('FROM scratch\n');
  });

  it('the pause build context holds a Dockerfile FROM scratch and the executable', () => {
    const { context, sha256 } = pauseBuildContext('amd64');
    const file = join(dir, 'ctx.tar');
    writeFileSync(file, context);
    const dockerfile = spawnSync('tar', ['-xOf', file, 'Dockerfile']);
    if (dockerfile.error) return;
    expect(dockerfile.stdout.toString()).toMatch(/^FROM scratch\nCOPY pause \/pause\n.*ENTRYPOINT \["\/pause"\]/s);
    expect(dockerfile.stdout.toString()).toContain(sha256);
    expect(spawnSync('tar', ['-tvf', file]).stdout.toString()).toMatch(/-rwxr-xr-x .* pause/);
  });
});
