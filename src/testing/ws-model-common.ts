import type { CatalogModel } from "./catalog.js";
import { isRecord } from "./http-util.js";
import { positiveInt, readKvStack } from "./kv-config.js";
import { kvCacheFields, kvCacheRequest, PARALLEL_KEY, processingState } from "./kv-load-config.js";
import { loadSettingsFromKvStack, loadSettingsKvFields } from "./load-config.js";
import { isLoadFailure, type LoadedInstance, type LoadFailure, sleep } from "./state.js";
import { instanceInfo, modelInfo } from "./ws-info.js";
import {
  type ChannelHandle,
  type NamespaceEndpoints,
  SdkError,
  type SdkSession,
  type WireError,
} from "./ws-protocol.js";

export type Domain = "llm" | "embedding";

const SAMPLE = 10;

function param(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function domainInstances(session: SdkSession, domain: Domain): LoadedInstance[] {
  return session.state.instances.filter((i) => i.model.type === domain);
}

export function identifierNotFound(session: SdkSession, domain: Domain, identifier: string): SdkError {
  const loaded = domainInstances(session, domain).map((i) => i.identifier);
  return new SdkError({
    title: `Cannot find a model with identifier "${identifier}"`,
    displayData: {
      code: "generic.identifierNotFound",
      identifier,
      loadedModelsSample: loaded.slice(0, SAMPLE),
      totalLoadedModels: loaded.length,
    },
  });
}

function pathNotFound(session: SdkSession, domain: Domain, path: string): WireError {
  const available = [...session.state.catalog.values()].filter((m) => m.type === domain).map((m) => m.key);
  const title = `Cannot find a model with path "${path}"`;
  return {
    title,
    rootTitle: title,
    displayData: {
      code: "generic.pathNotFound",
      path,
      availablePathsSample: available.slice(0, SAMPLE),
      totalModels: available.length,
    },
  };
}

function loadFailureToWire(session: SdkSession, domain: Domain, failure: LoadFailure): WireError {
  if (failure.code === "pathNotFound") return pathNotFound(session, domain, failure.path);
  return { title: failure.message, rootTitle: failure.message };
}

function domainMismatch(model: CatalogModel, domain: Domain): WireError {
  return {
    title: `Model "${model.key}" is a ${model.type} model, but a ${domain} model was expected.`,
    displayData: {
      code: "generic.domainMismatch",
      path: model.key,
      actualDomain: model.type,
      expectedDomain: domain,
    },
  };
}

/**
 * Resolves a ModelSpecifier to a loaded instance of this namespace's domain. `undefined` only when
 * `throwIfNotFound` is false.
 */
export function resolveSpecifier(
  session: SdkSession,
  domain: Domain,
  specifier: unknown,
  throwIfNotFound = true,
): LoadedInstance | undefined {
  const spec = param(specifier);
  let found: LoadedInstance | undefined;
  if (spec.type === "instanceReference") {
    found = session.state.findByReference(String(spec.instanceReference));
    if (!found && throwIfNotFound) {
      throw new SdkError({
        title: "This model has already been unloaded.",
        displayData: { code: "generic.specificModelUnloaded" },
      });
    }
  } else {
    const query = param(spec.query);
    found = domainInstances(session, domain).find(
      (i) =>
        (query.identifier === undefined || i.identifier === query.identifier) &&
        (query.path === undefined || i.model.key === query.path || i.model.path === query.path) &&
        (query.vision === undefined || (i.model.type === "llm" && i.model.vision === query.vision)),
    );
    if (!found && throwIfNotFound) {
      const loaded = domainInstances(session, domain).map((i) => i.identifier);
      throw new SdkError({
        title: "No loaded model satisfies all requirements specified in the query.",
        displayData: {
          code: "generic.noModelMatchingQuery",
          query,
          loadedModelsSample: loaded.slice(0, SAMPLE),
          totalLoadedModels: loaded.length,
        },
      });
    }
  }
  if (found) session.state.touch(found);
  return found;
}

export function loadConfigOf(instance: LoadedInstance): { fields: Array<{ key: string; value: unknown }> } {
  const domain = instance.model.type;
  // `parallel` is read back from the slots the instance really runs (kv-pool), with the cache mode.
  const fields: Array<{ key: string; value: unknown }> = [
    { key: `${domain}.load.contextLength`, value: instance.contextLength },
    ...loadSettingsKvFields(instance.loadSettings).filter((field) => field.key !== PARALLEL_KEY),
  ];
  if (domain === "llm") fields.push(...kvCacheFields(instance.kv.settings));
  return { fields };
}

/** Sends load progress over the simulated load time; false when cancelled (or the socket was dropped). */
async function simulateLoading(
  session: SdkSession,
  model: CatalogModel,
  channel: ChannelHandle,
  progressMessage: (progress: number) => unknown,
  faultPath: string,
): Promise<boolean> {
  const steps = 4;
  const stepMs = session.state.loadTimeMs(model) / steps;
  const drop = session.faults.take("ws-drop-mid-load", faultPath);
  for (let step = 1; step <= steps; step++) {
    await Promise.race([sleep(stepMs), channel.cancelled]);
    if (channel.isCancelled()) return false;
    if (step < steps) channel.send(progressMessage(step / steps));
    if (drop && step === 2) {
      session.drop();
      return false;
    }
  }
  return true;
}

export function modelEndpoints(domain: Domain): NamespaceEndpoints {
  const contextKey = `${domain}.load.contextLength`;
  return {
    channels: {
      loadModel: async (session, creation, channel) => {
        const p = param(creation);
        const modelKey = String(p.modelKey);
        const model = session.state.catalog.get(modelKey);
        if (model && model.type !== domain) return channel.error(domainMismatch(model, domain));
        const contextLength = positiveInt(readKvStack(p.loadConfigStack, contextKey));
        const plan = session.state.planLoad(modelKey, {
          ...(typeof p.identifier === "string" ? { identifier: p.identifier } : {}),
          ...(contextLength !== undefined ? { contextLength } : {}),
          ...kvCacheRequest(domain, p.loadConfigStack),
          ...(positiveInt(p.ttlMs) !== undefined ? { ttlMs: positiveInt(p.ttlMs)! } : {}),
          settings: loadSettingsFromKvStack(p.loadConfigStack),
        });
        if (isLoadFailure(plan)) return channel.error(loadFailureToWire(session, domain, plan));
        channel.send({ type: "resolved", info: modelInfo(plan.model) });
        const ok = await simulateLoading(
          session,
          plan.model,
          channel,
          (progress) => ({ type: "progress", progress }),
          `/${domain}/loadModel`,
        );
        if (!ok) {
          channel.error({ title: "Model loading was cancelled." });
          return;
        }
        const instance = await session.state.commitLoad(plan);
        if (isLoadFailure(instance)) return channel.error(loadFailureToWire(session, domain, instance));
        channel.send({ type: "success", info: instanceInfo(instance) });
        channel.close();
      },
      getOrLoad: async (session, creation, channel) => {
        const p = param(creation);
        const identifier = String(p.identifier);
        const existing =
          session.state.findInstance(identifier) ??
          domainInstances(session, domain).find((i) => i.model.key === identifier);
        if (existing && existing.model.type === domain) {
          // Already loaded: the requested config (context length) is ignored, as LM Studio does.
          session.state.touch(existing);
          channel.send({ type: "alreadyLoaded", info: instanceInfo(existing) });
          return channel.close();
        }
        const model = session.state.catalog.get(identifier);
        if (model && model.type !== domain) return channel.error(domainMismatch(model, domain));
        const contextLength = positiveInt(readKvStack(p.loadConfigStack, contextKey));
        const plan = session.state.planLoad(identifier, {
          jit: true,
          ...(contextLength !== undefined ? { contextLength } : {}),
          ...kvCacheRequest(domain, p.loadConfigStack),
          ...(positiveInt(p.loadTtlMs) !== undefined ? { ttlMs: positiveInt(p.loadTtlMs)! } : {}),
          settings: loadSettingsFromKvStack(p.loadConfigStack),
        });
        if (isLoadFailure(plan)) return channel.error(loadFailureToWire(session, domain, plan));
        for (const evicted of session.state.evictOtherJitModels()) {
          channel.send({ type: "unloadingOtherJITModel", info: instanceInfo(evicted) });
        }
        channel.send({ type: "startLoading", identifier: plan.identifier, info: modelInfo(plan.model) });
        const ok = await simulateLoading(
          session,
          plan.model,
          channel,
          (progress) => ({ type: "loadProgress", progress }),
          `/${domain}/getOrLoad`,
        );
        if (!ok) return channel.error({ title: "Model loading was cancelled." });
        const instance = await session.state.commitLoad(plan);
        if (isLoadFailure(instance)) return channel.error(loadFailureToWire(session, domain, instance));
        channel.send({ type: "loadSuccess", info: instanceInfo(instance) });
        channel.close();
      },
    },
    rpc: {
      unloadModel: (session, parameter) => {
        const identifier = String(param(parameter).identifier);
        const instance = domainInstances(session, domain).find((i) => i.identifier === identifier);
        if (!instance) throw identifierNotFound(session, domain, identifier);
        session.state.unload(identifier);
        return undefined;
      },
      listLoaded: (session) => domainInstances(session, domain).map(instanceInfo),
      getModelInfo: (session, parameter) => {
        const p = param(parameter);
        const instance = resolveSpecifier(session, domain, p.specifier, p.throwIfNotFound === true);
        return instance ? instanceInfo(instance) : undefined;
      },
      getLoadConfig: (session, parameter) =>
        loadConfigOf(resolveSpecifier(session, domain, param(parameter).specifier)!),
      getBasePredictionConfig: (session, parameter) => {
        resolveSpecifier(session, domain, param(parameter).specifier);
        return { fields: [] };
      },
      getInstanceProcessingState: (session, parameter) => {
        const p = param(parameter);
        const instance = resolveSpecifier(session, domain, p.specifier, p.throwIfNotFound === true);
        return processingState(instance);
      },
      estimateModelUsage: (session, parameter) => {
        const p = param(parameter);
        const modelKey = String(p.modelKey);
        const model = session.state.catalog.get(modelKey);
        if (!model) throw new SdkError(pathNotFound(session, domain, modelKey));
        const requested = positiveInt(readKvStack(p.loadConfigStack, contextKey));
        const contextLength = session.state.effectiveLoadContext(model, requested);
        const { modelBytes, contextBytes } = session.state.estimateBytes(model, contextLength);
        return {
          memory: {
            confidence: "high",
            modelVramBytes: modelBytes,
            contextVramBytes: contextBytes,
            totalVramBytes: modelBytes + contextBytes,
            modelBytes,
            contextBytes,
            totalBytes: modelBytes + contextBytes,
          },
          passesGuardrails: contextLength <= model.loadLimit,
        };
      },
      tokenize: (session, parameter) => {
        const p = param(parameter);
        const instance = resolveSpecifier(session, domain, p.specifier)!;
        return { tokens: instance.engine.tokenize(String(p.inputString ?? "")) };
      },
      countTokens: (session, parameter) => {
        const p = param(parameter);
        const instance = resolveSpecifier(session, domain, p.specifier)!;
        return { tokenCount: instance.engine.countTokens(String(p.inputString ?? "")) };
      },
    },
  };
}
