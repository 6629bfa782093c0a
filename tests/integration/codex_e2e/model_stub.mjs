// A stand-in for the model API (OpenAI Responses, streamed as server-sent events) on 127.0.0.1,
// so the real Codex CLI runs offline. It plays a fixed script: first a call to one MCP tool, then,
// once Codex sends the tool's output back, a final assistant message quoting that output.
// Every request body is kept for the test to inspect.
import http from 'node:http';

export async function startModelStub({ namespace, tool, args, finalPrefix = 'STUB_FINAL:' }) {
  const requests = [];
  let responseCount = 0;

  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      let json = null;
      try {
        json = JSON.parse(body);
      } catch {
        // recorded as null; Codex only sends JSON here
      }
      requests.push({ method: req.method, url: req.url, body: json });
      if (req.method !== 'POST' || !req.url.endsWith('/responses')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `stub serves only POST /v1/responses, not ${req.method} ${req.url}` } }));
        return;
      }
      responseCount += 1;
      const output = toolOutput(json);
      const item =
        output === undefined
          ? {
              type: 'function_call',
              id: `fc_${responseCount}`,
              call_id: 'call_cordon_1',
              namespace,
              name: tool,
              arguments: JSON.stringify(args),
              status: 'completed',
            }
          : {
              type: 'message',
              id: `msg_${responseCount}`,
              role: 'assistant',
              status: 'completed',
              content: [{ type: 'output_text', text: `${finalPrefix} ${output}`, annotations: [] }],
            };
      streamResponse(res, `resp_${responseCount}`, item);
    });
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// The text Codex returned for our call, or undefined if this request carries no tool output yet.
function toolOutput(body) {
  const items = Array.isArray(body?.input) ? body.input : [];
  const out = items.find((i) => i?.type === 'function_call_output' && i.call_id === 'call_cordon_1');
  if (!out) return undefined;
  return typeof out.output === 'string' ? out.output : JSON.stringify(out.output);
}

function streamResponse(res, id, item) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (type, payload) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model: 'stub-model' };
  send('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  send('response.output_item.added', { output_index: 0, item });
  send('response.output_item.done', { output_index: 0, item });
  send('response.completed', {
    response: {
      ...base,
      status: 'completed',
      output: [item],
      usage: {
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 15,
      },
    },
  });
  res.end();
}
