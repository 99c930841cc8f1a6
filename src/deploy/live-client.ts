/**
 * The live version as its callers reach it: one `LiveClient` per target (types.ts), built here from
 * what differs — a route per kind of call and the platform's credentials on an HTTP request
 * (local, Vertex, Azure, a --url), or an SDK call whose answer arrives as bytes (SageMaker's
 * runtime). Either way the caller gets a fetch `Response` whose body streams as it arrives.
 */
import type { LiveClient } from './types.js';

/** A client that POSTs to a plain HTTP route (one for whole answers, one for streams) with the platform's headers. */
export function httpLiveClient(options: {
  version?: string;
  url: string;
  routes: { whole: string; stream: string };
  /** The platform's credentials, asked for per request (tokens expire). */
  headers?: () => Promise<Record<string, string>>;
}): LiveClient {
  return {
    ...(options.version !== undefined && { version: options.version }),
    url: options.url,
    async chat(body, { stream, signal }) {
      return fetch(stream ? options.routes.stream : options.routes.whole, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', ...(await options.headers?.()) },
        body,
        signal,
      });
    },
  };
}

/** An answer that arrived as chunks of bytes (an SDK's stream) as a fetch `Response`; cancelling it ends the iteration (and so the call). */
export function responseOf(status: number, contentType: string | undefined, chunks: AsyncIterable<Uint8Array>): Response {
  const iterator = chunks[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return new Response(body, { status, headers: contentType ? { 'content-type': contentType } : {} });
}
