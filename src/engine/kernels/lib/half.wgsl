// 16-bit storage (mixed precision, DESIGN.md decision 2) without `shader-f16`: two IEEE binary16 values per u32 word,
// element i in the low half when i is even. fp32 buffers are bound as array<u32> too and read with bitcast (exact),
// so one shader serves both storage formats through override constants.

// Binary16 bits of v, with overflow made explicit (pack2x16float leaves out-of-range values indeterminate):
// |v| > 65504 -> +-inf, NaN -> quiet NaN; so a 16-bit overflow reaches the non-finite check and loss scaling.
fn half_bits(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  let mag = bits & 0x7fffffffu;
  let sign = (bits >> 16u) & 0x8000u;
  if (mag > 0x7f800000u) { return 0x7e00u | sign; }
  if (abs(v) <= 65504.0) { return pack2x16float(vec2f(v, 0.0)) & 0xffffu; }
  return 0x7c00u | sign;
}

fn pack_half2(lo: f32, hi: f32) -> u32 {
  return half_bits(lo) | (half_bits(hi) << 16u);
}

/** Element i of a 16-bit array given the word holding it. */
fn half_at(word: u32, i: u32) -> f32 {
  let h = (word >> ((i & 1u) * 16u)) & 0xffffu;
  // unpack2x16float of an inf/NaN half is not guaranteed: rebuild those as fp32 bits.
  if ((h & 0x7c00u) == 0x7c00u) {
    return bitcast<f32>(((h & 0x8000u) << 16u) | 0x7f800000u | ((h & 0x3ffu) << 13u));
  }
  return unpack2x16float(h).x;
}
