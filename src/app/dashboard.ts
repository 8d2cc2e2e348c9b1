// A minimal landing page until the dashboard (React + Vite) lands: what is running and where to go next.
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Omnia</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7fb; }
  main { max-width: 720px; margin: 0 auto; padding: 32px 20px; }
  h1 { margin: 0 0 4px; font-size: 28px; }
  .card { background: #fff; border-radius: 10px; padding: 16px 20px; margin: 16px 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  code { background: #eef0f6; padding: 1px 5px; border-radius: 4px; }
  a { color: #3451d1; }
</style>
</head>
<body>
<main>
  <h1>Omnia is running</h1>
  <p>Open-source omnichannel marketing for e-commerce: one profile per customer across every channel.</p>
  <div class="card">
    <strong>Send events</strong> to <code>/v1/track</code>, <code>/v1/identify</code>, <code>/v1/batch</code> with your write key
    (any Segment or RudderStack library works pointed at this host).
  </div>
  <div class="card">
    <strong>Read profiles</strong> with the admin API: <a href="/api/docs">API reference</a> · <a href="/api/openapi.json">OpenAPI</a> ·
    <a href="/health">health</a>
  </div>
  <div class="card">The marketer's dashboard is on its way; the API above is complete for ingestion, identity and profiles.</div>
</main>
</body>
</html>`;
}
