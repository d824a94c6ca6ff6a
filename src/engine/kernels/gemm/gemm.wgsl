// Strided, batched GEMM with fused epilogues: C[z](m,n) = epilogue(alpha * sum_k A[z](m,k) * B[z](k,n) + beta * C[z](m,n)).
// Every operand is addressed through strides, so transposes, head slices of a fused QKV buffer and the [CLS]-row
// gather need no copies. Batch index z = b * heads + h selects base offsets off + b * off_b + h * off_h.
// Tile: 64x64 outputs per workgroup of 16x16 threads, 4x4 outputs per thread (rows ty+16i, column pairs 2tx+32jj+{0,1}:
// adjacent columns, so a 16-bit C is written as whole u32 words with no neighbour race), K step 16. (A 128x128-tile,
// 8x8-per-thread variant ran 9x slower on an H200 through Dawn/Vulkan, 2.2 against 19.6 TFLOP/s: not kept.)
// Storage: every operand is an array<u32>; HALF_* = 1 stores it as packed binary16 (lib/half.wgsl), else fp32 bits.
// A 16-bit C or aux needs even N, row stride and offsets (the encoder only makes such buffers 16-bit).

struct Params {
  M: u32, N: u32, K: u32, heads: u32,
  a_off: u32, a_off_b: u32, a_off_h: u32, a_rs: u32, a_cs: u32,   // A(m,k) = A[a_base + m*a_rs + k*a_cs]
  b_off: u32, b_off_b: u32, b_off_h: u32, b_rs: u32, b_cs: u32,   // B(k,n) = B[b_base + k*b_rs + n*b_cs]
  c_off: u32, c_off_b: u32, c_off_h: u32, c_rs: u32, c_cs: u32,   // C(m,n) = C[c_base + m*c_rs + n*c_cs]; aux shares C's layout
  alpha: f32, beta: f32, _pad0: u32, _pad1: u32, _pad2: u32,
}

// 0: none; 1: +bias[n]; 2: +bias then exact GELU (pre-activation kept in aux); 3: +bias then ReLU;
// 4: +bias then tanh; 5: multiply by GELU'(aux) (the backward of 2, aux = saved pre-activation).
override EPILOGUE: u32 = 0u;
override HALF_A: u32 = 0u;
override HALF_B: u32 = 0u;
override HALF_C: u32 = 0u;
override HALF_AUX: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<u32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;
@group(0) @binding(3) var<storage, read_write> C: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> aux: array<u32>;

fn ld_a(i: u32) -> f32 { if (HALF_A == 1u) { return half_at(A[i >> 1u], i); } return bitcast<f32>(A[i]); }
fn ld_b(i: u32) -> f32 { if (HALF_B == 1u) { return half_at(B[i >> 1u], i); } return bitcast<f32>(B[i]); }
fn ld_c(i: u32) -> f32 { if (HALF_C == 1u) { return half_at(C[i >> 1u], i); } return bitcast<f32>(C[i]); }
fn ld_aux(i: u32) -> f32 { if (HALF_AUX == 1u) { return half_at(aux[i >> 1u], i); } return bitcast<f32>(aux[i]); }

var<workgroup> As: array<array<f32, 64>, 16>; // [k][m]
var<workgroup> Bs: array<array<f32, 64>, 16>; // [k][n]

// erf to 1.5e-7 (Abramowitz & Stegun 7.1.26); WGSL has no erf.
fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476));
}

fn gelu_grad(x: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_approx(x * 0.7071067811865476));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  return cdf + x * pdf;
}

struct TileBase { a: u32, b: u32, c: u32 }

/** Element offsets of batch z = b * heads + h in A, B and C. */
fn tile_base(z: u32) -> TileBase {
  let bi = z / p.heads;
  let hi = z % p.heads;
  return TileBase(p.a_off + bi * p.a_off_b + hi * p.a_off_h, p.b_off + bi * p.b_off_b + hi * p.b_off_h, p.c_off + bi * p.c_off_b + hi * p.c_off_h);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let base = tile_base(wg.z);
  let a_base = base.a;
  let b_base = base.b;
  let c_base = base.c;
  let m0 = wg.y * 64u;
  let n0 = wg.x * 64u;
  let pair_a = pairable(HALF_A, a_base, p.a_rs, p.a_cs);
  let pair_b = pairable(HALF_B, b_base, p.b_rs, p.b_cs);
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    load_a_tile(a_base, m0, k0, li, pair_a);
    load_b_tile(b_base, n0, k0, li, pair_b);
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk][lid.y + 16u * i]; b[i] = Bs[kk][col(lid.x, i)]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  store_tile(c_base, m0, n0, lid, acc);
}

