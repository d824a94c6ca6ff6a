// Attention probabilities: for each (z = b*H + h, query i) row of the T x T scores, softmax over keys j < len[b]
// (padded keys get probability 0, as HF's masked_fill with the dtype minimum gives), then attention dropout.
// The 1/sqrt(head_dim) scale is applied by the scores GEMM (alpha). The backward fuses the dropout mask, the
// softmax Jacobian and the scale: dS = scale * P * (dP - sum_j P dP), dP = dPd * mask.
// One workgroup per row; dispatch (T, B*H).

struct Params { T: u32, H: u32, site: u32, p_drop: f32, scale: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> Q: Params;
@group(0) @binding(1) var<uniform> micro: MicroState;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;     // [B]
@group(0) @binding(3) var<storage, read_write> probs: array<f32>; // [B*H, T, T]: scores in, probabilities out
@group(0) @binding(4) var<storage, read_write> dropped: array<f32>; // probabilities after dropout (when p_drop > 0)
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;  // backward: dPd in, dS out

const WG = 64u;
var<workgroup> red: array<f32, 64>;

fn reduce_max(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let i = wg.x;
  let z = wg.y;
  let lid = lid3.x;
  let len = lengths[z / Q.H];
  let base = (z * Q.T + i) * Q.T;
  var m = -3.4e38;
  for (var j = lid; j < len; j += WG) { m = max(m, probs[base + j]); }
  m = reduce_max(lid, m);
  var s = 0.0;
  for (var j = lid; j < len; j += WG) { s += exp(probs[base + j] - m); }
  let inv = 1.0 / reduce_sum(lid, s);
  for (var j = lid; j < Q.T; j += WG) {
    var pr = 0.0;
    if (j < len) { pr = exp(probs[base + j] - m) * inv; }
    probs[base + j] = pr;
    if (Q.p_drop > 0.0) { dropped[base + j] = pr * dropout_scale(micro, Q.site, base + j, Q.p_drop); }
  }
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let i = wg.x;
  let z = wg.y;
  let lid = lid3.x;
  let base = (z * Q.T + i) * Q.T;
  var s = 0.0;
  for (var j = lid; j < Q.T; j += WG) {
    s += probs[base + j] * grad[base + j] * dropout_scale(micro, Q.site, base + j, Q.p_drop);
  }
  s = reduce_sum(lid, s);
  for (var j = lid; j < Q.T; j += WG) {
    let dp = grad[base + j] * dropout_scale(micro, Q.site, base + j, Q.p_drop);
    grad[base + j] = Q.scale * probs[base + j] * (dp - s);
  }
}
