// Column sums of a [rows, N] matrix added into a destination (bias, LayerNorm gamma/beta gradients), in two stages
// so that no float atomics are needed and the order is fixed: `partial` sums chunks of 256 rows into [chunks, N],
// `finalize` adds the chunk sums into dst[N] (accumulating, for gradient accumulation over micro-batches).

struct Params { rows: u32, N: u32, chunks: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

const ROWS_PER_CHUNK = 256u;

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let n = gid.x;
  let chunk = wg.y;
  if (n >= P.N) { return; }
  let r0 = chunk * ROWS_PER_CHUNK;
  let r1 = min(r0 + ROWS_PER_CHUNK, P.rows);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) { acc += src[r * P.N + n]; }
  partials[chunk * P.N + n] = acc;
}

@compute @workgroup_size(64)
fn finalize(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= P.N) { return; }
  var acc = 0.0;
  for (var c = 0u; c < P.chunks; c++) { acc += partials[c * P.N + n]; }
  dst[n] += acc;
}
