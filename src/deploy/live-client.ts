/**
 * The live version as its callers reach it: one `LiveClient` per target (types.ts), built here from
 * what differs — a route per kind of call, the platform's envelope of a record and its credentials on
 * an HTTP request (local, Vertex, Azure, a --url), or an SDK call whose answer arrives as bytes
 * (SageMaker's runtime). Either way the caller gets a fetch `Response` whose body streams as it arrives.
 */
import type { LiveClient } from './types.js';

/** A client that POSTs to plain HTTP routes with the platform's headers. */
export function httpLiveClient(options: {
  version?: string;
  /** Where a record goes, and where a streamed chat goes. */
  routes: { predict: string; chat: string };
  /** The platform's envelope of one record (Vertex: `{"instances": [record]}`); default the record as it is. */
  predictBody?: (record: string) => string;
  /** The platform's credentials, asked for per request (tokens expire). */
  headers?: () => Promise<Record<string, string>>;
}): LiveClient {
  const post = async (url: string, body: string, accept: string, signal: AbortSignal) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept, ...(await options.headers?.()) }, body, signal });
  return {
    ...(options.version !== undefined && { version: options.version }),
    predictRoute: options.routes.predict,
    chatRoute: options.routes.chat,
    predict: (record, { signal }) => post(options.routes.predict, options.predictBody ? options.predictBody(record) : record, 'application/json', signal),
    streamChat: (body, { signal }) => post(options.routes.chat, body, 'text/event-stream', signal),
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
