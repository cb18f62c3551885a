import {
  type ChatTurn,
  type DownloadedModel,
  type InstanceRef,
  type LoadedInstance,
  type LoadRequest,
  type LoadResult,
  type ModelHost,
  ModelHostError,
  type RespondRequest,
  type RespondResult,
} from "../../src/context-guard/host.js";

/**
 * An in-memory ModelHost with the simulator's ground-truth knobs, for fast unit tests of probe,
 * search and clamp. Tokens: one per 4 characters (rounded up) of the templated prompt.
 */
export interface FakeModel {
  key: string;
  declared: number;
  loadLimit?: number;
  fillLimit?: number;
  effective?: number;
  autoFitTo?: number;
  type?: "llm" | "embedding";
}

export const fakeTokens = (text: string) => Math.ceil(text.length / 4);

export class FakeHost implements ModelHost {
  readonly models = new Map<string, FakeModel>();
  readonly instances = new Map<string, { key: string; contextLength: number; type: "llm" | "embedding" }>();
  loadCalls: Array<{ key: string; contextLength: number }> = [];
  respondCalls = 0;
  countCalls = 0;
  estimates = false;
  /** Instances this host loaded: the only ones close() unloads, as with the SDK host. */
  readonly owned = new Set<string>();
  /** Fail the next N loads with this kind before doing anything. */
  failNextLoads: Array<"disconnect" | "timeout"> = [];

  constructor(models: FakeModel[]) {
    for (const m of models) this.models.set(m.key, m);
  }

  private model(key: string): FakeModel {
    const m = this.models.get(key);
    if (!m) throw new ModelHostError("not-found", `Cannot find a model with path "${key}"`);
    return m;
  }

  async serverVersion() {
    return "fake-1";
  }

  async listDownloaded(): Promise<DownloadedModel[]> {
    return [...this.models.values()].map((m) => ({
      key: m.key,
      type: m.type ?? "llm",
      displayName: m.key,
      declaredMax: m.declared,
      vision: false,
      toolUse: false,
      format: "gguf",
      sizeBytes: 1e9,
    }));
  }

  async listLoaded(): Promise<LoadedInstance[]> {
    return [...this.instances].map(([identifier, i]) => ({
      identifier,
      modelKey: i.key,
      type: i.type,
      contextLength: i.contextLength,
    }));
  }

  async load(key: string, request: LoadRequest): Promise<LoadResult> {
    const m = this.model(key);
    this.loadCalls.push({ key, contextLength: request.contextLength });
    const fault = this.failNextLoads.shift();
    if (fault) throw new ModelHostError(fault, `injected ${fault}`);
    if (request.contextLength > (m.loadLimit ?? m.declared)) {
      throw new ModelHostError(
        "guardrail",
        "Model loading was stopped due to insufficient system resources.",
      );
    }
    if (this.instances.has(request.identifier)) throw new ModelHostError("load-error", "identifier in use");
    const actual = m.autoFitTo ?? request.contextLength;
    this.instances.set(request.identifier, { key, contextLength: actual, type: m.type ?? "llm" });
    this.owned.add(request.identifier);
    return {
      identifier: request.identifier,
      requested: request.contextLength,
      actual,
      honoured: actual === request.contextLength,
    };
  }

  async unload(ref: InstanceRef) {
    this.owned.delete(ref.identifier);
    this.instances.delete(ref.identifier);
  }

  ownedInstances() {
    return [...this.owned];
  }

  async applyPromptTemplate(_ref: InstanceRef, turns: ChatTurn[]) {
    return `${turns.map((t) => `<|${t.role}|>${t.content}<|end|>`).join("")}<|assistant|>`;
  }

  async countTokens(_ref: InstanceRef, text: string) {
    this.countCalls += 1;
    return fakeTokens(text);
  }

  async respond(ref: InstanceRef, turns: ChatTurn[], request: RespondRequest): Promise<RespondResult> {
    this.respondCalls += 1;
    const instance = this.instances.get(ref.identifier);
    if (!instance)
      throw new ModelHostError("not-found", `Cannot find a model with identifier "${ref.identifier}"`);
    const m = this.model(instance.key);
    const prompt = await this.applyPromptTemplate(ref, turns);
    const promptTokens = fakeTokens(prompt);
    if (promptTokens > instance.contextLength)
      throw new ModelHostError("overflow", "Context size has been exceeded.");
    if (promptTokens > (m.fillLimit ?? m.loadLimit ?? m.declared))
      throw new ModelHostError("crash", "The model has crashed");
    const facts = new Map([...prompt.matchAll(/The passkey for (\S+) is (\d+)\./g)].map((x) => [x[1], x[2]]));
    const recalls = promptTokens <= (m.effective ?? Number.POSITIVE_INFINITY);
    const last = turns[turns.length - 1]?.content ?? "";
    const lines = [...last.matchAll(/What is the passkey for (\S+)\?/g)].map((q) => {
      const value = facts.get(q[1]) ?? "0";
      return `The passkey for ${q[1]} is ${recalls ? value : String(Number(value) + 1)}.`;
    });
    const content = lines.length > 0 ? lines.join("\n") : `You said: ${last}`.slice(0, request.maxTokens * 4);
    return { content, promptTokens, stopReason: "eosFound", timeToFirstTokenSec: 0.1, tokensPerSecond: 50 };
  }

  async estimate(key: string, contextLength: number) {
    if (!this.estimates) return undefined;
    const m = this.model(key);
    return { passesGuardrails: contextLength <= (m.loadLimit ?? m.declared) };
  }

  async close() {
    for (const id of this.owned) this.instances.delete(id);
    this.owned.clear();
  }
}
