import { describe, expect, it } from "vitest";
import {
  ContextGuardAdmissionTimeoutError,
  InstanceBudget,
  instanceBudget,
} from "../../src/context-guard/admission.js";

const unified = { contextLength: 1000, parallel: 4, unified: true };

describe("InstanceBudget", () => {
  it("admits while prompt + answer fit beside the running requests, then first in, first out", async () => {
    const budget = new InstanceBudget("m", unified);
    const a = await budget.admit(400, { timeoutMs: 1000 });
    const b = await budget.admit(400, { timeoutMs: 1000 });
    expect(budget.running).toEqual({ requests: 2, tokens: 800 });
    const order: string[] = [];
    const c = budget.admit(300, { timeoutMs: 1000 }).then((t) => {
      order.push("c");
      return t;
    });
    // Small enough to fit now, but it must not overtake the waiting head.
    const d = budget.admit(100, { timeoutMs: 1000 }).then((t) => {
      order.push("d");
      return t;
    });
    await Promise.resolve();
    expect(budget.waiting).toBe(2);
    a.release();
    a.release(); // idempotent
    await Promise.all([c, d]);
    expect(order).toEqual(["c", "d"]);
    expect(budget.running).toEqual({ requests: 3, tokens: 800 });
    b.release();
  });

  it("never admits more requests than slots, even when tokens would fit", async () => {
    const budget = new InstanceBudget("m", { contextLength: 1000, parallel: 2, unified: true });
    await budget.admit(10, { timeoutMs: 1000 });
    await budget.admit(10, { timeoutMs: 1000 });
    await expect(budget.admit(10, { timeoutMs: 20 })).rejects.toBeInstanceOf(
      ContextGuardAdmissionTimeoutError,
    );
  });

  it("per-slot caches admit by free slot only (each slot has the whole context)", async () => {
    const budget = new InstanceBudget("m", { contextLength: 1000, parallel: 3, unified: false });
    for (let i = 0; i < 3; i++) await budget.admit(900, { timeoutMs: 1000 });
    expect(budget.running).toEqual({ requests: 3, tokens: 2700 });
  });

  it("a bounded wait ends in a typed, retryable error naming the instance and what held it", async () => {
    const budget = new InstanceBudget("qwen@guard-1000", unified);
    await budget.admit(900, { timeoutMs: 1000 });
    const error = await budget.admit(200, { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextGuardAdmissionTimeoutError);
    expect(error).toMatchObject({ instance: "qwen@guard-1000", tokens: 200 });
    expect((error as Error).message).toContain("1 request(s) holding 900 of its 1000 tokens");
    expect(budget.waiting).toBe(0);
  });

  it("an abort while waiting rejects with the signal's reason and frees the place in the queue", async () => {
    const budget = new InstanceBudget("m", unified);
    const held = await budget.admit(900, { timeoutMs: 1000 });
    const controller = new AbortController();
    const waiting = budget.admit(500, { timeoutMs: 1000, signal: controller.signal });
    const behind = budget.admit(50, { timeoutMs: 1000 });
    controller.abort(new Error("user gave up"));
    await expect(waiting).rejects.toThrow("user gave up");
    // The smaller request behind the aborted head fits now.
    expect((await behind).tokens).toBe(50);
    held.release();
  });

  it("drained() resolves when the last running request is released", async () => {
    const budget = new InstanceBudget("m", unified);
    const ticket = await budget.admit(100, { timeoutMs: 1000 });
    let drained = false;
    const wait = budget.drained(1000).then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    ticket.release();
    await wait;
    expect(drained).toBe(true);
  });

  it("one budget per server and instance for the whole process", async () => {
    const a = instanceBudget("http://h:1234/v1/", "m@guard-1000", unified);
    const b = instanceBudget("http://h:1234/v1", "m@guard-1000", unified);
    const other = instanceBudget("http://h:1234/v1", "m@guard-2000", unified);
    expect(a).toBe(b);
    expect(other).not.toBe(a);
  });
});
