/**
 * Turns a series' combined strengths into NAB anomaly scores in [0, 1].
 *
 * NAB counts only the earliest detection in a window and charges every detection outside one,
 * so an episode should be reported once, when it starts, not on each of its points (a person
 * gets one notification per incident, too). A point therefore scores s / (1 + s) (s = combined
 * strength, 1 = at the threshold, so the threshold maps to 0.5) only when its strength exceeds
 * every strength of the preceding `refractoryMs`; otherwise 0.
 */
export function onsetScores(timestamps: number[], strengths: number[], refractoryMs: number): number[] {
  const values = strengths.map((s) => (Number.isNaN(s) ? 0 : s));
  const scores = new Array<number>(values.length).fill(0);
  // Monotonic deque of indices with decreasing strengths: the front is the recent maximum.
  const deque: number[] = [];
  let front = 0;
  for (let i = 0; i < values.length; i++) {
    const s = values[i];
    while (front < deque.length && timestamps[deque[front]] < timestamps[i] - refractoryMs) front++;
    const recentMax = front < deque.length ? values[deque[front]] : 0;
    if (s > recentMax) scores[i] = s / (1 + s);
    while (deque.length > front && values[deque[deque.length - 1]] <= s) deque.pop();
    deque.push(i);
  }
  return scores;
}
