/**
 * The two schedules mlship keeps in the workspace, as pure request builders (2026-07-01 contract):
 *
 * - the drift monitor: a `CreateMonitor` schedule with one DataDrift signal. Production data is what
 *   the data collector writes for the live deployment (`model_inputs`, a rolling one-day window);
 *   reference data is the training sample pushed with the version. Thresholds come from
 *   `monitoring.drift`; mlship's methods map onto Azure's metric names:
 *     psi → PopulationStabilityIndex · ks → TwoSampleKolmogorovSmirnovTest ·
 *     wasserstein → NormalizedWassersteinDistance · jensenshannon → JensenShannonDistance ·
 *     chi2 → PearsonsChiSquaredTest · auto → JensenShannonDistance (numeric and categorical) ·
 *     linf → no Azure equivalent (JensenShannonDistance is used, and said in the plan).
 *   With `monitoring.alerts.email`, the monitor mails those addresses when the signal fires
 *   (`alertNotificationSettings.emailNotificationSettings.emails`; the signal's notification mode is
 *   `AmlNotification`, the only one the contract has, as the azure-ai-ml SDK sets by default).
 * - retraining: a `CreateJob` schedule whose command job runs `retraining.command` on the project
 *   source (a code asset) in the version's environment (the serving image), copies the artifact into
 *   its `model` output, which Azure ML registers as the next version of the project's model, pending
 *   promotion (`mlship deploy --version vN`).
 */
import { azureDescriptor } from './descriptor.js';
import path from 'node:path';
import type { DriftMethod, Manifest } from '../../manifest/types.js';
import { shellQuote } from '../../deploy/source.js';
import type { ArmResource } from './client.js';
import type { AzureVersionRecord } from './requests.js';
import { workspaceChildId, type AzureResources } from './resources.js';

type NumericMetric = 'JensenShannonDistance' | 'PopulationStabilityIndex' | 'NormalizedWassersteinDistance' | 'TwoSampleKolmogorovSmirnovTest';
type CategoricalMetric = 'JensenShannonDistance' | 'PopulationStabilityIndex' | 'PearsonsChiSquaredTest';

/** mlship's drift method → Azure's metric for numerical and categorical features. */
export const DRIFT_METRICS: Record<DriftMethod, { numerical: NumericMetric; categorical: CategoricalMetric }> = {
  auto: { numerical: 'JensenShannonDistance', categorical: 'JensenShannonDistance' },
  psi: { numerical: 'PopulationStabilityIndex', categorical: 'PopulationStabilityIndex' },
  ks: { numerical: 'TwoSampleKolmogorovSmirnovTest', categorical: 'PearsonsChiSquaredTest' },
  wasserstein: { numerical: 'NormalizedWassersteinDistance', categorical: 'JensenShannonDistance' },
  chi2: { numerical: 'JensenShannonDistance', categorical: 'PearsonsChiSquaredTest' },
  jensenshannon: { numerical: 'JensenShannonDistance', categorical: 'JensenShannonDistance' },
  linf: { numerical: 'JensenShannonDistance', categorical: 'JensenShannonDistance' },
};

/** Azure's default thresholds for its metrics where the manifest sets none. */
const DEFAULT_THRESHOLD: Record<NumericMetric | CategoricalMetric, number> = {
  JensenShannonDistance: 0.1,
  PopulationStabilityIndex: 0.1,
  NormalizedWassersteinDistance: 0.1,
  TwoSampleKolmogorovSmirnovTest: 0.05,
  PearsonsChiSquaredTest: 0.05,
};

function cronTrigger(expression: string) {
  return { triggerType: 'Cron', expression, timeZone: 'UTC' };
}

export function monitorScheduleBody(
  r: AzureResources,
  manifest: Manifest,
  rec: AzureVersionRecord,
  data: { deploymentId: string; production: string; reference: string },
): ArmResource {
  const drift = manifest.monitoring.drift;
  const metrics = DRIFT_METRICS[drift.method];
  const overrides = Object.fromEntries(
    Object.entries(manifest.features.schema).map(([name, spec]) => [
      name,
      spec.type === 'category' || spec.type === 'string' || spec.type === 'boolean' ? 'Categorical' : 'Numerical',
    ]),
  );
  const n = rec.version.replace(/^v/, '');
  return {
    properties: {
      displayName: `${manifest.name} drift monitor`,
      description: `mlship: data drift of ${manifest.name}'s live deployment against its training sample`,
      isEnabled: true,
      tags: { 'mlship.project': manifest.name, 'mlship.version': rec.version },
      trigger: cronTrigger(drift.schedule),
      action: {
        actionType: 'CreateMonitor',
        monitorDefinition: {
          ...(manifest.monitoring.alerts.email.length > 0 && {
            alertNotificationSettings: { emailNotificationSettings: { emails: manifest.monitoring.alerts.email } },
          }),
          computeConfiguration: {
            computeType: 'ServerlessSpark',
            computeIdentity: { computeIdentityType: 'AmlToken' },
            instanceType: 'standard_e4s_v3',
            runtimeVersion: '3.4',
          },
          monitoringTarget: {
            taskType: manifest.model.output === 'value' ? 'Regression' : 'Classification',
            deploymentId: data.deploymentId,
            modelId: workspaceChildId(r, `models/${r.model}/versions/${n}`),
          },
          signals: {
            'data-drift': {
              signalType: 'DataDrift',
              notificationTypes: ['AmlNotification'],
              productionData: {
                inputDataType: 'Rolling',
                jobInputType: 'uri_folder',
                uri: data.production,
                dataContext: 'model_inputs',
                windowSize: 'P1D',
                windowOffset: 'P0D',
              },
              referenceData: { inputDataType: 'Fixed', jobInputType: 'uri_file', uri: data.reference, dataContext: 'training' },
              features: { filterType: 'FeatureSubset', features: Object.keys(manifest.features.schema) },
              featureDataTypeOverride: overrides,
              metricThresholds: [
                { dataType: 'Numerical', metric: metrics.numerical, threshold: { value: drift.threshold ?? DEFAULT_THRESHOLD[metrics.numerical] } },
                { dataType: 'Categorical', metric: metrics.categorical, threshold: { value: drift.threshold ?? DEFAULT_THRESHOLD[metrics.categorical] } },
              ],
            },
          },
        },
      },
    },
  };
}

