import { seededRandom } from "./hash.js";
import type { Fault } from "./types.js";

type FaultKind = Fault["kind"];
export type FaultOf<K extends FaultKind> = Extract<Fault, { kind: K }>;

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

/** Injected faults: each fires on matching requests until its `times` run out. */
export class FaultBook {
  private armed: ArmedFault[] = [];
  // Seeded so a test with `probability` behaves the same on every run.
  private random = seededRandom(0x5eed);

  add(fault: Fault): void {
    this.armed.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
    this.random = seededRandom(0x5eed);
  }

  /** The first armed fault of `kind` matching `path` that fires now (its count is consumed). */
  take<K extends FaultKind>(kind: K, path: string): FaultOf<K> | undefined {
    for (const entry of this.armed) {
      const { fault } = entry;
      if (fault.kind !== kind || entry.remaining <= 0) continue;
      if (fault.path !== undefined && !path.startsWith(fault.path)) continue;
      if (fault.probability !== undefined && this.random() >= fault.probability) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.armed = this.armed.filter((e) => e !== entry);
      return fault as FaultOf<K>;
    }
    return undefined;
  }
}
