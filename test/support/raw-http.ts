// Requests written to their sockets in one go, so that they reach the server together (fetch from
// the test's own event loop staggers them): what concurrent deliveries from many senders look like.
import { connect, type Socket } from "node:net";

export type RawRequest = { readonly path: string; readonly headers: Readonly<Record<string, string>>; readonly body: Uint8Array };
export type RawResponse = { readonly status: number; readonly body: string };

const parseResponse = (text: string): RawResponse => {
  const [head, ...rest] = text.split("\r\n\r\n");
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? "")?.[1] ?? 0), body: rest.join("\r\n\r\n") };
};

/** Connects one socket per request, then writes every request at once; answers in request order. */
export const sendTogether = async (baseUrl: string, requests: readonly RawRequest[]): Promise<RawResponse[]> => {
  const { hostname, port } = new URL(baseUrl);
  const sockets = await Promise.all(
    requests.map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => resolve(socket));
          socket.once("error", reject);
        }),
    ),
  );
  const answers = sockets.map(
    (socket) =>
      new Promise<RawResponse>((resolve, reject) => {
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.once("end", () => resolve(parseResponse(Buffer.concat(chunks).toString("utf8"))));
        socket.once("error", reject);
      }),
  );
  requests.forEach((r, i) => {
    const head = [`POST ${r.path} HTTP/1.1`, `host: ${hostname}:${port}`, "connection: close", `content-length: ${r.body.length}`];
    for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${v}`);
    sockets[i]!.write(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), r.body]));
  });
  return Promise.all(answers);
};
