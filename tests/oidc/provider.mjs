// The OpenID provider of tests/api/oidc.rs: oidc-provider (OpenID Certified) on loopback, configured like a
// Keycloak realm would be for this service. Access tokens are JWTs (resource indicators, RFC 8707) for the
// resource `urn:versorgung:api` with the audience `versorgung-api`; the role is in `realm_access.roles`, the
// organisation's AGS in `ags` (both set per machine client below, and per user for the authorization code flow).
//
//   ALG=RS256 node provider.mjs     (ALG: RS256 or ES256; ISSUER: another issuer name, optional; PORT: default any)
//
// It listens on 127.0.0.1 and prints `listening <port>` once the providers are ready.
//
// Key rotation is driven by the test over HTTP: POST /test/stage?n=N switches between four provider instances that
// differ only in their signing keys: 1 [A], 2 [A, B] (B published, A still signs), 3 [B, A] (B signs, A still
// published), 4 [B] (A removed). GET /test/stats counts the requests for the JWKS and the discovery document.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const alg = process.env.ALG || 'RS256';
const RESOURCE = 'urn:versorgung:api';
const OTHER_RESOURCE = 'urn:andere:api';
const REDIRECT = 'http://127.0.0.1/callback';

function signingKey(kid) {
  const { privateKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
const run = crypto.randomBytes(4).toString('hex');
const keyA = signingKey(`a-${run}`);
const keyB = signingKey(`b-${run}`);
const stages = { 1: [keyA], 2: [keyA, keyB], 3: [keyB, keyA], 4: [keyB] };

// Machine clients (client credentials) and what their tokens say.
const machines = {
  'bezirk-it-werra-meissner': { roles: ['versorgung-kommune'], ags: '06636' },
  'ministerium-auswertung': { roles: ['versorgung-ministerium'] },
  'kommune-unbekannt': { roles: ['versorgung-kommune'], ags: '06999999' },
  'ohne-rolle': { roles: ['offline_access', 'uma_authorization'] },
  'zwei-rollen': { roles: ['versorgung-kommune', 'versorgung-ministerium'], ags: '06636' },
  kurzlebig: { roles: ['versorgung-ministerium'], ttl: 1 },
  fremd: { roles: ['versorgung-ministerium'] },
};
// People (authorization code flow through the provider's login form).
const users = {
  'anna.schmidt': { roles: ['offline_access', 'versorgung-serviceeinheit'] },
  'kommune.eschwege': { roles: ['versorgung-kommune'], ags: '06636' },
};

const clients = [
  ...Object.keys(machines).map((id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  })),
  {
    client_id: 'versorgung-frontend',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [REDIRECT],
  },
];

function configuration(keys) {
  return {
    clients,
    jwks: { keys },
    cookies: { keys: ['versorgung-test-cookies'] },
    clientDefaults: { id_token_signed_response_alg: alg },
    findAccount: (_ctx, id) => (users[id] ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
    // First-party frontend: consent is implied (the recipe from oidc-provider's documentation).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid');
      grant.addResourceScope(RESOURCE, 'versorgung');
      await grant.save();
      return grant;
    },
    extraTokenClaims(_ctx, token) {
      const who = token.accountId ? users[token.accountId] : machines[token.clientId];
      if (!who) return undefined;
      return { realm_access: { roles: who.roles }, ...(who.ags ? { ags: who.ags } : {}) };
    },
    // The Swagger UI asks the token endpoint from the browser.
    clientBasedCORS: () => true,
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf || RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator, client) {
          const audience = { [RESOURCE]: 'versorgung-api', [OTHER_RESOURCE]: 'andere-api' }[indicator];
          if (!audience) throw new errors.InvalidTarget();
          return {
            scope: 'versorgung',
            audience,
            accessTokenTTL: machines[client.clientId]?.ttl ?? 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          };
        },
      },
    },
  };
}

let callbacks = {};
let stage = '1';
const counts = { jwks: 0, discovery: 0 };

const server = http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/test/stage' && req.method === 'POST') {
      const n = url.searchParams.get('n');
      if (!callbacks[n]) {
        res.writeHead(400).end();
        return;
      }
      stage = n;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ stage: Number(n) }));
      return;
    }
    if (url.pathname === '/test/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
      return;
    }
    if (url.pathname === '/jwks') counts.jwks += 1;
    if (url.pathname === '/.well-known/openid-configuration') counts.discovery += 1;
    callbacks[stage](req, res);
  })
  .listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    // The issuer names the port, so the providers are made once it is known.
    const { port } = server.address();
    const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
    callbacks = Object.fromEntries(
      Object.entries(stages).map(([n, keys]) => [n, new Provider(issuer, configuration(keys)).callback()]),
    );
    console.log(`listening ${port}`);
  });
