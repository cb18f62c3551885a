/**
 * Separates `<think>…</think>` reasoning from answer text. Reasoning models served without LM
 * Studio's "separate reasoning_content" setting put their thoughts inline; left alone, they leak
 * into the answer (and break JSON parsing of structured output).
 *
 * Streaming delivers the tags in arbitrary pieces (`<thi` + `nk>`), so text that could be the start
 * of a tag is held back until the next piece decides it.
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

export class ThinkTagSplitter {
  private insideThink = false;
  private pending = "";
  /** Models put a blank line after `</think>`; it belongs to neither part. */
  private trimNextContent = false;

  /** Feed the next piece of text; returns what can be classified so far. */
  push(piece: string): SplitText {
    const out: SplitText = { reasoning: "", content: "" };
    let text = this.pending + piece;
    this.pending = "";
    while (text.length > 0) {
      const tag = this.insideThink ? CLOSE_TAG : OPEN_TAG;
      const at = text.indexOf(tag);
      if (at >= 0) {
        this.emit(out, text.slice(0, at));
        if (this.insideThink) this.trimNextContent = true;
        this.insideThink = !this.insideThink;
        text = text.slice(at + tag.length);
        continue;
      }
      const held = partialTagLength(text, tag);
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

/** One-shot split of a complete text (non-streaming responses). */
export function splitThinkTags(text: string): SplitText {
  const splitter = new ThinkTagSplitter();
  const head = splitter.push(text);
  const tail = splitter.flush();
  return { reasoning: head.reasoning + tail.reasoning, content: head.content + tail.content };
}
