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
 * - retraining: a `CreateJob` schedule whose command job runs `retraining.command` in the version's
 *   environment (the serving image, which holds the project's code and features package), with
 *   `MLSHIP_PARENT_VERSION` so the job registers its result as a new version pending promotion.
 */
import type { DriftMethod, Manifest } from '../../manifest/types.js';
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

export function monitorScheduleBody(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord, data: { deploymentId: string; production: string; reference: string }): ArmResource {
  const drift = manifest.monitoring.drift;
  const metrics = DRIFT_METRICS[drift.method];
  const overrides = Object.fromEntries(Object.entries(manifest.features.schema).map(([name, spec]) => [name, spec.type === 'category' || spec.type === 'string' || spec.type === 'boolean' ? 'Categorical' : 'Numerical']));
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
          ...(manifest.monitoring.alerts.email.length > 0 && { alertNotificationSettings: { emailNotificationSettings: { emails: manifest.monitoring.alerts.email } } }),
          computeConfiguration: { computeType: 'ServerlessSpark', computeIdentity: { computeIdentityType: 'AmlToken' }, instanceType: 'standard_e4s_v3', runtimeVersion: '3.4' },
          monitoringTarget: { taskType: manifest.model.output === 'value' ? 'Regression' : 'Classification', deploymentId: data.deploymentId, modelId: workspaceChildId(r, `models/${r.model}/versions/${n}`) },
          signals: {
            'data-drift': {
              signalType: 'DataDrift',
              notificationTypes: ['AmlNotification'],
              productionData: { inputDataType: 'Rolling', jobInputType: 'uri_folder', uri: data.production, dataContext: 'model_inputs', windowSize: 'P1D', windowOffset: 'P0D' },
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

/** The command job that retrains: the manifest's command in the version's environment. */
export function retrainJobDefinition(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord): Record<string, unknown> {
  return {
    jobType: 'Command',
    displayName: `${manifest.name} retraining`,
    experimentName: `${manifest.name}-retraining`,
    command: manifest.retraining.command,
    environmentId: workspaceChildId(r, `environments/${r.environment}/versions/${rec.version.replace(/^v/, '')}`),
    environmentVariables: { MLSHIP_PARENT_VERSION: rec.version, MLSHIP_TARGET: 'azure' },
    tags: { 'mlship.project': manifest.name, 'mlship.parent': rec.version },
  };
}

export function retrainJobBody(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord): ArmResource {
  return { properties: retrainJobDefinition(r, manifest, rec) };
}

export function retrainScheduleBody(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord): ArmResource {
  return {
    properties: {
      displayName: `${manifest.name} retraining`,
      description: `mlship: ${manifest.retraining.command} on a schedule; the result is a new version pending promotion`,
      isEnabled: true,
      tags: { 'mlship.project': manifest.name },
      trigger: cronTrigger(manifest.retraining.schedule!),
      action: { actionType: 'CreateJob', jobDefinition: retrainJobDefinition(r, manifest, rec) },
    },
  };
}
