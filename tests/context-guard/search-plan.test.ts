import { describe, expect, it } from "vitest";
import type { FailureKind, ProbeRecord } from "../../src/context-guard/registry-schema.js";
import {
  boundsOf,
  type ProbeAttempt,
  type ProbeStep,
  planNextStep,
  type ResumedState,
  type SearchPlanConfig,
} from "../../src/context-guard/search-plan.js";

const config: SearchPlanConfig = {
  declaredMax: 131072,
  safeStart: 4096,
  growthFactor: 4,
  resolution: 0.05,
  minStepTokens: 64,
  granularity: 64,
  maxLoads: 10,
  retryDisconnects: true,
  useEstimates: false,
  answerReserve: 256,
};

const ok = { passed: true };
const skipped = { passed: false, skipped: true };

function passed(size: number, loaded = true): ProbeRecord {
  return { contextLength: size, loaded, passed: true, levels: { L0: ok, L1: ok, L2: ok }, at: "t" };
}

/** A fill that failed on an instance that loaded fine. */
function fillFailed(size: number, failureKind: FailureKind, loaded = true): ProbeRecord {
  return {
    contextLength: size,
    loaded,
    passed: false,
    failureKind,
    levels: { L0: ok, L1: { passed: false }, L2: skipped },
    at: "t",
  };
}

/** A load that came back at `gave` tokens instead of `size` (auto-fit). */
function loadShrunk(size: number, gave: number): ProbeRecord {
  return {
    contextLength: size,
    loadedContext: gave,
    loaded: true,
    passed: false,
    failureKind: "not-honoured",
    levels: { L0: { passed: false }, L1: skipped, L2: skipped },
    at: "t",
  };
}

const probe = (size: number): ProbeStep => ({ kind: "probe", size });
const retry = (size: number): ProbeStep => ({ kind: "retry", size });

function history(
  attempts: Array<[ProbeAttempt["step"], ProbeRecord]>,
  extra: { loads?: number; instanceContext?: number; resumed?: ResumedState } = {},
) {
  const list: ProbeAttempt[] = attempts.map(([step, record]) => ({ step, record }));
  return {
    resumed: extra.resumed ?? { full: [], fillOnly: [] },
    attempts: list,
    loads: extra.loads ?? list.filter((a) => a.record.loaded).length,
    ...(extra.instanceContext !== undefined ? { instanceContext: extra.instanceContext } : {}),
  };
}

describe("planNextStep: growth and bisection", () => {
  it("starts at the safe start, then grows by the growth factor, capped at the declared maximum", () => {
    expect(planNextStep(config, history([]))).toEqual(probe(4096));
    const grown = history([
      [probe(4096), passed(4096)],
      [{ kind: "probe", size: 8192, instanceSize: 16384 }, passed(8192, false)],
    ]);
    expect(planNextStep(config, { ...grown, instanceContext: 16384 })).toEqual(probe(16384));
    const capped = { ...config, declaredMax: 20000 };
    expect(
      planNextStep(
        capped,
        history([
          [probe(4096), passed(4096)],
          [probe(16384), passed(16384)],
        ]),
      ),
    ).toEqual(probe(20000));
  });

  it("is done, not exhausted, once the declared maximum passed with its own load", () => {
    const small = { ...config, declaredMax: 8192 };
    const step = planNextStep(
      small,
      history([
        [probe(4096), passed(4096)],
        [probe(8192), passed(8192)],
      ]),
    );
    expect(step).toEqual({ kind: "done", exhausted: false });
  });

  it("bisects at the geometric midpoint between the largest pass and the smallest failure", () => {
    const step = planNextStep(
      config,
      history([
        [probe(4096), passed(4096)],
        [probe(16384), passed(16384)],
        [probe(65536), fillFailed(65536, "wrong-answers")],
      ]),
    );
    expect(step).toEqual(probe(32768));
  });

  it("stops when the gap is within the resolution", () => {
    const step = planNextStep(
      config,
      history([
        [probe(32768), passed(32768)],
        [probe(34048), fillFailed(34048, "truncated")],
      ]),
    );
    expect(step).toEqual({ kind: "done", exhausted: false });
  });

  it("halves towards the smallest useful size when even the start failed", () => {
    expect(planNextStep(config, history([[probe(4096), fillFailed(4096, "fill-oom")]]))).toEqual(probe(2048));
  });

  it("a failure bound carried over from a dead run caps the search from the first step", () => {
    const resumed: ResumedState = { full: [], fillOnly: [], firstBad: 8192, failureKind: "crash" };
    expect(planNextStep(config, history([], { resumed }))).toEqual(probe(4096));
  });

  it("after auto-fit gave less than asked, tries what it gave next and never anything above it", () => {
    const attempts: Array<[ProbeStep, ProbeRecord]> = [
      [probe(16384), passed(16384)],
      [probe(65536), loadShrunk(65536, 40000)],
    ];
    expect(boundsOf(config, history(attempts)).firstBad).toBe(40064);
    // The auto-fit instance is held: it serves the fill at what it gave.
    expect(planNextStep(config, history(attempts, { instanceContext: 40000 }))).toEqual(probe(40000));
  });
});

