/**
 * A local invoke endpoint on the Lambda Runtime Interface Emulator's path, so that clients written for
 * the original container (its `test_docker.py` posts a Kinesis event there) work unchanged against
 * `onset lambda serve`: `POST /2015-03-31/functions/function/invocations` with the event as the body,
 * answered with what the handler returns. A handler that throws is answered as the emulator answers
 * it: 200 with `{"errorType", "errorMessage"}` and `X-Amz-Function-Error: Unhandled`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The emulator's path: the function is always called `function`. */
export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
/** Lambda's limit of a synchronous invocation's payload. */
export const MAX_INVOKE_BYTES = 6 * 1024 * 1024;

export interface InvokeServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

class PayloadTooLarge extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_INVOKE_BYTES) throw new PayloadTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body ?? null);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Serves `invoke` on the emulator's path at `port` (0: any free port) on `host`. */
export async function startInvokeServer(
  invoke: (event: unknown) => Promise<unknown>,
  options: { readonly port: number; readonly host?: string },
): Promise<InvokeServer> {
  const server = createServer((request, response) => {
    if (request.url !== INVOKE_PATH) {
      send(response, 404, { message: `Not found: invoke the function with POST ${INVOKE_PATH}` });
      return;
    }
    if (request.method !== 'POST') {
      send(
        response,
        405,
        { message: `Method ${request.method} not allowed: POST the event` },
        { allow: 'POST' },
      );
      return;
    }
    void (async () => {
      let event: unknown;
      try {
        const text = await readBody(request);
        event = text.trim() === '' ? {} : JSON.parse(text);
      } catch (error) {
        if (error instanceof PayloadTooLarge) {
          send(response, 413, {
            errorType: 'RequestEntityTooLarge',
            errorMessage: `The event is larger than Lambda's ${MAX_INVOKE_BYTES} bytes`,
          });
        } else {
          send(response, 400, {
            errorType: 'InvalidRequestContent',
            errorMessage: `The event is not JSON: ${(error as Error).message}`,
          });
        }
        return;
      }
      try {
        send(response, 200, await invoke(event));
      } catch (error) {
        send(
          response,
          200,
          {
            errorType: error instanceof Error ? error.name : 'Error',
            errorMessage: error instanceof Error ? error.message : String(error),
          },
          { 'x-amz-function-error': 'Unhandled' },
        );
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
