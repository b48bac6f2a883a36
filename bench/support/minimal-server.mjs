// The reference for the serving benchmark: a bare Node HTTP server that reads and parses the same JSON body
// as POST /predict and answers a fixed prediction. No validation, no model, no metrics: the ceiling.
// `node minimal-server.mjs 2` serves from 2 processes on one port (Node's cluster module, as `onset up`).
import cluster from 'node:cluster';
import { createServer } from 'node:http';

const processes = Number(process.argv[2] ?? 1);
const answer = JSON.stringify({
  patient_id: null,
  probability: 0.5,
  diagnosis: 1,
  model: { name: 'fixed', version: '1', run_id: null },
});
if (processes > 1 && cluster.isPrimary) {
  // Every worker's listen(0) gets the same port; the primary says it once all of them listen.
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === processes) process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
  });
  for (let i = 0; i < processes; i++) cluster.fork();
} else {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      JSON.parse(body);
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(answer);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    if (cluster.isPrimary) process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  });
}