describe("planNextStep: a new instance's first fill", () => {
  it("fills the geometric midpoint first on a load more than twice the largest pass", () => {
    const step = planNextStep(config, history([[probe(4096), passed(4096)]]));
    expect(step).toEqual({ kind: "probe", size: 8192, instanceSize: 16384 });
  });

  it("then fills the held instance at its own size before loading anything larger", () => {
    const midpointPassed = history(
      [
        [probe(4096), passed(4096)],
        [{ kind: "probe", size: 8192, instanceSize: 16384 }, passed(8192, false)],
      ],
      { instanceContext: 16384 },
    );
    expect(planNextStep(config, midpointPassed)).toEqual(probe(16384));
  });

  it("after the midpoint failed, bisects below it on the held instance, with no load", () => {
    const midpointFailed = history(
      [
        [probe(16384), passed(16384)],
        [{ kind: "probe", size: 32768, instanceSize: 65536 }, fillFailed(32768, "wrong-answers", false)],
      ],
      { instanceContext: 65536 },
    );
    expect(boundsOf(config, midpointFailed).firstBad).toBe(32768);
    expect(planNextStep(config, midpointFailed)).toEqual(probe(23168));
  });

  it("loads at the size itself when it is at most twice the largest pass", () => {
    const near = history([
      [probe(16384), passed(16384)],
      [
        probe(32768),
        { ...fillFailed(32768, "load-error"), levels: { L0: { passed: false }, L1: skipped, L2: skipped } },
      ],
    ]);
    expect(planNextStep(config, near)).toEqual(probe(23168));
  });
});

describe("planNextStep: bisecting a load limit on LM Studio's estimates", () => {
  const withEstimates = { ...config, useEstimates: true };
  /** LM Studio's estimate refused this size (recorded as a failed probe). */
  const refused = (size: number): [ProbeAttempt["step"], ProbeRecord] => [
    { kind: "estimate", size },
    {
      contextLength: size,
      loaded: false,
      estimated: true,
      passed: false,
      failureKind: "guardrail",
      levels: { L0: { passed: false }, L1: skipped, L2: skipped },
      at: "t",
    },
  ];
  const grown: Array<[ProbeAttempt["step"], ProbeRecord]> = [[probe(16384), passed(16384)], refused(65536)];

  it("asks the estimate, not a load, for the next bisection size", () => {
    expect(planNextStep(withEstimates, history(grown))).toEqual({ kind: "estimate", size: 32768 });
    // Without estimates the same history loads there.
    expect(planNextStep(config, history(grown))).toEqual(probe(32768));
  });

  it("bisects above a passing estimate, then loads the size the estimates converged on", () => {
    const passing = { ...history([...grown, refused(46336)]), estimates: [{ size: 32768, passes: true }] };
    expect(planNextStep(withEstimates, passing)).toEqual({ kind: "estimate", size: 38912 });

    const converged = {
      ...history([...grown, refused(46336), refused(42432)]),
      estimates: [
        { size: 32768, passes: true },
        { size: 38912, passes: true },
        { size: 40640, passes: true },
      ],
    };
    // More than twice the largest pass: the new instance fills the midpoint first.
    expect(planNextStep(withEstimates, converged)).toEqual({
      kind: "probe",
      size: 25792,
      instanceSize: 40640,
    });
  });

  it("believes a load that fails where the estimate passed, and bisects below it", () => {
    const failedLoad = {
      ...history([
        ...grown,
        refused(46336),
        refused(42432),
        [
          probe(40640),
          { ...fillFailed(40640, "load-error"), levels: { L0: { passed: false }, L1: skipped, L2: skipped } },
        ],
      ]),
      estimates: [
        { size: 32768, passes: true },
        { size: 38912, passes: true },
        { size: 40640, passes: true },
      ],
    };
    expect(boundsOf(withEstimates, failedLoad).firstBad).toBe(40640);
    // The passing estimates below the failure still stand in: next is between 38912 and 40640.
    expect(planNextStep(withEstimates, failedLoad)).toEqual({
      kind: "probe",
      size: 25216,
      instanceSize: 38912,
    });
  });

  it("loads as before when the server gives no estimate", () => {
    const none = { ...history(grown), estimates: [{ size: 32768, passes: undefined }] };
    expect(planNextStep(withEstimates, none)).toEqual(probe(32768));
  });

  it("never estimates while growing: the growth load itself is asked", () => {
    expect(planNextStep(withEstimates, history([[probe(16384), passed(16384)]]))).toEqual({
      kind: "probe",
      size: 32768,
      instanceSize: 65536,
    });
  });
});

