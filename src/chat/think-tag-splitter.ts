/**
 * Separates `<think>…</think>` reasoning from answer text. Reasoning models served without LM
 * Studio's "separate reasoning_content" setting put their thoughts inline; left alone, they leak
 * into the answer (and break JSON parsing of structured output).
 *
 * Streaming delivers the tags in arbitrary pieces (`<thi` + `nk>`), so text that could be the start
 * of a tag is held back until the next piece decides it.
 *
 * Some chat templates (DeepSeek-R1, Qwen3 thinking) end the prompt with `<think>` themselves, so the
 * answer starts inside the reasoning and only the closing tag appears. Such a stream needs
 * `startsInsideThink`; a complete text is recognised by its orphan `</think>`. An orphan closing tag
 * is never passed on as answer text.
 */

const OPEN_TAG = "<think>";
const CLOSE_TAG = "</think>";

export interface SplitText {
  reasoning: string;
  content: string;
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagLength(text: string, tag: string): number {
  const longest = Math.min(text.length, tag.length - 1);
  for (let length = longest; length > 0; length--) {
    if (tag.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}

export interface ThinkTagSplitterOptions {
  /** The chat template opened `<think>` in the prompt: text is reasoning until `</think>`. */
  startsInsideThink?: boolean;
}

export class ThinkTagSplitter {
  private insideThink: boolean;
  private pending = "";
  /** Models put a blank line after `</think>`; it belongs to neither part. */
  private trimNextContent = false;

  constructor(options: ThinkTagSplitterOptions = {}) {
    this.insideThink = options.startsInsideThink ?? false;
  }

  /** Feed the next piece of text; returns what can be classified so far. */
  push(piece: string): SplitText {
    const out: SplitText = { reasoning: "", content: "" };
    let text = this.pending + piece;
    this.pending = "";
    while (text.length > 0) {
      if (this.insideThink) {
        const at = text.indexOf(CLOSE_TAG);
        if (at >= 0) {
          this.emit(out, text.slice(0, at));
          this.trimNextContent = true;
          this.insideThink = false;
          text = text.slice(at + CLOSE_TAG.length);
          continue;
        }
      } else {
        const open = text.indexOf(OPEN_TAG);
        const orphanClose = text.indexOf(CLOSE_TAG);
        if (orphanClose >= 0 && (open < 0 || orphanClose < open)) {
          // The template opened the block; what came before was already classified, the tag is dropped.
          this.emit(out, text.slice(0, orphanClose));
          this.trimNextContent = true;
          text = text.slice(orphanClose + CLOSE_TAG.length);
          continue;
        }
        if (open >= 0) {
          this.emit(out, text.slice(0, open));
          this.insideThink = true;
          text = text.slice(open + OPEN_TAG.length);
          continue;
        }
      }
      const held = this.insideThink
        ? partialTagLength(text, CLOSE_TAG)
        : Math.max(partialTagLength(text, OPEN_TAG), partialTagLength(text, CLOSE_TAG));
      this.emit(out, text.slice(0, text.length - held));
      this.pending = text.slice(text.length - held);
      break;
    }
    return out;
  }

  /** The stream ended: whatever was held back is plain text of the current kind. */
  flush(): SplitText {
    const out: SplitText = { reasoning: "", content: "" };
    this.emit(out, this.pending);
    this.pending = "";
    return out;
  }

  private emit(out: SplitText, text: string): void {
    if (this.insideThink) {
      out.reasoning += text;
      return;
    }
    const content = this.trimNextContent ? text.trimStart() : text;
    if (content.length > 0) this.trimNextContent = false;
    out.content += content;
  }
}

/** Whether a complete text closes a `<think>` block it never opened (the template opened it). */
function opensInTemplate(text: string): boolean {
  const close = text.indexOf(CLOSE_TAG);
  if (close < 0) return false;
  const open = text.indexOf(OPEN_TAG);
  return open < 0 || open > close;
}

/** One-shot split of a complete text (non-streaming responses). */
export function splitThinkTags(text: string): SplitText {
  const splitter = new ThinkTagSplitter({ startsInsideThink: opensInTemplate(text) });
  const head = splitter.push(text);
  const tail = splitter.flush();
  return { reasoning: head.reasoning + tail.reasoning, content: head.content + tail.content };
}
