// Turnout's offline GraphiQL: bundled by build.mjs into api/assets/graphiql/ and served
// by the API at GET /graphql (page) and /graphql/assets/* (this script and its CSS).
// Everything runs from this one script: no CDN, no web workers, no eval, so the page
// works under the server's strict Content-Security-Policy.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import './page.css';

const wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

// The hint shown in the Headers editor. While it is left as is, it is not sent: the server
// would reject the placeholder key (and slow the caller down for a bad credential), which
// would also break loading the schema for the docs.
const PLACEHOLDER_TOKEN = 'tn_...';
const DEFAULT_HEADERS = `{"Authorization": "Bearer ${PLACEHOLDER_TOKEN}"}`;

const DEFAULT_QUERY = `# Turnout GraphQL API
#
# To act as your organization, put an API key
# in the Headers tab below:
#   {"Authorization": "Bearer tn_<your key>"}
# Without a key only the public schema shows;
# after setting one, re-fetch the schema (the
# refresh button at the bottom left, or
# Shift+Ctrl+R) to see everything it allows.
# Subscriptions (/graphql/ws) use the same header.

{ __typename }
`;

function isPlaceholder(value) {
  if (typeof value !== 'string') return false;
  const v = value.trim();
  const token = v.replace(/^bearer\s+/i, '').trim();
  return token === '' || token === PLACEHOLDER_TOKEN || token.endsWith('...') || token.endsWith('…') || token.includes('<');
}

function withoutPlaceholders(headers) {
  if (!headers || typeof headers !== 'object') return headers;
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization' && isPlaceholder(value)) continue;
    out[name] = value;
  }
  return out;
}

const baseFetcher = createGraphiQLFetcher({
  url: location.origin + '/graphql',
  subscriptionUrl: wsProtocol + '//' + location.host + '/graphql/ws',
});

// The headers editor's contents arrive as fetcherOpts.headers: sent as HTTP headers on
// POST /graphql and as the connection_init payload on /graphql/ws.
const fetcher = (params, opts) =>
  baseFetcher(params, opts ? { ...opts, headers: withoutPlaceholders(opts.headers) } : opts);

function App() {
  return (
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      defaultHeaders={DEFAULT_HEADERS}
      isHeadersEditorEnabled={true}
      shouldPersistHeaders={true}
      defaultEditorToolsVisibility="headers"
    />
  );
}

createRoot(document.getElementById('graphiql')).render(<App />);
