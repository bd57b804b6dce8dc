// Latency figures of the live tests: printed by the list reporter, and
// attached to the report. They are figures, not assertions: timing on a
// shared small machine varies.
import { TestInfo } from '@playwright/test';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Prints and attaches the summary of latencies (ms) of what, as file. */
export async function reportLatency(testInfo: TestInfo, what: string, file: string, latencies: number[]): Promise<void> {
  const sorted = [...latencies].sort((a, b) => a - b);
  const summary = {
    samples: latencies.length,
    median_ms: percentile(sorted, 50),
    p90_ms: percentile(sorted, 90),
    min_ms: sorted[0],
    max_ms: sorted[sorted.length - 1],
    all_ms: latencies,
  };
  console.log(`${what}: median ${summary.median_ms} ms, p90 ${summary.p90_ms} ms (n=${summary.samples})`);
  testInfo.annotations.push({
    type: 'latency',
    description: `${what}: median ${summary.median_ms} ms, p90 ${summary.p90_ms} ms`,
  });
  await testInfo.attach(file, { body: JSON.stringify(summary, null, 2), contentType: 'application/json' });
}
