/**
 * The pause binary, assembled byte by byte: a static ELF64 executable with one PT_LOAD segment
 * and no libc. What it does, like Kubernetes' pause.c:
 *   - SIGTERM / SIGINT → exit_group(0) (a sandbox stops at once instead of waiting for SIGKILL);
 *   - SIGCHLD ignored → the kernel reaps zombies when the pod shares its PID namespace;
 *   - then waits for signals forever: pause() on x86_64; aarch64 has no pause syscall, so
 *     ppoll(NULL, 0, NULL, NULL) there (the same thing: sleep until a signal).
 * About 250 bytes per architecture.
 */
export type PauseArch = 'x86_64' | 'aarch64';

const BASE = 0x400000n;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const CODE_OFFSET = EHDR_SIZE + PHDR_SIZE; // 120

const SIGINT = 2;
const SIGTERM = 15;
const SIGCHLD = 17;
const SIG_IGN = 1n;
const SA_RESTORER = 0x04000000n;

/** Docker/Go architecture names → ours. */
export function pauseArchFor(engineArch: string): PauseArch {
  const a = engineArch.toLowerCase();
  if (a === 'x86_64' || a === 'amd64') return 'x86_64';
  if (a === 'aarch64' || a === 'arm64' || a === 'arm64v8') return 'aarch64';
  throw new Error(`no pause binary for the engine's architecture "${engineArch}" (supported: x86_64/amd64, aarch64/arm64)`);
}

export function pauseElf(arch: PauseArch): Buffer {
  const { code, machine } = arch === 'x86_64' ? x86_64() : aarch64();
  const file = Buffer.concat([elfHeader(machine), programHeader(CODE_OFFSET + code.length), code]);
  return file;
}

function elfHeader(machine: number): Buffer {
  const h = Buffer.alloc(EHDR_SIZE);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* SysV ABI */], 0);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(machine, 18);
  h.writeUInt32LE(1, 20); // EV_CURRENT
  h.writeBigUInt64LE(BASE + BigInt(CODE_OFFSET), 24); // e_entry
  h.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff
  h.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  h.writeUInt32LE(0, 48); // e_flags
  h.writeUInt16LE(EHDR_SIZE, 52);
  h.writeUInt16LE(PHDR_SIZE, 54);
  h.writeUInt16LE(1, 56); // e_phnum
  h.writeUInt16LE(64, 58); // e_shentsize
  h.writeUInt16LE(0, 60); // e_shnum
  h.writeUInt16LE(0, 62); // e_shstrndx
  return h;
}

function programHeader(fileSize: number): Buffer {
  const p = Buffer.alloc(PHDR_SIZE);
  p.writeUInt32LE(1, 0); // PT_LOAD
  p.writeUInt32LE(5, 4); // PF_R | PF_X
  p.writeBigUInt64LE(0n, 8); // p_offset: the whole file, headers included
  p.writeBigUInt64LE(BASE, 16); // p_vaddr
  p.writeBigUInt64LE(BASE, 24); // p_paddr
  p.writeBigUInt64LE(BigInt(fileSize), 32); // p_filesz
  p.writeBigUInt64LE(BigInt(fileSize), 40); // p_memsz
  p.writeBigUInt64LE(0x10000n, 48); // p_align (64 KiB: fine for 4K/16K/64K-page kernels)
  return p;
}

/** The kernel's struct sigaction for rt_sigaction: handler, flags, restorer, mask (8 bytes each). */
function sigaction(handler: bigint, flags: bigint, restorer: bigint): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(handler, 0);
  b.writeBigUInt64LE(flags, 8);
  b.writeBigUInt64LE(restorer, 16);
  b.writeBigUInt64LE(0n, 24); // sa_mask
  return b;
}

const vaddr = (codeOffset: number) => BASE + BigInt(CODE_OFFSET + codeOffset);

