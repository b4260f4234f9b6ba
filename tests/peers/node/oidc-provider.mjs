// A real OpenID Connect provider for the SSO tests (npm's oidc-provider, its development sign-in
// pages on). Usage: node oidc-provider.mjs PORT CLIENTS_JSON. Any login name is accepted as the
// account id, and the account's email is that name: the tests sign in as the people they need.
import Provider from 'oidc-provider';

const [port, clientsJson] = process.argv.slice(2);
const issuer = `http://localhost:${port}`;
const provider = new Provider(issuer, {
  clients: JSON.parse(clientsJson),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name', 'name'] },
  scopes: ['openid', 'email', 'profile'],
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, given_name: 'Ida', family_name: 'Provider', name: 'Ida Provider' };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  ttl: { IdToken: 600, AccessToken: 600 },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider listening at ${issuer}`));
