import { isRecord } from "./http-util.js";
import { modelEndpoints, resolveSpecifier } from "./ws-model-common.js";
import type { NamespaceEndpoints } from "./ws-protocol.js";

const base = modelEndpoints("embedding");

export const embeddingEndpoints: NamespaceEndpoints = {
  rpc: {
    ...base.rpc,
    embedString: async (session, parameter) => {
      const p = isRecord(parameter) ? parameter : {};
      const instance = resolveSpecifier(session, "embedding", p.modelSpecifier)!;
      return { embedding: await instance.engine.embed(String(p.inputString ?? "")) };
    },
  },
  channels: base.channels,
};
