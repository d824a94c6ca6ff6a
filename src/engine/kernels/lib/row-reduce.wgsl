// Row reductions for kernels that give one 64-thread workgroup to a row (LayerNorm, embeddings): two sums at once,
// so a mean and a second moment (or the two LayerNorm backward sums) cost one tree of barriers.

const WG = 64u;
var<workgroup> red: array<f32, 64>;
var<workgroup> red2: array<f32, 64>;

/** Workgroup-wide sums of v1 and v2 (every thread gets both). */
fn reduce2(lid: u32, v1: f32, v2: f32) -> vec2f {
  red[lid] = v1;
  red2[lid] = v2;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; red2[lid] += red2[lid + s]; }
    workgroupBarrier();
  }
  let r = vec2f(red[0], red2[0]);
  workgroupBarrier();
  return r;
}