describe("planNextStep: lost connections", () => {
  const grown: Array<[ProbeStep, ProbeRecord]> = [[probe(4096), passed(4096)]];

  it("retries a probe that lost its connection once, and the lost attempt stops counting", () => {
    const lost: Array<[ProbeStep, ProbeRecord]> = [...grown, [probe(16384), fillFailed(16384, "disconnect")]];
    expect(planNextStep(config, history(lost))).toEqual(retry(16384));
    expect(boundsOf(config, history(lost)).firstBad).toBe(16384);

    const recovered = history([...lost, [retry(16384), passed(16384)]]);
    expect(boundsOf(config, recovered)).toMatchObject({ bestFull: { size: 16384 } });
    expect(boundsOf(config, recovered).firstBad).toBeUndefined();
    expect(planNextStep(config, recovered)).toEqual({ kind: "probe", size: 32768, instanceSize: 65536 });
  });

  it("a retry that loses its connection again is believed: no third try, bisect below it", () => {
    const twice = history([
      ...grown,
      [probe(16384), fillFailed(16384, "disconnect")],
      [retry(16384), fillFailed(16384, "disconnect")],
    ]);
    expect(boundsOf(config, twice)).toMatchObject({ firstBad: 16384, failureKind: "disconnect" });
    expect(planNextStep(config, twice)).toEqual(probe(8192));
  });

  it("does not retry when retries are off or no load is left", () => {
    const lost = history([...grown, [probe(16384), fillFailed(16384, "disconnect")]]);
    expect(planNextStep({ ...config, retryDisconnects: false }, lost)).toEqual(probe(8192));
    expect(planNextStep({ ...config, maxLoads: 2 }, lost)).toEqual({ kind: "done", exhausted: true });
  });
});

describe("planNextStep: the load budget", () => {
  const bisected: Array<[ProbeStep, ProbeRecord]> = [
    [probe(16384), passed(16384)],
    [probe(65536), passed(65536)],
    [probe(131072), fillFailed(131072, "wrong-answers")],
  ];

  it("tests sizes below the held instance without a load", () => {
    const step = planNextStep({ ...config, maxLoads: 3 }, history(bisected, { instanceContext: 131072 }));
    expect(step).toEqual(probe(92672));
  });

  it("keeps one load back to confirm a size verified only on a larger instance, then stops", () => {
    const tight = { ...config, maxLoads: 4 };
    const fillOnly = history([...bisected, [probe(92672), passed(92672, false)]]);
    expect(boundsOf(tight, fillOnly).bestAny).toMatchObject({ size: 92672 });
    expect(boundsOf(tight, fillOnly).bestFull).toMatchObject({ size: 65536 });
    // The instance was dropped: the next bisection step would need a load, and only the confirming one is left.
    const confirm: ProbeStep = {
      kind: "confirm",
      size: 92672,
      verified: { size: 92672, promptTokens: 92672 - config.answerReserve },
      last: true,
    };
    expect(planNextStep(tight, fillOnly)).toEqual(confirm);

    const confirmed = history([...bisected, [probe(92672), passed(92672, false)], [confirm, passed(92672)]]);
    expect(planNextStep(tight, confirmed)).toEqual({ kind: "done", exhausted: true });
    expect(boundsOf(tight, confirmed).bestFull).toMatchObject({ size: 92672 });
  });

  it("reports exhaustion when the budget is spent with nothing left to confirm", () => {
    const spent = history(bisected, { loads: 3 });
    expect(planNextStep({ ...config, maxLoads: 3 }, spent)).toEqual({ kind: "done", exhausted: true });
  });
});
