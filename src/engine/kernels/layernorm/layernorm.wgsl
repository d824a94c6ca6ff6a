// Residual + LayerNorm of a post-LN block: y = LN(dropout(a) + b) * gamma + beta over rows of width D.
// One workgroup per row. The forward keeps mean and 1/std per row; the backward recomputes x_hat from a and b.

// Mixed precision: HALF_A / HALF_B / HALF_Y = 1 store a, b, y as packed binary16 (lib/half.wgsl); statistics and
// gradients stay fp32. A 16-bit y needs an even D (each thread writes whole words).
override HALF_A: u32 = 0u;
override HALF_B: u32 = 0u;
override HALF_Y: u32 = 0u;

struct Params { rows: u32, D: u32, eps: f32, site: u32, p_drop: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> micro: MicroState;
@group(0) @binding(2) var<storage, read> a: array<u32>;
@group(0) @binding(3) var<storage, read> b: array<u32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<u32>;      // forward: output [rows, D]
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;  // [rows, 2] mean, rstd
@group(0) @binding(8) var<storage, read> dy: array<f32>;          // backward: incoming gradient [rows, D]
@group(0) @binding(9) var<storage, read_write> d_b: array<f32>;    // gradient of the residual input b (= of the sum)
@group(0) @binding(10) var<storage, read_write> d_a: array<f32>;   // gradient of a (dropout applied)
@group(0) @binding(11) var<storage, read_write> dy_xhat: array<f32>; // dy * x_hat, for the gamma gradient column sums


fn ld_a(i: u32) -> f32 { if (HALF_A == 1u) { return half_at(a[i >> 1u], i); } return bitcast<f32>(a[i]); }
fn ld_b(i: u32) -> f32 { if (HALF_B == 1u) { return half_at(b[i >> 1u], i); } return bitcast<f32>(b[i]); }

fn summed(row: u32, d: u32) -> f32 {
  let i = row * P.D + d;
  return ld_a(i) * dropout_scale(micro, P.site, i, P.p_drop) + ld_b(i);
}

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let row = wg.x + wg.y * 65535u;
  if (row >= P.rows) { return; }
  let lid = lid3.x;
  var s = 0.0;
  for (var d = lid; d < P.D; d += WG) { s += summed(row, d); }
  let mean = reduce2(lid, s, 0.0).x / f32(P.D);
  var v = 0.0;
  for (var d = lid; d < P.D; d += WG) { let c = summed(row, d) - mean; v += c * c; }
  let rstd = inverseSqrt(reduce2(lid, v, 0.0).x / f32(P.D) + P.eps);
  if (HALF_Y == 1u) {
    for (var d = 2u * lid; d < P.D; d += 2u * WG) {
      let y0 = (summed(row, d) - mean) * rstd * gamma[d] + beta[d];
      let y1 = (summed(row, d + 1u) - mean) * rstd * gamma[d + 1u] + beta[d + 1u];
      y[(row * P.D + d) >> 1u] = pack_half2(y0, y1);
    }
  } else {
    for (var d = lid; d < P.D; d += WG) {
      y[row * P.D + d] = bitcast<u32>((summed(row, d) - mean) * rstd * gamma[d] + beta[d]);
    }
  }
  if (lid == 0u) { stats[2u * row] = mean; stats[2u * row + 1u] = rstd; }
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let row = wg.x + wg.y * 65535u;
  if (row >= P.rows) { return; }
  let lid = lid3.x;
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  var s1 = 0.0; // sum g*dy
  var s2 = 0.0; // sum g*dy*x_hat
  for (var d = lid; d < P.D; d += WG) {
    let i = row * P.D + d;
    let xh = (summed(row, d) - mean) * rstd;
    let gdy = gamma[d] * dy[i];
    s1 += gdy;
    s2 += gdy * xh;
    dy_xhat[i] = dy[i] * xh;
  }
  let sums = reduce2(lid, s1, s2) / f32(P.D);
  for (var d = lid; d < P.D; d += WG) {
    let i = row * P.D + d;
    let xh = (summed(row, d) - mean) * rstd;
    let dx = rstd * (gamma[d] * dy[i] - sums.x - xh * sums.y);
    d_b[i] = dx;
    d_a[i] = dx * dropout_scale(micro, P.site, i, P.p_drop);
  }
}
