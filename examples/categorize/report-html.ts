import type { ClusterSummary } from "./cluster-summary.js";
import type { ClassScores, Evaluation } from "./evaluation.js";

/**
 * report.html: one self-contained file (inline CSS and SVG, no scripts, nothing fetched) that a
 * reviewer can open from a shared folder or attach to a ticket. With labels it shows per-class
 * scores with a chart, the confusion matrix, the misclassified files with the model's evidence,
 * abstentions and errors; for a distributed run, what each worker did.
 */

export interface ReportContent {
  title: string;
  generatedAt: string;
  documents: number;
  errors: number;
  evaluation?: Evaluation;
  cluster?: ClusterSummary;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export function formatScore(value: number | undefined): string {
  return value === undefined ? "–" : value.toFixed(3);
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)} %`;
}

const BAR_COLOURS = { precision: "#4e79a7", recall: "#f28e2b", f1: "#59a14f" } as const;

/** Grouped bars, one group per class: precision, recall and F1 on a 0–1 axis. */
function scoresChart(classes: readonly ClassScores[]): string {
  const groupWidth = 96;
  const barWidth = 22;
  const height = 180;
  const top = 20;
  const left = 36;
  const width = left + classes.length * groupWidth + 10;
  const y = (value: number) => top + height - value * height;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (tick) =>
        `<line x1="${left}" x2="${width - 10}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/>` +
        `<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`,
    )
    .join("");
  const bars = classes
    .map((scores, i) => {
      const x0 = left + i * groupWidth + 12;
      const parts = (["precision", "recall", "f1"] as const).map((metric, j) => {
        const value = scores[metric];
        const x = x0 + j * barWidth;
        if (value === undefined) {
          return `<text x="${x + barWidth / 2 - 2}" y="${y(0) - 4}" text-anchor="middle">–</text>`;
        }
        return (
          `<rect x="${x}" y="${y(value)}" width="${barWidth - 4}" height="${(value * height).toFixed(1)}" fill="${BAR_COLOURS[metric]}">` +
          `<title>${escapeHtml(scores.category)} ${metric} ${formatScore(value)}</title></rect>`
        );
      });
      const label = `<text x="${x0 + 30}" y="${top + height + 16}" text-anchor="middle">${escapeHtml(scores.category)}</text>`;
      return parts.join("") + label;
    })
    .join("");
  const legend = Object.entries(BAR_COLOURS)
    .map(
      ([metric, colour], i) =>
        `<rect x="${left + i * 90}" y="${top + height + 30}" width="10" height="10" fill="${colour}"/>` +
        `<text x="${left + i * 90 + 14}" y="${top + height + 39}">${metric}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="precision, recall and F1 per category" width="${width}" height="${top + height + 50}" font-size="11" font-family="sans-serif">${grid}${bars}${legend}</svg>`;
}

function scoresTable(evaluation: Evaluation): string {
  const rows = evaluation.classes
    .map(
      (scores) =>
        `<tr><th scope="row">${escapeHtml(scores.category)}</th><td>${formatScore(scores.precision)}</td>` +
        `<td>${formatScore(scores.recall)}</td><td>${formatScore(scores.f1)}</td><td>${scores.support}</td><td>${scores.predicted}</td></tr>`,
    )
    .join("");
  const { macro } = evaluation;
  return (
    `<table class="scores"><thead><tr><th>category</th><th>precision</th><th>recall</th><th>F1</th><th>labelled</th><th>predicted</th></tr></thead>` +
    `<tbody>${rows}</tbody><tfoot><tr><th scope="row">macro average</th><td>${formatScore(macro.precision)}</td>` +
    `<td>${formatScore(macro.recall)}</td><td>${formatScore(macro.f1)}</td><td>${evaluation.decided}</td><td>${evaluation.decided}</td></tr></tfoot></table>`
  );
}

