/** Σ wᵢ·vᵢ / Σ wᵢ over vectors of equal length. */
export function weightedMean(vectors: number[][], weights: number[]): number[] {
  const dimensions = vectors[0]?.length ?? 0;
  const sum = new Array<number>(dimensions).fill(0);
  let totalWeight = 0;
  vectors.forEach((vector, i) => {
    const weight = weights[i] ?? 0;
    totalWeight += weight;
    for (let d = 0; d < dimensions; d++) sum[d]! += weight * vector[d]!;
  });
  return totalWeight === 0 ? sum : sum.map((value) => value / totalWeight);
}

/** The vector scaled to unit Euclidean length (a zero vector is returned unchanged). */
export function l2Normalize(vector: number[]): number[] {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}