/**
 * True when a 16-bit operand can be read one u32 word (two neighbours) at a time along its contiguous axis: that axis
 * has stride 1, and the other stride and the base offset are even, so every even element starts a word. Halves the
 * loads and conversions of the 16-bit tiles.
 */
fn pairable(half: u32, base: u32, rs: u32, cs: u32) -> bool {
  return half == 1u && min(rs, cs) == 1u && ((base | max(rs, cs)) & 1u) == 0u;
}

/** Both elements of a 16-bit word (the even one in the low half). */
fn half_pair(word: u32) -> vec2f {
  return vec2f(half_at(word, 0u), half_at(word, 1u));
}

/** As[k][m] = A(m0 + m, k0 + k) for the 64x16 tile, 0 outside A; consecutive threads walk the contiguous axis. */
fn load_a_tile(a_base: u32, m0: u32, k0: u32, li: u32, pairs: bool) {
  if (pairs) {
    for (var i = 0u; i < 2u; i++) {
      let e = li + i * 256u;
      var v = vec2f(0.0);
      if (p.a_cs == 1u) { // pairs along k; a second element beyond K is zero
        let ka = 2u * (e % 8u);
        let mm = e / 8u;
        let gm = m0 + mm;
        let gk = k0 + ka;
        if (gm < p.M && gk < p.K) { v = half_pair(A[(a_base + gm * p.a_rs + gk) >> 1u]); if (gk + 1u >= p.K) { v.y = 0.0; } }
        As[ka][mm] = v.x;
        As[ka + 1u][mm] = v.y;
      } else { // a_rs == 1: pairs along m
        let mm = 2u * (e % 32u);
        let ka = e / 32u;
        let gm = m0 + mm;
        let gk = k0 + ka;
        if (gm < p.M && gk < p.K) { v = half_pair(A[(a_base + gm + gk * p.a_cs) >> 1u]); if (gm + 1u >= p.M) { v.y = 0.0; } }
        As[ka][mm] = v.x;
        As[ka][mm + 1u] = v.y;
      }
    }
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    let e = li + i * 256u;
    var mm: u32; var ka: u32;
    if (p.a_cs == 1u) { ka = e % 16u; mm = e / 16u; } else { mm = e % 64u; ka = e / 64u; }
    let gm = m0 + mm;
    let gka = k0 + ka;
    var va = 0.0;
    if (gm < p.M && gka < p.K) { va = ld_a(a_base + gm * p.a_rs + gka * p.a_cs); }
    As[ka][mm] = va;
  }
}

/** Bs[k][n] = B(k0 + k, n0 + n) for the 16x64 tile, 0 outside B. */
fn load_b_tile(b_base: u32, n0: u32, k0: u32, li: u32, pairs: bool) {
  if (pairs) {
    for (var i = 0u; i < 2u; i++) {
      let e = li + i * 256u;
      var v = vec2f(0.0);
      if (p.b_cs == 1u) { // pairs along n
        let nn = 2u * (e % 32u);
        let kb = e / 32u;
        let gn = n0 + nn;
        let gk = k0 + kb;
        if (gn < p.N && gk < p.K) { v = half_pair(B[(b_base + gk * p.b_rs + gn) >> 1u]); if (gn + 1u >= p.N) { v.y = 0.0; } }
        Bs[kb][nn] = v.x;
        Bs[kb][nn + 1u] = v.y;
      } else { // b_rs == 1: pairs along k
        let kb = 2u * (e % 8u);
        let nn = e / 8u;
        let gn = n0 + nn;
        let gk = k0 + kb;
        if (gn < p.N && gk < p.K) { v = half_pair(B[(b_base + gk + gn * p.b_cs) >> 1u]); if (gk + 1u >= p.K) { v.y = 0.0; } }
        Bs[kb][nn] = v.x;
        Bs[kb + 1u][nn] = v.y;
      }
    }
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    let e = li + i * 256u;
    var nn: u32; var kb: u32;
    if (p.b_cs == 1u) { nn = e % 64u; kb = e / 64u; } else { kb = e % 16u; nn = e / 16u; }
    let gn = n0 + nn;
    let gkb = k0 + kb;
    var vb = 0.0;
    if (gn < p.N && gkb < p.K) { vb = ld_b(b_base + gkb * p.b_rs + gn * p.b_cs); }
    Bs[kb][nn] = vb;
  }
}

