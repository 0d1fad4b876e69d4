/** The IOmeter Provider API authenticates with HTTP Basic, token as user and secret as password. */
export function basicAuthorization(token: string, secret: string): string {
  return `Basic ${Buffer.from(`${token}:${secret}`, 'utf8').toString('base64')}`;
}

const REDACTED = '[redacted]';

/**
 * Removes the credentials behind a Basic `authorization` (the header, its base64, the secret and the
 * token) from a text IOmeter sent, before the text may reach the log.
 */
export function credentialRedactor(authorization: string): (text: string) => string {
  const encoded = authorization.replace(/^Basic\s+/i, '');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const secrets = [encoded, decoded, decoded.slice(separator + 1), decoded.slice(0, separator)]
    .filter((secret) => secret.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((redacted, secret) => redacted.split(secret).join(REDACTED), text);
}
