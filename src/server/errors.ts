// The one error shape every endpoint answers with: { "error": { "code", "message" } }.
import type { ServerResponse } from "node:http";

export type ApiError = { readonly status: number; readonly code: string; readonly message: string };

export const apiError = (status: number, code: string, message: string): ApiError => ({ status, code, message });

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
};

export const sendError = (res: ServerResponse, e: ApiError): void =>
  sendJson(res, e.status, { error: { code: e.code, message: e.message } });
