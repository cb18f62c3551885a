import cliProgress from "cli-progress";
import type { PipelineEvent } from "./pipeline.js";

/**
 * A progress bar on a terminal; on a pipe or in CI, one plain line per finished document,
 * since redrawn bars turn into noise in a log file. In a distributed run the count covers every
 * worker and each line names the worker that did it.
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  onEvent: (event: PipelineEvent) => void;
  stop: () => void;
} {
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let done = 0;
  return {
    onEvent(event) {
      if (event.type === "planned") {
        total = event.toDo;
        if (stream.isTTY && total > 0) {
          bar = new cliProgress.SingleBar(
            {
              stream,
              format: "{bar} {value}/{total} documents | {file}",
              hideCursor: true,
              clearOnComplete: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0, { file: "" });
        }
        return;
      }
      if (event.type !== "finished") return;
      done++;
      const { record } = event;
      const by = event.worker ? ` [${event.worker}]` : "";
      const outcome =
        record.status === "ok" ? `${record.category} (${record.confidence})` : `error: ${record.error}`;
      if (bar) bar.update(done, { file: `${record.file} -> ${outcome}${by}` });
      else stream.write(`[${done}/${total}] ${record.file} -> ${outcome}${by}\n`);
    },
    stop() {
      bar?.stop();
    },
  };
}
