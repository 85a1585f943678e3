import { BadGatewayException, HttpException } from '@nestjs/common';

export interface JsonRequest {
  method?: string;
  body?: unknown;
  /** Pass `breakerSignal()` so a breaker timeout aborts the request instead of leaving it running. */
  signal?: AbortSignal;
}

/**
 * A JSON call to a downstream with Node's global fetch. Outages (network errors, 5xx) become 502
 * `BadGatewayException`s; the downstream's 4xx answers become `HttpException`s with the same status,
 * so the shop's breakers can tell "the payment API is down" from "this card was refused".
 */
export async function requestJson<T>(service: string, url: string, init: JsonRequest = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      signal: init.signal,
      headers: init.body === undefined ? undefined : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    // A breaker timeout aborted the request: its CallTimeoutError has already reached the caller.
    if (init.signal?.aborted) throw init.signal.reason;
    throw new BadGatewayException(`${service} is unreachable: ${(error as Error).message}`, { cause: error });
  }
  const body = parseJson(await response.text());
  if (response.status >= 500) {
    throw new BadGatewayException(`${service} answered ${response.status}: ${messageOf(body)}`);
  }
  if (response.status >= 400) throw new HttpException(body ?? response.statusText, response.status);
  return body as T;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function messageOf(body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : JSON.stringify(body);
}
