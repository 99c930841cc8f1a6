/**
 * mlship's own prediction log (DESIGN.md "Prediction log"), what the serving app writes on every
 * target that runs it and mlship reads locally: one JSON object per prediction,
 * `{ts, id, model, version, input: {…}, output, latency_ms}`, and an LLM request's `llm` block (`LlmFacts`). A line is in this format when it parses
 * to an object with an `input` object, whatever the order of its keys.
 */
import { isObject, jsonLines, type LlmFacts, type LogFormat, type PredictionRecord } from '../format.js';

export const mlshipLogFormat: LogFormat = {
  name: 'mlship',
  accepts: (parsed) => isObject(parsed) && isObject(parsed.input),
  parser: () => {
    const record: PredictionRecord = { input: {}, hasOutput: false };
    return jsonLines((obj, emit) => {
      if (!isObject(obj)) return 'not_an_object';
      const input = obj.input;
      if (!isObject(input)) return 'missing_input';
      record.ts = obj.ts;
      record.id = obj.id;
      record.version = obj.version;
      record.input = input;
      record.output = obj.output;
      record.hasOutput = 'output' in obj;
      record.llm = isObject(obj.llm) ? (obj.llm as LlmFacts) : undefined;
      emit(record);
      return undefined;
    });
  },
};