/** The file a retraining job leaves beside the model it trained: what mlship needs to promote it. */
export const RETRAINED_MARKER = 'mlship.json';

/** What the marker holds: the artifact's sha256 (as mlship and the serving app compute it), its name, the parent version, the run's metrics.json. */
export interface RetrainedMarker {
  sha256: string;
  artifact: string;
  parent: string;
  metrics?: unknown;
}

/**
 * The job's command: run `retraining.command` in the project source (the code asset), copy the
 * artifact into the job's `model` output, and leave the marker beside it. Azure ML substitutes
 * `${{outputs.model}}` and registers the output as the next version of the project's model when the
 * job completes (pending promotion: mlship tags it when it is deployed).
 */
export function trainCommand(manifest: Manifest): string {
  const artifact = manifest.model.relativePath.split(path.sep).join('/');
  return [
    'set -eu',
    manifest.retraining.command,
    'out="${{outputs.model}}"',
    'mkdir -p "$out"',
    `cp -R ${shellQuote(artifact)} "$out/"`,
    `python3 - "$out" ${shellQuote(path.posix.basename(artifact))} "$MLSHIP_PARENT_VERSION" <<'PY'`,
    ...MARKER_SCRIPT,
    'PY',
  ].join('\n');
}

/** Python (the serving image has it) writing the marker; the digest is mlship's (src/util/fs.ts sha256Artifact). */
const MARKER_SCRIPT = [
  'import hashlib, json, os, sys',
  'out, name, parent = sys.argv[1:4]',
  'def digest(p):',
  '    if os.path.isdir(p):',
  '        h = hashlib.sha256()',
  '        for rel in sorted(os.path.relpath(os.path.join(r, f), p).replace(os.sep, "/") for r, _, fs in os.walk(p) for f in fs):',
  '            h.update((rel + "\\0" + digest(os.path.join(p, rel)) + "\\n").encode())',
  '        return h.hexdigest()',
  '    h = hashlib.sha256()',
  '    with open(p, "rb") as f:',
  '        for chunk in iter(lambda: f.read(1 << 20), b""):',
  '            h.update(chunk)',
  '    return h.hexdigest()',
  `with open(os.path.join(out, "${RETRAINED_MARKER}"), "w") as f:`,
  '    marker = {"sha256": digest(os.path.join(out, name)), "artifact": name, "parent": parent}',
  '    if os.path.isfile("metrics.json"):',
  '        with open("metrics.json") as m:',
  '            marker["metrics"] = json.load(m)',
  '    json.dump(marker, f)',
];

/**
 * The command job that retrains: the training command in the project source (code asset `codeId`)
 * and the version's environment; its `model` output is registered as a new version of the model.
 */
export function retrainJobDefinition(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord, codeId: string): Record<string, unknown> {
  return {
    jobType: 'Command',
    displayName: `${manifest.name} retraining`,
    experimentName: `${manifest.name}-retraining`,
    command: trainCommand(manifest),
    codeId,
    environmentId: workspaceChildId(r, `environments/${r.environment}/versions/${rec.version.replace(/^v/, '')}`),
    environmentVariables: { MLSHIP_PARENT_VERSION: rec.version, MLSHIP_TARGET: azureDescriptor.name },
    outputs: { model: { jobOutputType: 'custom_model', mode: 'Upload', assetName: r.model, description: `retrained by mlship from ${rec.version}` } },
    tags: { 'mlship.project': manifest.name, 'mlship.parent': rec.version },
  };
}

export function retrainJobBody(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord, codeId: string): ArmResource {
  return { properties: retrainJobDefinition(r, manifest, rec, codeId) };
}

export function retrainScheduleBody(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord, codeId: string): ArmResource {
  return {
    properties: {
      displayName: `${manifest.name} retraining`,
      description: `mlship: ${manifest.retraining.command} on a schedule; the result is a new version pending promotion`,
      isEnabled: true,
      tags: { 'mlship.project': manifest.name },
      trigger: cronTrigger(manifest.retraining.schedule!),
      action: { actionType: 'CreateJob', jobDefinition: retrainJobDefinition(r, manifest, rec, codeId) },
    },
  };
}
