import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Env, Hono } from 'hono';

/**
 * The browsable API reference at `/api/docs`: Swagger UI served from the swagger-ui-dist
 * package, not a CDN, because NOC networks are often closed to the internet.
 */
const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const distDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const page = () => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Downstream API</title>
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css" />
  <style>body { margin: 0; background: #fafafa; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>`;

export function mountApiDocs<E extends Env>(app: Hono<E>, specUrl = '/api/openapi.json'): void {
  const cache = new Map<string, Buffer>();
  app.get('/api/docs', (c) => c.html(page()));
  // A separate script rather than inline code, so a strict Content-Security-Policy can stay on.
  app.get('/api/docs/init.js', (c) =>
    c.body(
      `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: '#swagger-ui', deepLinking: true });\n`,
      200,
      {
        'content-type': 'text/javascript; charset=utf-8',
      },
    ),
  );
  app.get('/api/docs/assets/:file', (c) => {
    const file = c.req.param('file');
    const type = assets[file];
    if (!type)
      return c.json({ error: 'not found', details: [{ path: 'param.file', message: `no asset ${file}` }] }, 404);
    let body = cache.get(file);
    if (!body) {
      body = readFileSync(join(distDir, file));
      cache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
}
