/**
 * SageMaker Data Capture lines as neutral prediction records: `{captureData: {endpointInput,
 * endpointOutput}, eventMetadata: {eventId, inferenceTime, inferenceId?}, eventVersion}`, where each
 * side is `{observedContentType, mode, data, encoding: JSON | CSV | BASE64}`; one line may hold a
 * batch. CSV rows map onto the schema's field order. A line is in this format when it parses to an
 * object with a `captureData` object — in whatever order SageMaker wrote the keys.
 */
import { parseCsv } from '../../util/csv.js';
import { isObject, jsonLines, type LogFormat } from '../format.js';

/** The body of one side of a capture, decoded to text, and whether it is CSV. */
function decodeCapture(side: unknown): { text: string; csv: boolean } | undefined {
  if (!isObject(side) || typeof side.data !== 'string') return undefined;
  const encoding = typeof side.encoding === 'string' ? side.encoding.toUpperCase() : 'JSON';
  const type = typeof side.observedContentType === 'string' ? side.observedContentType.toLowerCase() : '';
  const text = encoding === 'BASE64' ? Buffer.from(side.data, 'base64').toString('utf8') : side.data;
  const csv = encoding === 'CSV' || (encoding === 'BASE64' && type.includes('csv'));
  return { text, csv };
}

/** Records of a request body: one object, a list, `{instances: […]}`, or CSV rows in schema order. */
function inputRecords(body: { text: string; csv: boolean }, fields: readonly string[]): Record<string, unknown>[] | undefined {
  const row = (cells: unknown[]): Record<string, unknown> => Object.fromEntries(fields.map((f, i) => [f, cells[i]]));
  if (body.csv)
    return parseCsv(body.text)
      .filter((r) => !(r.length === 1 && r[0] === ''))
      .map(row);
  let value: unknown;
  try {
    value = JSON.parse(body.text);
  } catch {
    return undefined;
  }
  if (isObject(value) && Array.isArray(value.instances)) value = value.instances;
  else if (isObject(value) && Array.isArray(value.inputs)) value = value.inputs;
  if (isObject(value)) return [value];
  if (!Array.isArray(value)) return undefined;
  if (value.length > 0 && value.every((v) => !isObject(v) && !Array.isArray(v))) return [row(value)];
  const out: Record<string, unknown>[] = [];
  for (const v of value) {
    if (isObject(v)) out.push(v);
    else if (Array.isArray(v)) out.push(row(v));
    else return undefined;
  }
  return out;
}

/** Predictions of a response body: `{predictions: […]}`, a list, a scalar, or CSV rows. */
function outputValues(body: { text: string; csv: boolean }): unknown[] | undefined {
  if (body.csv) {
    return parseCsv(body.text)
      .filter((r) => !(r.length === 1 && r[0] === ''))
      .map((r) => (r.length === 1 ? csvScalar(r[0]!) : r.map(csvScalar)));
  }
  let value: unknown;
  try {
    value = JSON.parse(body.text);
  } catch {
    return undefined;
  }
  // The serving app answers `{prediction}` for one record and `{predictions: […]}` for a batch.
  if (isObject(value) && 'predictions' in value) value = value.predictions;
  else if (isObject(value) && 'prediction' in value) return [value.prediction];
  return Array.isArray(value) ? value : [value];
}

function csvScalar(cell: string): unknown {
  const t = cell.trim();
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? n : t;
}

export const sagemakerCaptureFormat: LogFormat = {
  name: 'sagemaker-capture',
  accepts: (parsed) => isObject(parsed) && isObject(parsed.captureData),
  parser: ({ csvFields }) =>
    jsonLines((obj, emit) => {
      if (!isObject(obj) || !isObject(obj.captureData)) return 'missing_capture_data';
      const inputBody = decodeCapture(obj.captureData.endpointInput);
      if (!inputBody) return 'missing_input';
      const records = inputRecords(inputBody, csvFields);
      if (!records || records.length === 0) return 'unreadable_input';
      const outputBody = decodeCapture(obj.captureData.endpointOutput);
      const outputs = outputBody ? outputValues(outputBody) : undefined;
      const meta = isObject(obj.eventMetadata) ? obj.eventMetadata : {};
      const id = meta.inferenceId ?? meta.eventId;
      records.forEach((input, i) => {
        let output: unknown;
        let hasOutput = false;
        if (outputs && outputs.length === records.length) {
          output = outputs[i];
          hasOutput = true;
        } else if (outputs && records.length === 1) {
          output = outputs.length === 1 ? outputs[0] : outputs;
          hasOutput = true;
        }
        emit({ ts: meta.inferenceTime, id: records.length === 1 ? id : `${String(id)}#${i}`, input, output, hasOutput });
      });
      return undefined;
    }),
};
