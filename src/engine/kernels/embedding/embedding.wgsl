// Embeddings: y = dropout(LN(word[id] + pos[t] + type[0]) * gamma + beta) for rows r = b*T + t (BERT adds the
// token-type row 0, TYPES = 1; DistilBERT has none, TYPES = 0). One workgroup per row; the backward recomputes the sum.
// Word-embedding gradients without float atomics (DESIGN.md decision 3): the CPU groups the batch's positions by token
// id; one workgroup per unique token sums its positions' gradients in a fixed order: deterministic and exact.

struct Params { rows: u32, D: u32, T: u32, eps: f32, site: u32, p_drop: f32, batch: u32, _p0: u32 }
override TYPES: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> micro: MicroState;
@group(0) @binding(2) var<storage, read> ids: array<u32>;         // [rows]
@group(0) @binding(3) var<storage, read> word: array<f32>;        // [vocab, D]
@group(0) @binding(4) var<storage, read> pos: array<f32>;         // [max_pos, D]
@group(0) @binding(5) var<storage, read> ttype: array<f32>;       // [types, D] (row 0 used)
@group(0) @binding(6) var<storage, read> gamma: array<f32>;
@group(0) @binding(7) var<storage, read> beta: array<f32>;
@group(0) @binding(8) var<storage, read_write> y: array<f32>;     // [rows, D]
@group(0) @binding(9) var<storage, read_write> stats: array<f32>; // [rows, 2]
@group(0) @binding(10) var<storage, read> dy: array<f32>;         // gradient of y
@group(0) @binding(11) var<storage, read_write> d_sum: array<f32>;   // gradient of the embedding sum [rows, D]
@group(0) @binding(12) var<storage, read_write> dy_eff: array<f32>;  // [rows, D] dy after dropout (beta gradient)
@group(0) @binding(13) var<storage, read_write> dy_xhat: array<f32>; // [rows, D] dy * x_hat (gamma gradient)


fn summed(row: u32, d: u32) -> f32 {
  let t = row % P.T;
  var e = word[ids[row] * P.D + d] + pos[t * P.D + d];
  if (TYPES == 1u) { e += ttype[d]; }
  return e;
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
  for (var d = lid; d < P.D; d += WG) {
    let i = row * P.D + d;
    y[i] = ((summed(row, d) - mean) * rstd * gamma[d] + beta[d]) * dropout_scale(micro, P.site, i, P.p_drop);
  }
  if (lid == 0u) { stats[2u * row] = mean; stats[2u * row + 1u] = rstd; }
}

@compute @workgroup_size(64)
fn backward_ln(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let row = wg.x + wg.y * 65535u;
  if (row >= P.rows) { return; }
  let lid = lid3.x;
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var d = lid; d < P.D; d += WG) {
    let i = row * P.D + d;
    let g = dy[i] * dropout_scale(micro, P.site, i, P.p_drop);
    let xh = (summed(row, d) - mean) * rstd;
    dy_eff[i] = g;
    dy_xhat[i] = g * xh;
    s1 += gamma[d] * g;
    s2 += gamma[d] * g * xh;
  }
  let sums = reduce2(lid, s1, s2) / f32(P.D);
  for (var d = lid; d < P.D; d += WG) {
    let i = row * P.D + d;
    let xh = (summed(row, d) - mean) * rstd;
    d_sum[i] = rstd * (gamma[d] * dy_eff[i] - sums.x - xh * sums.y);
  }
}

// --- word and position gradients: separate bindings (group 0 of their own pipelines) ---
struct GradParams { rows: u32, D: u32, T: u32, batch: u32 }
@group(0) @binding(0) var<uniform> G: GradParams;
@group(0) @binding(1) var<storage, read> g_sum: array<f32>;         // d_sum [rows, D]
@group(0) @binding(2) var<storage, read> groups: array<u32>;        // [unique_count, offsets[U+1], token ids[U], positions[rows]] see inputs.ts
@group(0) @binding(3) var<storage, read_write> d_table: array<f32>; // word gradient [vocab, D] or position gradient [max_pos, D]

// One workgroup per unique token u: d_word[id_u] += sum of d_sum over the positions holding id_u.
@compute @workgroup_size(64)
fn backward_word(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let u = wg.x + wg.y * 65535u;
  let unique = groups[0];
  if (u >= unique) { return; }
  let offsets = 1u;
  let tokens = 1u + G.rows + 1u;
  let positions = tokens + G.rows;
  let begin = groups[offsets + u];
  let end = groups[offsets + u + 1u];
  let id = groups[tokens + u];
  for (var d = lid.x; d < G.D; d += 64u) {
    var acc = 0.0;
    for (var k = begin; k < end; k++) { acc += g_sum[groups[positions + k] * G.D + d]; }
    d_table[id * G.D + d] += acc;
  }
}

// One thread per (t, d): d_pos[t] += sum over the batch of d_sum[b*T + t].
@compute @workgroup_size(64)
fn backward_pos(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= G.T * G.D) { return; }
  let t = i / G.D;
  let d = i % G.D;
  var acc = 0.0;
  for (var b = 0u; b < G.batch; b++) { acc += g_sum[(b * G.T + t) * G.D + d]; }
  d_table[i] += acc;
}
