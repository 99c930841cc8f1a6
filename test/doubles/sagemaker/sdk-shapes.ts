/**
 * Request-shape checks against the API models shipped in @aws-sdk/client-sagemaker (and
 * @aws-sdk/client-application-auto-scaling, same awsJson protocol): the
 * SDK's static schemas (`<Operation>$` → input structure, member names, member types and the count
 * of required members) and its enums. A request body (as sent on the wire, awsJson 1.1) is checked
 * against them — not against what mlship happens to send.
 *
 * Schema encoding (from @smithy/core/schema): a structure is `[3, ns, name, traits, memberNames,
 * memberSchemas, requiredCount?]` whose first `requiredCount` members are required; a list is
 * `[1, ns, name, traits, member]`, a map `[2, ns, name, traits, key, value]`, a union `[4, …]` like a
 * structure; `[0, ns, name, traits, simple]` wraps a simple type; a member may be `[schema, traits]`;
 * simple types are numbers: 0 string, 1 number, 2 boolean, 4–7 timestamp, 15 document, 17/19 big
 * numbers, 21/42 blob, 64+n a list of n, 128+n a map of n.
 */
import * as aas from '@aws-sdk/client-application-auto-scaling';
import * as sm from '@aws-sdk/client-sagemaker';

type Ref = unknown;
type SdkModule = Record<string, unknown>;

function deref(ref: Ref): unknown {
  let x = typeof ref === 'function' ? (ref as () => unknown)() : ref;
  // A member wrapper [schema, traits].
  while (Array.isArray(x) && x.length === 2 && (typeof x[0] === 'function' || Array.isArray(x[0]) || typeof x[0] === 'number')) {
    x = typeof x[0] === 'function' ? (x[0] as () => unknown)() : x[0];
  }
  return x;
}

/** Members whose string values must come from an SDK enum. */
const ENUM_MEMBERS: Record<string, string> = {
  'ProductionVariant.InstanceType': 'ProductionVariantInstanceType',
  'CreateModelPackageInput.ModelApprovalStatus': 'ModelApprovalStatus',
  'UpdateModelPackageInput.ModelApprovalStatus': 'ModelApprovalStatus',
  'CaptureOption.CaptureMode': 'CaptureMode',
  'TrafficRoutingConfig.Type': 'TrafficRoutingConfigType',
  'CapacitySize.Type': 'CapacitySizeType',
  'MonitoringScheduleConfig.MonitoringType': 'MonitoringType',
  'MonitoringClusterConfig.InstanceType': 'ProcessingInstanceType',
  'EndpointInput.S3InputMode': 'ProcessingS3InputMode',
  'EndpointInput.S3DataDistributionType': 'ProcessingS3DataDistributionType',
  'MonitoringS3Output.S3UploadMode': 'ProcessingS3UploadMode',
  // Application Auto Scaling
  'RegisterScalableTargetRequest.ServiceNamespace': 'ServiceNamespace',
  'RegisterScalableTargetRequest.ScalableDimension': 'ScalableDimension',
  'PutScalingPolicyRequest.ServiceNamespace': 'ServiceNamespace',
  'PutScalingPolicyRequest.ScalableDimension': 'ScalableDimension',
  'PutScalingPolicyRequest.PolicyType': 'PolicyType',
  'PredefinedMetricSpecification.PredefinedMetricType': 'MetricType',
};

function simpleCheck(code: number, value: unknown, where: string, errors: string[]): void {
  if (code >= 128) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) errors.push(`${where}: expected a map`);
    else for (const [k, v] of Object.entries(value)) simpleCheck(code - 128, v, `${where}.${k}`, errors);
    return;
  }
  if (code >= 64) {
    if (!Array.isArray(value)) errors.push(`${where}: expected a list`);
    else value.forEach((v, i) => simpleCheck(code - 64, v, `${where}[${i}]`, errors));
    return;
  }
  const ok =
    code === 0
      ? typeof value === 'string'
      : code === 1 || code === 17 || code === 19
        ? typeof value === 'number'
        : code === 2
          ? typeof value === 'boolean'
          : code >= 4 && code <= 7
            ? typeof value === 'number' || typeof value === 'string'
            : code === 21 || code === 42
              ? typeof value === 'string'
              : true;
  if (!ok) errors.push(`${where}: wrong type ${typeof value} (schema type ${code})`);
}

function check(sdk: SdkModule, ref: Ref, value: unknown, where: string, errors: string[]): void {
  const schema = deref(ref);
  if (typeof schema === 'number') return simpleCheck(schema, value, where, errors);
  if (!Array.isArray(schema)) return;
  const kind = schema[0] as number;
  if (kind === 0) return check(sdk, schema[4], value, where, errors);
  if (kind === 1) {
    if (!Array.isArray(value)) return void errors.push(`${where}: expected a list`);
    value.forEach((v, i) => check(sdk, schema[4], v, `${where}[${i}]`, errors));
    return;
  }
  if (kind === 2) {
    if (typeof value !== 'object' || value === null) return void errors.push(`${where}: expected a map`);
    for (const [k, v] of Object.entries(value)) check(sdk, schema[5], v, `${where}.${k}`, errors);
    return;
  }
  if (kind === 3 || kind === 4) {
    const name = schema[2] as string;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return void errors.push(`${where}: expected a ${name} structure`);
    const names = schema[4] as string[];
    const members = schema[5] as Ref[];
    const required = typeof schema[6] === 'number' ? (schema[6] as number) : 0;
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!names.includes(key)) errors.push(`${where}: ${name} has no member ${key}`);
    }
    names.forEach((member, i) => {
      const v = obj[member];
      if (v === undefined || v === null) {
        if (i < required) errors.push(`${where}: ${name}.${member} is required`);
        return;
      }
      const enumName = ENUM_MEMBERS[`${name}.${member}`];
      if (enumName && typeof v === 'string') {
        const values = Object.values((sdk[enumName] ?? {}) as Record<string, string>);
        if (values.length > 0 && !values.includes(v)) errors.push(`${where}.${member}: "${v}" is not a ${enumName}`);
      }
      check(sdk, members[i], v, `${where}.${member}`, errors);
    });
  }
}

/** Problems of a request body for an operation of an SDK's service (empty when it matches the model). */
function validateInput(sdk: SdkModule, service: string, operation: string, body: unknown): string[] {
  const op = sdk[`${operation}$`];
  if (!Array.isArray(op) || op[0] !== 9) return [`unknown ${service} operation ${operation}`];
  const errors: string[] = [];
  check(sdk, op[4], body ?? {}, operation, errors);
  return errors;
}

/** Problems of a request body for a SageMaker operation (empty when it matches the SDK's model). */
export function validateSageMakerInput(operation: string, body: unknown): string[] {
  return validateInput(sm as unknown as SdkModule, 'SageMaker', operation, body);
}

/** Problems of a request body for an Application Auto Scaling operation. */
export function validateAutoScalingInput(operation: string, body: unknown): string[] {
  return validateInput(aas as unknown as SdkModule, 'Application Auto Scaling', operation, body);
}
