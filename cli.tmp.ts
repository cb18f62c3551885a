import { spawn } from "node:child_process";
import { startSimulator } from "./src/testing/index.js";
const run = (args: string[], env: Record<string, string>) => new Promise<string>((resolve) => {
  const t = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = ""; child.stdout.on("data", (c) => (out += c)); child.stderr.on("data", (c) => (out += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  child.on("close", (code, sig) => { clearTimeout(timer); resolve(`${args.join(" ")}: code ${code} sig ${sig} ${Date.now() - t} ms :: ${out.replace(/\n/g, " | ").slice(0, 300)}`); });
});
const mode = process.argv[2];
const sim = await startSimulator({ port: 0, loadTimeScale: 0 });
if (mode !== "down") sim.injectFault({ kind: mode as "ws-silent", times: Infinity });
let base = sim.baseUrl;
if (mode === "down") { await sim.close(); }
const env = { LMSTUDIO_BASE_URL: base, LMSTUDIO_GUARD_REGISTRY: "/tmp/i16/cli-reg.json" };
const results = await Promise.all([["status"], ["doctor"], ["scan"]].map((a) => run(a, env)));
for (const r of results) console.log(r);
await sim.close();
