// Reads a request body as raw bytes, refusing more than `limit` bytes without buffering them.
import type { IncomingMessage } from "node:http";

export type BodyResult = { readonly _tag: "Body"; readonly bytes: Buffer } | { readonly _tag: "TooLarge"; readonly seen: number };

export const readBody = (req: IncomingMessage, limit: number): Promise<BodyResult> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve({ _tag: "TooLarge", seen: declared });
      return;
    }
    const chunks: Buffer[] = [];
    let seen = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? { _tag: "TooLarge", seen } : { _tag: "Body", bytes: Buffer.concat(chunks) }));
    req.on("error", reject);
  });
