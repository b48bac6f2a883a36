// The reference for the serving benchmark: a bare Node HTTP server that reads and parses the same JSON body
// as POST /predict and answers a fixed prediction. No validation, no model, no metrics: the ceiling.
import { createServer } from 'node:http';

const answer = JSON.stringify({
  patient_id: null,
  probability: 0.5,
  diagnosis: 1,
  model: { name: 'fixed', version: '1', run_id: null },
});
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
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`),
);
