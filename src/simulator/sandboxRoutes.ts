import type { Plugin } from 'graphql-yoga';
import { RedeemError, type Registrations } from './registrations';

/**
 * What the IOmeter app would do, for the sandbox: redeem a registration token, and show what a
 * token's QR code encodes. No Basic auth, because the app is not the provider.
 */

const QR_PATH = /^\/sandbox\/qr\/([A-Za-z0-9_-]+)$/;

export function useSandboxRoutes(registrations: Registrations): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const json = (status: number, body: unknown) =>
        new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

      if (url.pathname === '/sandbox/redeem' && request.method === 'POST') {
        const body: unknown = await request.json().catch(() => undefined);
        const token = (body as { token?: unknown } | undefined)?.token;
        if (typeof token !== 'string') {
          endResponse(json(400, { error: 'Expected a JSON body like {"token": "..."}' }));
          return;
        }
        try {
          endResponse(json(200, registrations.redeem(token)));
        } catch (error) {
          // Yoga does not catch errors from onRequest hooks; an unexpected one must not kill the server.
          endResponse(
            error instanceof RedeemError
              ? json(error.status, { error: error.message })
              : json(500, { error: 'Unexpected error' }),
          );
        }
        return;
      }

      const qr = QR_PATH.exec(url.pathname);
      if (qr && request.method === 'GET') {
        // No QR encoder is available here, so the "QR code" is the deeplink it would contain.
        const deeplink = registrations.deeplink(qr[1]);
        endResponse(
          deeplink
            ? new fetchAPI.Response(deeplink, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } })
            : json(404, { error: 'Unknown registration token' }),
        );
      }
    },
  };
}
