// A small local endpoint that speaks the AWS JSON 1.1 protocol (SSM, Secrets Manager), so the real SDK clients send
// the requests production sends and handle each answer as they would AWS's.
import { createServer } from 'node:http';

export interface AwsJsonCall {
  target: string;
  body: Record<string, unknown>;
}

/** Answers by X-Amz-Target and the name asked for, as the AWS JSON 1.1 protocol does. */
export function awsJsonEndpoint(answer: (call: AwsJsonCall) => { status: number; body: unknown }) {
  const calls: AwsJsonCall[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      const call = { target: String(req.headers['x-amz-target']), body: JSON.parse(text || '{}') };
      calls.push(call);
      const { status, body } = answer(call);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    });
  });
  return { server, calls };
}
