/**
 * A small seeded source of uniform numbers in [0, 1), for reproducible tests and simulations of
 * the statistics here (the service itself passes `Math.random`). A Weyl sequence (step: the
 * golden-ratio constant) through murmur3's 32-bit finaliser: full period 2³², well mixed, not
 * cryptographic, and 32 bits of resolution, which is plenty for sampling.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 0x1_0000_0000;
  };
}
