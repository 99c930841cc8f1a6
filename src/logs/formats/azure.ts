/**
 * The Azure ML model data collector's records (`model_inputs` lines, with the matching `model_outputs`
 * joined in by src/targets/azure/data-collector.ts) as neutral records: one per row of `data`, the
 * version from the deployment in `source`, the id the scoring call's `x-request-id` (`<id>-<i>` in a batch).
 * A row that is an OpenAI chat or completion body, whose output is its completion (or a streamed
 * answer's events), becomes an LLM record (src/logs/llm-exchange.ts: prompt, completion text, `llm`).
 */
import { isObject, jsonLines, type LogFormat, type PredictionRecord } from '../format.js';
import { llmExchange } from '../llm-exchange.js';

export const COLLECTOR_FORMAT = 'azureml-data-collector';

/** The data collector's `model_inputs` record (with the joined `model_outputs`), as neutral records. */
export const azureCollectorFormat: LogFormat = {
  name: COLLECTOR_FORMAT,
  accepts: (p) => isObject(p) && typeof p.type === 'string' && p.type.startsWith('azureml.inference.') && Array.isArray(p.data),
  parser: () => {
    const record: PredictionRecord = { input: {}, hasOutput: false };
    return jsonLines((obj, emit) => {
      if (!isObject(obj) || !Array.isArray(obj.data)) return 'missing_input';
      const rows = obj.data;
      const outputs = Array.isArray(obj.model_outputs) ? obj.model_outputs : undefined;
      const id = obj.correlationid ?? obj.id;
      record.ts = obj.time;
      record.version = typeof obj.source === 'string' ? /\/deployments\/([^/]+)$/.exec(obj.source)?.[1] : undefined;
      for (const [i, row] of rows.entries()) {
        if (!isObject(row)) return 'missing_input';
        record.id = rows.length > 1 ? `${String(id)}-${i}` : id;
        record.hasOutput = outputs !== undefined && i < outputs.length;
        const exchange = record.hasOutput ? llmExchange(row, outputs![i]) : undefined;
        record.input = exchange ? exchange.input : row;
        record.output = exchange ? exchange.output : outputs?.[i];
        record.llm = exchange?.llm;
        emit(record);
      }
      return undefined;
    });
  },
};
