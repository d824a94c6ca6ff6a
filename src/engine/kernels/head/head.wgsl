// Classifier head pieces on the B [CLS] rows: dropout after the head activation, its backward fused with the
// activation's derivative, and cross-entropy fused with its backward and the step metrics.

struct Params { rows: u32, D: u32, classes: u32, site: u32, p_drop: f32, act: u32, eval_slot: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> micro: MicroState;
@group(0) @binding(2) var<storage, read> x: array<f32>;            // activation output [rows, D] / logits [rows, C]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // dropped activation / dlogits
@group(0) @binding(4) var<storage, read> labels: array<u32>;       // [rows]; 0xffffffff marks a padding row
@group(0) @binding(5) var<storage, read_write> metrics: array<f32>; // ring of 8 floats per step: loss sum, correct, rows, ...
@group(0) @binding(6) var<storage, read> dout: array<f32>;         // gradient of the dropped activation
@group(0) @binding(7) var<storage, read> opt_state: array<f32>;    // optimizer.wgsl OptState; [7] = loss scale (1 in fp32)

const NO_LABEL = 0xffffffffu;

@compute @workgroup_size(64)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= P.rows * P.D) { return; }
  out[i] = x[i] * dropout_scale(micro, P.site, i, P.p_drop);
}

// d(pre-activation) = d(dropped) * mask * act'(y); act 0 = ReLU (y > 0), 1 = tanh (1 - y^2). x holds y.
@compute @workgroup_size(64)
fn dropout_act_backward(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= P.rows * P.D) { return; }
  let y = x[i];
  var dact = select(0.0, 1.0, y > 0.0);
  if (P.act == 1u) { dact = 1.0 - y * y; }
  out[i] = dout[i] * dropout_scale(micro, P.site, i, P.p_drop) * dact;
}

var<workgroup> red_loss: array<f32, 64>;
var<workgroup> red_correct: array<f32, 64>;
var<workgroup> red_rows: array<f32, 64>;

// One workgroup: per row, loss = logsumexp(z) - z[label]; dlogits = (softmax - onehot) * inv_batch * loss scale (dynamic
// loss scaling: the optimizer divides it out of the gradients, on the GPU); padding rows give 0.
// Training adds to the step's metrics slot; evaluation (eval_slot = 1) adds to the evaluation slot 0 of `metrics`.
@compute @workgroup_size(64)
fn cross_entropy(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var loss = 0.0;
  var correct = 0.0;
  var count = 0.0;
  let loss_scale = opt_state[7];
  for (var r = lid; r < P.rows; r += 64u) {
    let label = labels[r];
    var m = -3.4e38;
    var arg = 0u;
    for (var c = 0u; c < P.classes; c++) {
      let z = x[r * P.classes + c];
      if (z > m) { m = z; arg = c; }
    }
    var s = 0.0;
    for (var c = 0u; c < P.classes; c++) { s += exp(x[r * P.classes + c] - m); }
    let lse = m + log(s);
    for (var c = 0u; c < P.classes; c++) {
      var g = 0.0;
      if (label != NO_LABEL) {
        g = (exp(x[r * P.classes + c] - lse) - select(0.0, 1.0, c == label)) * micro.inv_batch * loss_scale;
      }
      out[r * P.classes + c] = g;
    }
    if (label != NO_LABEL) {
      loss += lse - x[r * P.classes + label];
      correct += select(0.0, 1.0, arg == label);
      count += 1.0;
    }
  }
  red_loss[lid] = loss;
  red_correct[lid] = correct;
  red_rows[lid] = count;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red_loss[lid] += red_loss[lid + s];
      red_correct[lid] += red_correct[lid + s];
      red_rows[lid] += red_rows[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let slot = select(micro.slot, 0u, P.eval_slot == 1u) * 8u;
    metrics[slot] += red_loss[0];
    metrics[slot + 1u] += red_correct[0];
    metrics[slot + 2u] += red_rows[0];
  }
}
