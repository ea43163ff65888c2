// A minimal broadcast server on Node's `ws` package speaking the subset of parley.v1 the
// load generator uses (subscribe -> history, post -> ack + comment to the article's
// subscribers). No rules, no storage: the peer Parley is compared with in make bench.
'use strict';
const http = require('node:http');
const path = require('node:path');
const WebSocket = require(path.resolve(__dirname, '..', '..', 'tests', 'node_modules', 'ws'));

const port = Number(process.argv[2] || 9090);
const rooms = new Map(); // article -> Set of sockets
let nextId = 1;

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', connections: wss.clients.size }));
  } else { res.writeHead(404); res.end(); }
});
const wss = new WebSocket.Server({ server, path: '/ws', handleProtocols: (p) => (p.has('parley.v1') ? 'parley.v1' : false) });

wss.on('connection', (ws) => {
  ws.rooms = new Set();
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data); } catch { return ws.send(JSON.stringify({ type: 'error', code: 'bad_json' })); }
    if (m.type === 'subscribe') {
      if (!rooms.has(m.article)) rooms.set(m.article, new Set());
      rooms.get(m.article).add(ws);
      ws.rooms.add(m.article);
      ws.send(JSON.stringify({ type: 'history', id: m.id, article: m.article, comments: [], has_older: false, count: 0 }));
    } else if (m.type === 'post') {
      const comment = { id: nextId++, article: m.article, parent: null, author: { id: 'g:peer', name: m.name, guest: true },
        title: m.title, body: m.body, created_at: new Date().toISOString(), edited_at: null, status: 'published' };
      ws.send(JSON.stringify({ type: 'ack', id: m.id, comment }));
      const frame = JSON.stringify({ type: 'comment', comment }); // serialised once, like Parley
      for (const s of rooms.get(m.article) || []) if (s.readyState === 1) s.send(frame);
    } else {
      ws.send(JSON.stringify({ type: 'error', id: m.id, code: 'unknown_type' }));
    }
  });
  ws.on('close', () => { for (const a of ws.rooms) rooms.get(a)?.delete(ws); });
});

server.listen(port, '127.0.0.1', () => console.error(`ws-room listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