function x86_64(): { code: Buffer; machine: number } {
  const SYS_RT_SIGACTION = 13;
  const SYS_PAUSE = 34;
  const SYS_EXIT_GROUP = 231;
  const bytes: number[] = [];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const patches: Array<{ at: number; target: 'act' | 'ign' }> = [];
  const emit = (...b: number[]) => bytes.push(...b);
  const movEdi = (v: number) => emit(0xbf, ...u32(v)); // mov edi, imm32
  const movEax = (v: number) => emit(0xb8, ...u32(v)); // mov eax, imm32
  const syscall = () => emit(0x0f, 0x05);
  const lea = (target: 'act' | 'ign') => {
    emit(0x48, 0x8d, 0x35); // lea rsi, [rip + disp32]
    patches.push({ at: bytes.length, target });
    emit(0, 0, 0, 0);
  };

  lea('act');
  emit(0x31, 0xd2); // xor edx, edx        (oldact = NULL)
  emit(0x41, 0xba, ...u32(8)); // mov r10d, 8  (sizeof(sigset_t))
  movEdi(SIGTERM);
  movEax(SYS_RT_SIGACTION);
  syscall(); // rsi, rdx, r10 survive syscalls (only rax, rcx, r11 are clobbered)
  movEdi(SIGINT);
  movEax(SYS_RT_SIGACTION);
  syscall();
  lea('ign');
  movEdi(SIGCHLD);
  movEax(SYS_RT_SIGACTION);
  syscall();
  const loop = bytes.length;
  movEax(SYS_PAUSE);
  syscall();
  emit(0xeb, (loop - (bytes.length + 2)) & 0xff); // jmp short loop
  const handler = bytes.length;
  emit(0x31, 0xff); // xor edi, edi
  movEax(SYS_EXIT_GROUP);
  syscall();

  while (bytes.length % 8) emit(0x90); // nop padding
  const actAt = bytes.length;
  // x86_64 refuses to deliver a signal to a handler without SA_RESTORER; the handler never
  // returns, so the restorer is never used — point it at the handler.
  const act = sigaction(vaddr(handler), SA_RESTORER, vaddr(handler));
  const ignAt = actAt + act.length;
  const ign = sigaction(SIG_IGN, 0n, 0n);
  const code = Buffer.concat([Buffer.from(bytes), act, ign]);
  for (const p of patches) {
    const target = p.target === 'act' ? actAt : ignAt;
    code.writeInt32LE(target - (p.at + 4), p.at); // relative to the next instruction
  }
  return { code, machine: 62 /* EM_X86_64 */ };
}

function aarch64(): { code: Buffer; machine: number } {
  const SYS_PPOLL = 73;
  const SYS_EXIT_GROUP = 94;
  const SYS_RT_SIGACTION = 134;
  const words: number[] = [];
  const patches: Array<{ at: number; target: 'act' | 'ign'; reg: number }> = [];
  const movz = (rd: number, imm16: number) => words.push((0xd2800000 | (imm16 << 5) | rd) >>> 0); // movz xd, #imm16
  const svc = () => words.push(0xd4000001); // svc #0
  const adr = (rd: number, target: 'act' | 'ign') => {
    patches.push({ at: words.length, target, reg: rd });
    words.push(0);
  };

  movz(0, SIGTERM);
  adr(1, 'act');
  movz(2, 0); // oldact = NULL
  movz(3, 8); // sizeof(sigset_t)
  movz(8, SYS_RT_SIGACTION);
  svc(); // only x0 is written by a syscall
  movz(0, SIGINT);
  svc();
  movz(0, SIGCHLD);
  adr(1, 'ign');
  svc();
  const loop = words.length;
  for (let r = 0; r <= 4; r++) movz(r, 0); // ppoll(NULL, 0, NULL, NULL, 0)
  movz(8, SYS_PPOLL);
  svc();
  words.push((0x14000000 | ((loop - words.length) & 0x3ffffff)) >>> 0); // b loop
  const handler = words.length * 4;
  movz(0, 0);
  movz(8, SYS_EXIT_GROUP);
  svc();

  if (words.length % 2) words.push(0xd503201f); // nop, to 8-byte alignment
  const actAt = words.length * 4;
  const act = sigaction(vaddr(handler), 0n, 0n);
  const ignAt = actAt + act.length;
  const ign = sigaction(SIG_IGN, 0n, 0n);
  for (const p of patches) {
    const off = (p.target === 'act' ? actAt : ignAt) - p.at * 4;
    const immlo = off & 3;
    const immhi = (off >> 2) & 0x7ffff;
    words[p.at] = (0x10000000 | (immlo << 29) | (immhi << 5) | p.reg) >>> 0; // adr xd, label
  }
  const text = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => text.writeUInt32LE(w, i * 4));
  return { code: Buffer.concat([text, act, ign]), machine: 183 /* EM_AARCH64 */ };
}
