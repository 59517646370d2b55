// Builds the offline GraphiQL bundle into ../../api/assets/graphiql/:
//   graphiql.js   one self-contained script (React, GraphiQL, graphql, graphql-ws)
//   graphiql.css  GraphiQL's stylesheet (fonts inlined as data: URIs)
//   index.html    the page, with no inline script (CSP: script-src 'self')
// Then checks that nothing in the output points at a remote host to load at run time.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', '..', 'api', 'assets', 'graphiql');
mkdirSync(outdir, { recursive: true });
for (const f of readdirSync(outdir)) rmSync(join(outdir, f), { recursive: true, force: true });

await esbuild.build({
  entryPoints: { graphiql: join(here, 'src', 'main.jsx') },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  jsx: 'automatic',
  sourcemap: false,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.css': 'css', '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.png': 'dataurl', '.svg': 'dataurl' },
  logLevel: 'info',
});

writeFileSync(
  join(outdir, 'index.html'),
  `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Turnout GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/graphql/assets/graphiql.css">
    <script src="/graphql/assets/graphiql.js" defer></script>
  </head>
  <body>
    <div id="graphiql" style="height:100vh"></div>
  </body>
</html>
`,
);

const expected = ['graphiql.css', 'graphiql.js', 'index.html'];
const written = readdirSync(outdir).sort();
if (JSON.stringify(written) !== JSON.stringify(expected)) {
  throw new Error(`unexpected output files: ${written.join(', ')} (expected ${expected.join(', ')})`);
}

// Nothing may be loaded from elsewhere: no CDN, no remote fonts, no remote @import.
const problems = [];
const css = readFileSync(join(outdir, 'graphiql.css'), 'utf8');
for (const m of css.matchAll(/@import[^;]*;/g)) problems.push(`graphiql.css: ${m[0]}`);
for (const m of css.matchAll(/url\(\s*['"]?([^'")]*)/g)) {
  if (!m[1].startsWith('data:') && !m[1].startsWith('#')) problems.push(`graphiql.css: url(${m[1].slice(0, 80)})`);
}
const js = readFileSync(join(outdir, 'graphiql.js'), 'utf8');
for (const needle of ['unpkg', 'jsdelivr', 'cdnjs', 'esm.sh', 'fonts.googleapis', 'fonts.gstatic', 'importScripts', 'new Worker(', 'new SharedWorker(']) {
  if (js.includes(needle) || css.includes(needle)) problems.push(`output mentions ${needle}`);
}
if (problems.length) throw new Error('remote or worker references in the bundle:\n  ' + problems.join('\n  '));
console.log(`ok: ${written.join(', ')} in ${outdir}`);