function confusionTable({ categories, matrix }: Evaluation): string {
  const largest = Math.max(1, ...matrix.flat());
  const head = categories.map((name) => `<th scope="col">${escapeHtml(name)}</th>`).join("");
  const rows = matrix
    .map((row, i) => {
      const cells = row
        .map((count, j) => {
          const shade = (0.08 + 0.6 * (count / largest)).toFixed(2);
          const colour =
            i === j ? `rgba(89,161,79,${shade})` : count > 0 ? `rgba(225,87,89,${shade})` : "transparent";
          return `<td style="background:${colour}">${count}</td>`;
        })
        .join("");
      return `<tr><th scope="row">${escapeHtml(categories[i]!)}</th>${cells}</tr>`;
    })
    .join("");
  return `<table class="confusion"><thead><tr><th>true ↓ / predicted →</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function misclassifiedList(evaluation: Evaluation): string {
  if (evaluation.misclassified.length === 0) return "<p>None.</p>";
  const rows = evaluation.misclassified
    .map(
      (miss) =>
        `<tr><td>${escapeHtml(miss.file)}</td><td>${escapeHtml(miss.expected)}</td><td>${escapeHtml(miss.got)}</td>` +
        `<td>${miss.confidence}</td><td><q>${escapeHtml(miss.evidenceQuote)}</q> (page ${miss.evidencePage ?? "?"}, ` +
        `${miss.evidenceVerified ? "found in the text" : "not found in the text"})</td><td>${escapeHtml(miss.reason)}</td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>file</th><th>labelled</th><th>model said</th><th>confidence</th><th>evidence</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function abstentionsAndErrors(evaluation: Evaluation): string {
  const abstentions =
    evaluation.abstentions.length === 0
      ? "<p>None.</p>"
      : `<table><thead><tr><th>file</th><th>labelled</th><th>leaning to</th><th>confidence</th></tr></thead><tbody>${evaluation.abstentions
          .map(
            (item) =>
              `<tr><td>${escapeHtml(item.file)}</td><td>${escapeHtml(item.expected)}</td><td>${escapeHtml(item.got)}</td><td>${item.confidence}</td></tr>`,
          )
          .join("")}</tbody></table>`;
  const errors =
    evaluation.errors.length === 0
      ? "<p>None.</p>"
      : `<table><thead><tr><th>file</th><th>labelled</th><th>error</th></tr></thead><tbody>${evaluation.errors
          .map(
            (item) =>
              `<tr><td>${escapeHtml(item.file)}</td><td>${escapeHtml(item.expected)}</td><td>${escapeHtml(item.error)}</td></tr>`,
          )
          .join("")}</tbody></table>`;
  return (
    `<h2 id="abstentions">Abstentions (${evaluation.abstentions.length})</h2>` +
    `<p>Final confidence under ${evaluation.abstainBelow}, even after the page vote: left for a person, not counted as right or wrong.</p>${abstentions}` +
    `<h2 id="errors">Errors (${evaluation.errors.length})</h2>${errors}`
  );
}

function clusterSection(cluster: ClusterSummary): string {
  const stateText = {
    running: "still running",
    stopped: "stopped cleanly",
    lost: "LOST: stopped without shutting down (killed or crashed)",
  };
  const rows = cluster.workers
    .map(
      (worker) =>
        `<tr class="${worker.state}"><td>${escapeHtml(worker.id)}</td><td>${escapeHtml(worker.hostname)} pid ${worker.pid}</td>` +
        `<td>${escapeHtml(worker.baseUrl)}</td><td>${worker.documents}</td><td>${stateText[worker.state]}</td>` +
        `<td>${escapeHtml(worker.lastSeenAt)}</td></tr>`,
    )
    .join("");
  const redelivered =
    cluster.redelivered.length === 0
      ? "<p>No job was handed out twice.</p>"
      : `<p>${cluster.redelivered.length} document(s) were started again after their worker stopped holding them; each kept exactly one result.</p>` +
        `<table><thead><tr><th>file</th><th>attempts</th><th>result from</th></tr></thead><tbody>${cluster.redelivered
          .map(
            (item) =>
              `<tr><td>${escapeHtml(item.file)}</td><td>${item.attempts}</td><td>${escapeHtml(item.worker)}</td></tr>`,
          )
          .join("")}</tbody></table>`;
  return (
    `<h2 id="workers">Workers (queue ${escapeHtml(cluster.queue)})</h2>` +
    `<table><thead><tr><th>worker</th><th>machine</th><th>LM Studio</th><th>documents</th><th>state</th><th>last seen</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p>Stalled jobs reported by the queue: ${cluster.stalledJobs}.</p>${redelivered}`
  );
}

export function reportHtml(content: ReportContent): string {
  const { evaluation } = content;
  const summary = evaluation
    ? `<p class="summary">${evaluation.correct} of ${evaluation.decided} decided documents correct (${percent(evaluation.correct, evaluation.decided)}), ` +
      `macro F1 ${formatScore(evaluation.macro.f1)}; ${evaluation.abstentions.length} abstained, ${evaluation.errors.length} failed, ` +
      `${evaluation.labelled} labelled in all.</p>`
    : "<p>No labels are known for these documents, so there is no evaluation. Put a labels.csv (file,category) in the input folder or pass --labels.</p>";
  const body = evaluation
    ? `<h2 id="scores">Per category</h2>${scoresChart(evaluation.classes)}${scoresTable(evaluation)}` +
      `<h2 id="confusion">Confusion matrix</h2><p>Rows are the labels, columns the model's answers; decided documents only.</p>${confusionTable(evaluation)}` +
      `<h2 id="misclassified">Misclassified (${evaluation.misclassified.length})</h2>${misclassifiedList(evaluation)}` +
      abstentionsAndErrors(evaluation) +
      (evaluation.withoutResult.length > 0
        ? `<h2>Labelled but not classified (${evaluation.withoutResult.length})</h2><p>${evaluation.withoutResult.map(escapeHtml).join(", ")}</p>`
        : "")
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(content.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
.scores td,.confusion td{text-align:right}.summary{font-size:1.1rem}tr.lost{background:#fde2e2}
</style></head><body>
<h1>${escapeHtml(content.title)}</h1>
<p>${content.documents} documents, ${content.errors} failed. Generated ${escapeHtml(content.generatedAt)}.</p>
${summary}
${body}
${content.cluster ? clusterSection(content.cluster) : ""}
</body></html>
`;
}
