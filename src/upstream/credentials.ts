/** The IOmeter Provider API authenticates with HTTP Basic, token as user and secret as password. */
export function basicAuthorization(token: string, secret: string): string {
  return `Basic ${Buffer.from(`${token}:${secret}`, 'utf8').toString('base64')}`;
}
