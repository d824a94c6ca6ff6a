// Strided, batched GEMM with fused epilogues: C[z](m,n) = epilogue(alpha * sum_k A[z](m,k) * B[z](k,n) + beta * C[z](m,n)).
// Every operand is addressed through strides, so transposes, head slices of a fused QKV buffer and the [CLS]-row
// gather need no copies. Batch index z = b * heads + h selects base offsets off + b * off_b + h * off_h.
// Tile: 64x64 outputs per workgroup of 16x16 threads, 4x4 outputs per thread (rows ty+16i, cols tx+16j), K step 16.

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

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> aux: array<f32>;

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

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let bi = wg.z / p.heads;
  let hi = wg.z % p.heads;
  let a_base = p.a_off + bi * p.a_off_b + hi * p.a_off_h;
  let b_base = p.b_off + bi * p.b_off_b + hi * p.b_off_h;
  let c_base = p.c_off + bi * p.c_off_b + hi * p.c_off_h;
  let m0 = wg.y * 64u;
  let n0 = wg.x * 64u;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    // Load 64x16 of A and 16x64 of B, 4 elements per thread; consecutive threads walk the contiguous axis.
    for (var i = 0u; i < 4u; i++) {
      let e = li + i * 256u;
      var mm: u32; var ka: u32;
      if (p.a_cs == 1u) { ka = e % 16u; mm = e / 16u; } else { mm = e % 64u; ka = e / 64u; }
      let gm = m0 + mm;
      let gka = k0 + ka;
      var va = 0.0;
      if (gm < p.M && gka < p.K) { va = A[a_base + gm * p.a_rs + gka * p.a_cs]; }
      As[ka][mm] = va;
      var nn: u32; var kb: u32;
      if (p.b_cs == 1u) { nn = e % 64u; kb = e / 64u; } else { kb = e % 16u; nn = e / 16u; }
      let gn = n0 + nn;
      let gkb = k0 + kb;
      var vb = 0.0;
      if (gn < p.N && gkb < p.K) { vb = B[b_base + gkb * p.b_rs + gn * p.b_cs]; }
      Bs[kb][nn] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk][lid.y + 16u * i]; b[i] = Bs[kk][lid.x + 16u * i]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
      if (n >= p.N) { continue; }
      let idx = c_base + m * p.c_rs + n * p.c_cs;
      var v = p.alpha * acc[i][j];
      if (p.beta != 0.0) { v += p.beta * C[idx]; }
      if (EPILOGUE == 1u) {
        v += bias[n];
      } else if (EPILOGUE == 2u) {
        v += bias[n];
        aux[idx] = v;
        v = gelu(v);
      } else if (EPILOGUE == 3u) {
        v = max(v + bias[n], 0.0);
      } else if (EPILOGUE == 4u) {
        v = tanh(clamp(v + bias[n], -15.0, 15.0)); // clamped: some drivers overflow exp inside tanh
      } else if (EPILOGUE == 5u) {
        v *= gelu_grad(aux[idx]);
      }
      C[idx] = v;
    }
  }
}
