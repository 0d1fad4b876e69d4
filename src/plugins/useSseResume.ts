import { getSSEProcessor, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { takeEventPosition } from '../stitching/liveReading';

function acceptsEventStream(request: Request | undefined): boolean {
  return request?.headers.get('accept')?.includes('text/event-stream') === true;
}

/**
 * SSE event ids for live readings, so a reconnecting EventSource sends `Last-Event-ID` and resumes
 * where it left off: the header goes on the context (`context.lastEventId`), for the live-readings
 * fields to resume after. yoga's SSE processor writes no ids; this wraps it, inserting
 * `id: <position>` (noted by liveReading) before each `next` event that carries a reading. Events
 * without a position (errors) get none, and the client keeps its last id, as the SSE spec says.
 */
export function useSseResume(): Plugin<{ lastEventId?: string }> {
  const positions = new WeakMap<object, string>();
  const sse = getSSEProcessor();
  return {
    onContextBuilding({ context, extendContext }) {
      const lastEventId = context.request?.headers.get('last-event-id');
      if (lastEventId) extendContext({ lastEventId });
    },
    onSubscribe({ args }) {
      // Only an SSE response writes ids: a WebSocket subscription (no request) keeps no hook per result.
      if (!acceptsEventStream(args.contextValue.request)) return;
      return {
        onSubscribeResult() {
          const context = args.contextValue as object;
          return {
            onNext({ result }) {
              const position = takeEventPosition(context);
              if (position !== undefined) positions.set(result, position);
            },
          };
        },
      };
    },
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !acceptsEventStream(request)) return;
      setResultProcessor(async (results, fetchAPI) => {
        const ids: Array<string | undefined> = [];
        const noted = (async function* () {
          for await (const each of results as AsyncIterable<object>) {
            ids.push(positions.get(each));
            yield each;
          }
        })();
        const response = await sse(noted, fetchAPI, 'text/event-stream');
        const encoder = new fetchAPI.TextEncoder();
        const decoder = new fetchAPI.TextDecoder();
        // Works on whole lines: chunks may split or join events. A data line is one JSON text, which
        // never holds a raw newline, so an "event: next" line is always an event's first line.
        let partial = '';
        const withIds = new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            const text = partial + decoder.decode(chunk, { stream: true });
            const complete = text.lastIndexOf('\n') + 1;
            partial = text.slice(complete);
            const lines = text.slice(0, complete).replace(/^event: next$/gm, (line) => {
              const id = ids.shift();
              return id === undefined ? line : `id: ${id}\n${line}`;
            });
            if (lines) controller.enqueue(encoder.encode(lines));
          },
          flush(controller) {
            if (partial) controller.enqueue(encoder.encode(partial));
          },
        });
        return new fetchAPI.Response(response.body?.pipeThrough(withIds), response);
      }, 'text/event-stream');
    },
  };
}
