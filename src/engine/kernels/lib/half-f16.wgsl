// 16-bit storage through native binary16 types, chosen instead of half.wgsl when the device has `shader-f16`
// (KernelContext puts `enable f16;` first in the module). Same functions, same word layout (element i in the low half
// when i is even), same results: WGSL leaves the f32 -> f16 conversion of out-of-range values and the handling of
// inf/NaN f16 values to the implementation, so those cases keep the explicit bit paths of half.wgsl.

fn half_bits(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  let mag = bits & 0x7fffffffu;
  let sign = (bits >> 16u) & 0x8000u;
  if (mag > 0x7f800000u) { return 0x7e00u | sign; }
  if (abs(v) <= 65504.0) { return bitcast<u32>(vec2<f16>(f16(v), 0.0h)) & 0xffffu; }
  return 0x7c00u | sign;
}

fn pack_half2(lo: f32, hi: f32) -> u32 {
  // Both in range (a NaN fails the comparison): one native conversion of the pair.
  if (max(abs(lo), abs(hi)) <= 65504.0) { return bitcast<u32>(vec2<f16>(vec2f(lo, hi))); }
  return half_bits(lo) | (half_bits(hi) << 16u);
}

/** Element i of a 16-bit array given the word holding it. */
fn half_at(word: u32, i: u32) -> f32 {
  let h = (word >> ((i & 1u) * 16u)) & 0xffffu;
  if ((h & 0x7c00u) == 0x7c00u) {
    return bitcast<f32>(((h & 0x8000u) << 16u) | 0x7f800000u | ((h & 0x3ffu) << 13u));
  }
  return f32(bitcast<vec2<f16>>(word)[i & 1u]);
}
