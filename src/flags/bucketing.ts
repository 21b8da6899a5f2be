import murmurhash3 from 'murmurhash3js';

/**
 * Unleash's bucketing, bit for bit: murmurhash3 x86 32-bit of `groupId:value` with seed 0,
 * `% 100 + 1`. We call the very library unleash-client calls (murmurhash3js, which hashes
 * UTF-16 code units, not UTF-8 bytes) so non-ASCII ids land where Unleash puts them too.
 */
export function rolloutBucket(groupId: string, stickinessValue: string): number {
  return (murmurhash3.x86.hash32(`${groupId}:${stickinessValue}`, 0) % 100) + 1;
}

/** Unleash's flexibleRollout rule: on when the bucket is at or below the percentage. */
export function inRollout(bucket: number, percentage: number): boolean {
  return percentage > 0 && bucket <= percentage;
}
