// Seedable PRNG for the samplers: sfc32 (32-bit state words) seeded through splitmix32.
// A generator is identified by (seed, stream): the samplers open stream = number of trials in the
// history, so a suggestion depends only on the seed and the history, never on call order (resume-safe).

function splitmix32(state: number): [next: number, out: number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** Deterministic generator: the same (seed, stream) gives the same sequence in Node and in a browser. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** seed: any finite number (integers up to 2^53 keep all their bits); stream: a sub-sequence index; salt: a 32-bit tag (e.g. hashString(name)). */
  constructor(seed: number, stream = 0, salt = 0) {
    if (!Number.isFinite(seed) || !Number.isFinite(stream)) throw new RangeError(`Rng: seed and stream must be finite (got ${seed}, ${stream})`);
    const lo = Math.trunc(seed) >>> 0;
    const hi = Math.trunc(seed / 4294967296) >>> 0;
    let s = lo ^ Math.imul(hi, 0x27d4eb2d) ^ Math.imul((Math.trunc(stream) >>> 0) + 1, 0x165667b1);
    let out: number;
    [s, out] = splitmix32(s ^ Math.imul(salt >>> 0, 0x9e3779b1));
    this.a = out;
    [s, out] = splitmix32(s);
    this.b = out;
    [s, out] = splitmix32(s);
    this.c = out;
    [, out] = splitmix32(s);
    this.d = out;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** 32-bit FNV-1a of a string: used to give each parameter name its own stream. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
