/**
 * The step runner that is also the plan (src/deploy/steps.ts): `converge` makes zero or one step from a
 * resource's current state, so re-running a deploy changes nothing; `toPlan` and `runSteps` show and
 * run exactly the same steps.
 */
import { describe, expect, it } from 'vitest';
import { converge, convergeAll, runSteps, toPlan, type ConvergeSpec } from '../../src/deploy/steps.js';
import { silentReporter } from '../../src/util/reporter.js';

interface Bucket {
  versioning: boolean;
}

/** A resource held in memory, converged towards `versioning: true`. */
function bucket(initial: Bucket | undefined, options: { immutable?: boolean; reason?: boolean } = {}) {
  const world = { current: initial, calls: [] as string[] };
  const spec: ConvergeSpec<Bucket> = {
    resource: 'bucket b',
    describe: async () => world.current && { ...world.current },
    create: {
      action: 's3:CreateBucket',
      details: { versioning: true },
      run: async () => {
        world.calls.push('create');
        world.current = { versioning: true };
      },
    },
    ...(!options.immutable && {
      update: {
        action: 's3:PutBucketVersioning',
        run: async (current: Bucket) => {
          world.calls.push(`update from ${current.versioning}`);
          world.current = { versioning: true };
        },
      },
    }),
    differs: (c) => (c.versioning ? false : options.reason ? 'versioning is off' : true),
  };
  return { world, spec };
}

describe('converge', () => {
  it('creates a resource that does not exist, then a second run is a no-op', async () => {
    const { world, spec } = bucket(undefined);
    const step = await converge(spec);
    expect(step && toPlan([step])).toEqual([{ action: 's3:CreateBucket', resource: 'bucket b', details: { versioning: true } }]);
    await runSteps([step!], silentReporter);
    expect(world.calls).toEqual(['create']);
    expect(await converge(spec)).toBeUndefined();
  });

  it('updates a resource that differs, with the reason in the plan, and passes the current state to the update', async () => {
    const { world, spec } = bucket({ versioning: false }, { reason: true });
    const step = await converge(spec);
    expect(toPlan([step!])).toEqual([{ action: 's3:PutBucketVersioning', resource: 'bucket b', details: { reason: 'versioning is off' } }]);
    await step!.run();
    expect(world.calls).toEqual(['update from false']);
    expect(await converge(spec)).toBeUndefined();
  });

  it('an update without a reason has no details', async () => {
    const { spec } = bucket({ versioning: false });
    expect(toPlan([(await converge(spec))!])).toEqual([{ action: 's3:PutBucketVersioning', resource: 'bucket b' }]);
  });

  it('an immutable resource that exists is converged, even when it differs', async () => {
    const { world, spec } = bucket({ versioning: false }, { immutable: true });
    expect(await converge(spec)).toBeUndefined();
    expect(world.calls).toEqual([]);
  });

  it('an update may name the resource and word its details from what exists (a full name, an update mask)', async () => {
    const existing = { name: 'projects/p/jobs/42', emails: ['a@x'] };
    const step = await converge<typeof existing>({
      resource: 'monitor',
      describe: async () => existing,
      create: { action: 'Create', run: async () => {} },
      update: { action: 'Update', resource: (job) => job.name, details: (job) => ({ updateMask: job.emails.length ? ['alerts'] : [] }), run: async () => {} },
      differs: () => 'emails changed',
    });
    expect(toPlan([step!])).toEqual([{ action: 'Update', resource: 'projects/p/jobs/42', details: { updateMask: ['alerts'], reason: 'emails changed' } }]);
  });

  it('convergeAll keeps only the steps that change something, in order; planning runs nothing', async () => {
    const a = bucket(undefined);
    const b = bucket({ versioning: true });
    const c = bucket({ versioning: false });
    const steps = await convergeAll([a.spec, b.spec, c.spec] as ConvergeSpec<unknown>[]);
    expect(steps.map((s) => s.action)).toEqual(['s3:CreateBucket', 's3:PutBucketVersioning']);
    expect([...a.world.calls, ...b.world.calls, ...c.world.calls]).toEqual([]);
  });

  it('runSteps runs in order and stops at the first failure', async () => {
    const ran: string[] = [];
    const step = (name: string, fail = false) => ({
      action: name,
      resource: 'r',
      run: async () => {
        ran.push(name);
        if (fail) throw new Error(`${name} failed`);
      },
    });
    await expect(runSteps([step('a'), step('b', true), step('c')], silentReporter)).rejects.toThrow('b failed');
    expect(ran).toEqual(['a', 'b']);
  });
});