// Same tile and thread layout without shared memory or barriers: each thread reads its A and B operands from global
// memory. Slower on GPUs; much faster where barriers are emulated per invocation (CPU adapters such as SwiftShader).
@compute @workgroup_size(16, 16)
fn main_direct(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let base = tile_base(wg.z);
  let a_base = base.a;
  let b_base = base.b;
  let c_base = base.c;
  let m0 = wg.y * 64u;
  let n0 = wg.x * 64u;
  var acc: array<array<f32, 4>, 4>;
  var a: array<f32, 4>;
  var b: array<f32, 4>;
  for (var k = 0u; k < p.K; k++) {
    for (var i = 0u; i < 4u; i++) {
      let gm = m0 + lid.y + 16u * i;
      a[i] = 0.0;
      if (gm < p.M) { a[i] = ld_a(a_base + gm * p.a_rs + k * p.a_cs); }
      let gn = n0 + col(lid.x, i);
      b[i] = 0.0;
      if (gn < p.N) { b[i] = ld_b(b_base + k * p.b_rs + gn * p.b_cs); }
    }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
    }
  }
  store_tile(c_base, m0, n0, lid, acc);
}

/** Writes a thread's 4x4 outputs (rows ty+16i, column pairs of col()) through the epilogue. */
fn store_tile(c_base: u32, m0: u32, n0: u32, lid: vec3u, acc: array<array<f32, 4>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    for (var jj = 0u; jj < 2u; jj++) {
      store_pair(c_base, m0 + lid.y + 16u * i, n0 + col(lid.x, 2u * jj), acc[i][2u * jj], acc[i][2u * jj + 1u]);
    }
  }
}

/** Outputs (m, n) and (m, n+1) through the epilogue; a 16-bit C takes them as one u32 word. */
fn store_pair(c_base: u32, m: u32, n: u32, a0: f32, a1: f32) {
  if (m >= p.M || n >= p.N) { return; }
  let idx = c_base + m * p.c_rs + n * p.c_cs;
  let v0 = epilogue(a0, idx, n);
  if (HALF_C == 1u) {
    // n + 1 < N: N is even for a 16-bit C; idx is even (c_cs = 1).
    let v1 = epilogue(a1, idx + 1u, n + 1u);
    C[idx >> 1u] = pack_half2(v0, v1);
    if (EPILOGUE == 2u && HALF_AUX == 1u) { aux[idx >> 1u] = pack_half2(pre_act(a0, idx, n), pre_act(a1, idx + 1u, n + 1u)); }
  } else {
    C[idx] = bitcast<u32>(v0);
    if (n + 1u < p.N) {
      let idx1 = c_base + m * p.c_rs + (n + 1u) * p.c_cs;
      C[idx1] = bitcast<u32>(epilogue(a1, idx1, n + 1u));
    }
  }
}

/** Column offset in the tile of output j (0..3) of thread column tx: pairs (2tx, 2tx+1) and (32+2tx, 33+2tx). */
fn col(tx: u32, j: u32) -> u32 {
  return 2u * tx + 32u * (j >> 1u) + (j & 1u);
}

/** alpha * acc + beta * C (+ bias): the value before the activation. */
fn pre_act(acc: f32, idx: u32, n: u32) -> f32 {
  var v = p.alpha * acc;
  if (p.beta != 0.0) { v += p.beta * ld_c(idx); }
  if (EPILOGUE >= 1u && EPILOGUE <= 4u) { v += bias[n]; }
  return v;
}

fn epilogue(acc: f32, idx: u32, n: u32) -> f32 {
  var v = pre_act(acc, idx, n);
  if (EPILOGUE == 2u) {
    if (HALF_AUX == 0u) { aux[idx] = bitcast<u32>(v); } // a 16-bit aux is written in pairs by the caller
    v = gelu(v);
  } else if (EPILOGUE == 3u) {
    v = max(v, 0.0);
  } else if (EPILOGUE == 4u) {
    v = tanh(clamp(v, -15.0, 15.0)); // clamped: some drivers overflow exp inside tanh
  } else if (EPILOGUE == 5u) {
    v *= gelu_grad(ld_aux(idx));
  }
  return v;
}
