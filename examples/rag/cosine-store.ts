import type { DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { VectorStore } from "@langchain/core/vectorstores";

/**
 * The smallest in-memory vector store: vectors in an array, brute-force cosine similarity.
 * `@langchain/core` has only the VectorStore base class (MemoryVectorStore lives in the `langchain`
 * package, which this project does not depend on); extending it gives `asRetriever()` for free.
 */
export class CosineVectorStore extends VectorStore {
  declare FilterType: (document: DocumentInterface) => boolean;
  private readonly entries: Array<{ vector: number[]; norm: number; document: DocumentInterface }> = [];

  constructor(embeddings: EmbeddingsInterface) {
    super(embeddings, {});
  }

  _vectorstoreType(): string {
    return "cosine-in-memory";
  }

  get size(): number {
    return this.entries.length;
  }

  async addDocuments(documents: DocumentInterface[]): Promise<void> {
    const vectors = await this.embeddings.embedDocuments(documents.map((document) => document.pageContent));
    await this.addVectors(vectors, documents);
  }

  async addVectors(vectors: number[][], documents: DocumentInterface[]): Promise<void> {
    vectors.forEach((vector, i) => {
      const document = documents[i];
      if (document) this.entries.push({ vector, norm: Math.hypot(...vector), document });
    });
  }

  async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: this["FilterType"],
  ): Promise<[DocumentInterface, number][]> {
    const queryNorm = Math.hypot(...query) || 1;
    return this.entries
      .filter(({ document }) => !filter || filter(document))
      .map(({ vector, norm, document }): [DocumentInterface, number] => {
        let dot = 0;
        for (let i = 0; i < query.length; i++) dot += (query[i] ?? 0) * (vector[i] ?? 0);
        return [document, dot / (queryNorm * (norm || 1))];
      })
      .sort((a, b) => b[1] - a[1])
      .slice(0, k);
  }
}
