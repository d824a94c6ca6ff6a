// The optimizer step, all on the GPU so no step needs a readback (DESIGN.md decision 4):
// sumsq_partial: per-workgroup sums of squared gradients (fixed order, no atomics), over one binding-sized chunk;
// finalize: global norm -> clip scale, non-finite check (skip the step), learning-rate schedule and step counter,
//   dynamic loss scaling (torch.amp.GradScaler: a non-finite step is skipped, does not advance the schedule or the
//   AdamW step count, and multiplies the scale by backoff; growth_interval finite steps in a row multiply it by growth),
//   and the step's metrics slot;
// adamw: torch.optim.AdamW's update with decoupled weight decay on the first `decay_count` elements (the arena puts
//   decayed tensors first), then zeroes the gradient for the next step's accumulation;
// to_half (fp16 only): the packed-binary16 copy of the weights that the GEMMs read (as autocast does), refreshed after
//   every change of the fp32 master weights. Needs lib/half.wgsl.

struct StepConfig {
  base_lr: f32, warmup_steps: u32, total_steps: u32, slot: u32,
  beta1: f32, beta2: f32, eps: f32, weight_decay: f32,
  max_norm: f32, partial_count: u32, decay_count: u32, dynamic_scale: u32, // dynamic_scale: 1 under fp16
  growth_interval: u32, growth_factor: f32, backoff_factor: f32, _p1: u32,
}

struct OptState {
  t: u32,            // optimizer steps taken (AdamW bias correction)
  skip: u32,         // 1 when this step's gradients are not finite: no update
  skipped_total: u32,
  growth_tracker: u32, // finite steps since the loss scale last changed
  lr: f32,
  clip: f32,         // gradient multiplier: clip scale / loss scale
  grad_norm: f32,    // of the unscaled gradients
  loss_scale: f32,   // 1 in fp32
}

struct ChunkParams { offset: u32, count: u32, partial_base: u32, grid: u32 } // grid: workgroups dispatched for this chunk

@group(0) @binding(0) var<uniform> C: ChunkParams;
@group(0) @binding(1) var<uniform> cfg: StepConfig;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: OptState;
@group(0) @binding(5) var<storage, read_write> params: array<f32>;
@group(0) @binding(6) var<storage, read_write> m1: array<f32>;
@group(0) @binding(7) var<storage, read_write> m2: array<f32>;
@group(0) @binding(8) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(9) var<storage, read_write> params16: array<u32>; // 2 binary16 per word, element 2j in the low half

const WG = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn sumsq_partial(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var i = wg.x * WG + lid; i < C.count; i += C.grid * WG) { let g = grads[i]; acc += g * g; }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[C.partial_base + wg.x] = red[0]; }
}

fn lr_lambda(step: u32) -> f32 {
  // transformers.get_linear_schedule_with_warmup
  if (step < cfg.warmup_steps) { return f32(step) / f32(max(1u, cfg.warmup_steps)); }
  return max(0.0, f32(cfg.total_steps - min(step, cfg.total_steps)) / f32(max(1u, cfg.total_steps - cfg.warmup_steps)));
}

@compute @workgroup_size(256)
fn finalize(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var i = lid; i < cfg.partial_count; i += WG) { acc += partials[i]; }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let scale = state.loss_scale;
    let norm = sqrt(red[0]) / scale;
    // NaN fails every comparison; inf is above the largest float.
    let finite = norm <= 3.4e38;
    state.grad_norm = norm;
    let base = cfg.slot * 8u;
    metrics[base + 3u] = norm;
    if (finite) {
      state.skip = 0u;
      state.lr = cfg.base_lr * lr_lambda(state.t);
      state.t += 1u;
      state.clip = min(1.0, cfg.max_norm / (norm + 1e-6)) / scale;
      metrics[base + 6u] = 0.0;
      if (cfg.dynamic_scale == 1u) {
        state.growth_tracker += 1u;
        if (state.growth_tracker >= cfg.growth_interval) {
          state.growth_tracker = 0u;
          state.loss_scale = scale * cfg.growth_factor;
        }
      }
    } else {
      state.skip = 1u;
      state.skipped_total += 1u;
      metrics[base + 6u] = 1.0;
      if (cfg.dynamic_scale == 1u) {
        state.growth_tracker = 0u;
        state.loss_scale = scale * cfg.backoff_factor;
      }
    }
    metrics[base + 4u] = state.lr;
    metrics[base + 5u] = f32(state.t);
    metrics[base + 7u] = scale;
  }
}

@compute @workgroup_size(256)
fn adamw(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let skip = state.skip == 1u;
  let lr = state.lr;
  let clip = state.clip;
  let t = f32(state.t);
  let step_size = lr / (1.0 - pow(cfg.beta1, t));
  let bc2_sqrt = sqrt(1.0 - pow(cfg.beta2, t));
  for (var i = wg.x * WG + lid3.x; i < C.count; i += C.grid * WG) {
    if (!skip) {
      let g = grads[i] * clip;
      var p = params[i];
      if (C.offset + i < cfg.decay_count) { p *= 1.0 - lr * cfg.weight_decay; }
      let m = m1[i] + (1.0 - cfg.beta1) * (g - m1[i]);
      let v = cfg.beta2 * m2[i] + (1.0 - cfg.beta2) * g * g;
      m1[i] = m;
      m2[i] = v;
      params[i] = p - step_size * m / (sqrt(v) / bc2_sqrt + cfg.eps);
    }
    grads[i] = 0.0;
  }
}

// One chunk of params (C.count elements, even: chunks are multiples of 128 floats and the arena of 64) into params16,
// bound at the same chunk (half the bytes). Element pairs, so each thread writes whole words. Beyond +-65504 a weight
// becomes +-inf (pack_half2), as a .half() copy in PyTorch would.
@compute @workgroup_size(256)
fn to_half(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let pairs = C.count / 2u;
  for (var j = wg.x * WG + lid3.x; j < pairs; j += C.grid * WG) {
    params16[j] = pack_half2(params[2u * j], params[2u * j + 1u]);
  }
}
