import { embeddingInfo, llmInfo } from "./ws-info.js";
import type { NamespaceEndpoints } from "./ws-protocol.js";

/** LM Studio version reported to SDK clients. */
export const SIMULATED_LMSTUDIO_VERSION = { version: "0.4.21", build: 1 };

export const systemEndpoints: NamespaceEndpoints = {
  rpc: {
    listDownloadedModels: (session) =>
      [...session.state.catalog.values()].map((m) => (m.type === "llm" ? llmInfo(m) : embeddingInfo(m))),
    listDownloadedModelVariants: (session, parameter) => {
      const key = (parameter as { modelKey?: unknown } | undefined)?.modelKey;
      const model = typeof key === "string" ? session.state.catalog.get(key) : undefined;
      return model ? [model.type === "llm" ? llmInfo(model) : embeddingInfo(model)] : [];
    },
    version: () => SIMULATED_LMSTUDIO_VERSION,
    info: () => ({ pid: process.pid, isDaemon: false, version: SIMULATED_LMSTUDIO_VERSION.version }),
    notify: () => undefined,
    getExperimentFlags: () => [],
    setExperimentFlag: () => undefined,
    startHttpServer: () => undefined,
    stopHttpServer: () => undefined,
    requestShutdown: () => undefined,
  },
  channels: {
    // `alive` stays open until the client goes away.
    alive: async (_session, _creation, channel) => {
      await channel.cancelled;
    },
  },
};
