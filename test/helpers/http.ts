/** Small HTTP helpers for tests that talk to a running deployment. */
import { type Agent, request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** POST a JSON body (a string is sent as is) and collect the answer. */
export function postJson(url: string, body: unknown, agent?: Agent): Promise<HttpResult> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** One valid raw record of the churn example. */
export const churnRecord = { tenure_months: 12, monthly_charges: 59.5, support_calls: 2, plan: 'pro', payment_method: 'card' };
