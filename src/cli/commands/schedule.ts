/** `mlship schedule` — the manifest's schedules as crontab lines; `--install` writes them idempotently (src/monitoring/schedule.ts). */
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const manifest = await ctx.manifest();
  const { scheduleEntries, installSchedule, crontabPath } = await import('../../monitoring/schedule.js');
  const entries = scheduleEntries(manifest);
  const file = typeof options.crontab === 'string' ? crontabPath(ctx.cwd, options.crontab) : undefined;
  const lines = entries.map((e) => `# ${e.command} (${e.source})\n${e.line}`);
  if (options.install !== true && !file) {
    return { data: { entries, installed: false }, text: lines.join('\n') };
  }
  const installed = await installSchedule(manifest, entries, file);
  ctx.output.info(
    installed.changed
      ? `installed ${entries.length} schedule${entries.length === 1 ? '' : 's'} in ${installed.destination}`
      : `${installed.destination} already has these schedules`,
  );
  return { data: { entries, installed: true, ...installed }, text: lines.join('\n') };
};
