// Counter-based dropout (never stored): keep(element) = hash(seed of this micro-batch, site, element index) >= p * 2^32.
// Forward and backward recompute the same mask. `MicroState` is the per-micro-batch uniform every kernel that needs
// the dropout seed, the training flag or the loss normalisation binds.

struct MicroState {
  seed: u32,      // differs per step and micro-batch
  training: u32,  // 0 in evaluation: dropout off
  inv_batch: f32, // gradient scale of one row: loss scale / real rows in the effective batch
  slot: u32,      // metrics ring slot of this step
}

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

/** Multiplier of element `idx` at dropout site `site`: 0 when dropped, 1/(1-p) when kept, 1 when not training. */
fn dropout_scale(m: MicroState, site: u32, idx: u32, p: f32) -> f32 {
  if (m.training == 0u || p <= 0.0) { return 1.0; }
  let h = pcg_hash(pcg_hash(m.seed + site * 0x9E3779B9u) ^ idx);
  let threshold = u32(p * 4294967295.0);
  return select(0.0, 1.0 / (1.0 - p), h >= threshold);
}
