import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadRun } from './load.ts';

// Off the main thread autocannon returns its result with the histograms encoded, ready to post.
parentPort!.on('message', async (load: LoadRun) => {
  const result = await autocannon({
    url: `${load.url}${load.request.path}`,
    method: load.request.method ?? 'POST',
    headers: load.request.headers,
    ...(load.request.method === 'GET' ? {} : { body: load.request.body }),
    connections: load.connections,
    duration: load.seconds,
  });
  parentPort!.postMessage(result);
});
